"""scheduling's directory: a community's facts come from membership; its host organization is
remembered for a while (asked on nearly every request, changed rarely), a missing one is not."""

import grpc
import pytest

from copnet.kernel.errors import NotFound
from copnet.kernel.plugins import PluginHost
from copnet.kernel.service import ServiceContext
from copnet.kernel.settings import load_settings
from copnet.membership.v1 import membership_pb2 as mpb
from copnet.scheduling import directory as directory_module
from copnet.scheduling.directory import Directory


class Membership:
    def __init__(self):
        self.calls: list[str] = []
        self.time_zone = "America/Los_Angeles"
        self.missing: set[str] = set()

    def call(self, method, request, *, token=None):
        self.calls.append(method)
        if method == "GetCommunity":
            return mpb.GetCommunityResponse(community=mpb.Community(
                id=request.id, name=request.id, host_organization_id="district-1", facilitator_ids=["fac"]))
        if request.id in self.missing:
            raise Missing()
        return mpb.GetOrganizationResponse(organization=mpb.Organization(
            id=request.id, ancestor_ids=["state", "region"], time_zone=self.time_zone))


class Missing(grpc.RpcError):
    def code(self):
        return grpc.StatusCode.NOT_FOUND


@pytest.fixture
def membership():
    return Membership()


@pytest.fixture
def directory(membership):
    found = Directory(ServiceContext("scheduling", load_settings(secret="s" * 40), PluginHost()))
    found.__dict__["_clients"] = {"membership": membership}
    return found


def test_a_community_carries_its_hosts_scope_and_time_zone(directory):
    community = directory.community("plc")
    assert community.scope == ("state", "region", "district-1")
    assert community.time_zone == "America/Los_Angeles"
    assert community.facilitator_ids == ("fac",)


def test_the_host_is_asked_for_once_within_its_time_to_live(directory, membership):
    directory.community("plc")
    directory.community("other-plc")
    assert membership.calls == ["GetCommunity", "GetOrganization", "GetCommunity"]


def test_after_its_time_to_live_the_host_is_asked_for_again(directory, membership, monkeypatch):
    clock = [1000.0]
    monkeypatch.setattr(directory_module.time, "monotonic", lambda: clock[0])
    directory.community("plc")
    membership.time_zone = "America/New_York"
    clock[0] += directory_module.ORGANIZATION_TTL_SECONDS - 1
    assert directory.community("plc").time_zone == "America/Los_Angeles"
    clock[0] += 2
    assert directory.community("plc").time_zone == "America/New_York"
    assert membership.calls.count("GetOrganization") == 2


def test_a_missing_organization_is_not_remembered(directory, membership):
    membership.missing.add("gone")
    for _ in range(2):
        with pytest.raises(NotFound):
            directory.organization("gone")
    assert membership.calls == ["GetOrganization", "GetOrganization"]
