"""Venue keys and overlap warnings (pure parts of conflicts)."""

from __future__ import annotations

import datetime as dt

from copnet.scheduling import conflicts
from copnet.scheduling.conflicts import Booking
from copnet.scheduling.models import Occurrence
from copnet.scheduling.v1 import scheduling_pb2

T0 = dt.datetime(2026, 10, 13, 23, tzinfo=dt.UTC)
HOUR = dt.timedelta(hours=1)


def test_a_venue_key_ignores_case_and_spacing_and_a_virtual_session_books_no_room():
    assert conflicts.venue_key("in_person", " County Office  Room 4 ", "1 Main St") == "county office room 4|1 main st"
    assert conflicts.venue_key("hybrid", "county office room 4", " 1  MAIN st") == "county office room 4|1 main st"
    assert conflicts.venue_key("in_person", "Room 4", "") == "room 4|"
    assert conflicts.venue_key("in_person", "Room 4", "2 Main St") != conflicts.venue_key("in_person", "Room 4", "")
    assert conflicts.venue_key("virtual", "Room 4", "1 Main St") == ""
    assert conflicts.venue_key("in_person", "  ", "1 Main St") == ""


def test_overlap_is_half_open():
    assert conflicts.overlaps(T0, T0 + HOUR, T0 + HOUR / 2, T0 + 2 * HOUR)
    assert not conflicts.overlaps(T0, T0 + HOUR, T0 + HOUR, T0 + 2 * HOUR)
    assert conflicts.overlaps(T0, T0 + 3 * HOUR, T0 + HOUR, T0 + 2 * HOUR)


def other(n: int, start: dt.datetime, facilitators=("f-other",), community="c2") -> Occurrence:
    return Occurrence(id=f"s{n}:x", session_id=f"s{n}", community_id=community, original_start=start,
                      start_at=start, end_at=start + HOUR, title=f"other {n}", facilitator_ids=list(facilitators))


def test_warnings_name_facilitators_and_participants_of_overlapping_occurrences_only():
    mine = [Booking("me:1", T0, T0 + 2 * HOUR), Booking("me:2", T0 + 24 * HOUR, T0 + 26 * HOUR)]
    others = [other(1, T0 + HOUR, facilitators=("fac",)), other(2, T0 + 2 * HOUR), other(3, T0 + 25 * HOUR)]
    members = {"c2": {"member", "someone-else"}}
    found = conflicts.overlap_warnings(mine, others, {"fac"}, {"member", "fac", "not-there"},
                                       lambda o: set(o.facilitator_ids) | members[o.community_id])
    assert [(w.occurrence_id, w.other_occurrence_id, w.person_id, w.kind) for w in found] == [
        ("me:1", "s1:x", "fac", scheduling_pb2.ConflictWarning.KIND_FACILITATOR_OVERLAP),
        ("me:1", "s1:x", "member", scheduling_pb2.ConflictWarning.KIND_PARTICIPANT_OVERLAP),
        ("me:2", "s3:x", "member", scheduling_pb2.ConflictWarning.KIND_PARTICIPANT_OVERLAP),
    ]
    assert found[0].other_session_id == "s1" and found[0].other_community_id == "c2"
    assert found[0].other_start_time.ToDatetime(tzinfo=dt.UTC) == T0 + HOUR
    assert "other 1" in found[0].message


def test_warnings_are_capped():
    mine = [Booking(f"me:{n}", T0 + n * 24 * HOUR, T0 + n * 24 * HOUR + HOUR) for n in range(150)]
    others = [other(n, T0 + n * 24 * HOUR) for n in range(150)]
    found = conflicts.overlap_warnings(mine, others, set(), {"member"}, lambda o: {"member"})
    assert len(found) == conflicts.MAX_WARNINGS
