"""Which snapshot of a community reflection counts by: the most recent one membership made."""

from __future__ import annotations

import datetime as dt

from copnet.kernel.timestamps import timestamp
from copnet.membership.v1 import membership_pb2
from copnet.reflection.counts import Placement
from copnet.reflection.models import CommunityPlacement

CREATED = dt.datetime(2026, 9, 1, 12, 0, tzinfo=dt.UTC)
MOVED = CREATED + dt.timedelta(days=3)


def community(update_time: dt.datetime | None = None, county_office: str = "coe-a") -> membership_pb2.Community:
    message = membership_pb2.Community(id="plc", host_organization_id="usd", county_office_id=county_office,
                                       create_time=timestamp(CREATED))
    if update_time is not None:
        message.update_time.CopyFrom(timestamp(update_time))
    return message


def known(as_of: dt.datetime | None) -> CommunityPlacement:
    return CommunityPlacement(community_id="plc", host_organization_id="usd", county_office_id="coe-b", as_of=as_of)


def test_a_snapshot_is_as_of_its_last_update_or_else_its_creation():
    assert Placement.of(community()).as_of == CREATED
    assert Placement.of(community(MOVED)) == Placement("plc", "usd", "coe-a", MOVED)


def test_a_snapshot_older_than_what_is_known_does_not_replace_it():
    assert Placement.of(community()).supersedes(None)
    assert Placement.of(community(MOVED)).supersedes(known(CREATED))
    assert Placement.of(community(MOVED)).supersedes(known(MOVED))  # applying the same change again is harmless
    assert not Placement.of(community()).supersedes(known(MOVED))


def test_an_event_without_a_snapshot_only_places_a_community_not_known_yet():
    flat = Placement("plc", "usd", "coe-a", None)
    assert flat.supersedes(None)
    assert not flat.supersedes(known(None))
    assert not flat.supersedes(known(CREATED))
    assert Placement.of(community()).supersedes(known(None))
