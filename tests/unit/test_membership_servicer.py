"""The membership servicer is one class made of one part per area: the parts must not collide."""

from __future__ import annotations

import collections

from copnet.membership.servicer import MembershipServicer
from copnet.membership.v1 import membership_pb2


def area_parts():
    return [base for base in MembershipServicer.__mro__[1:] if base.__module__.startswith("copnet.membership.")
            and base.__name__.endswith("Api")]


def test_no_two_areas_define_the_same_name():
    owners = collections.defaultdict(list)
    for part in area_parts():
        for name in vars(part):
            if not (name.startswith("__") and name.endswith("__")) and name != "ctx":
                owners[name].append(part.__name__)
    assert {name: parts for name, parts in owners.items() if len(parts) > 1} == {}


def test_every_rpc_of_the_proto_is_implemented_by_exactly_one_area():
    rpcs = membership_pb2.DESCRIPTOR.services_by_name["MembershipService"].methods_by_name
    for rpc in rpcs:
        implementers = [part.__name__ for part in area_parts() if rpc in vars(part)]
        assert len(implementers) == 1, f"{rpc}: {implementers or 'not implemented'}"
