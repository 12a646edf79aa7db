"""Checking an attendance sheet before anything is written: minutes per status, who may be on it,
and every bad row reported at once."""

from __future__ import annotations

import datetime as dt

import pytest
from copnet.kernel.errors import FailedPrecondition, FieldViolation, InvalidArgument
from copnet.scheduling.attendance import (
    MAX_ENTRIES,
    MAX_REPORTED_ENTRIES,
    Entry,
    check_recordable,
    checked_entries,
)
from copnet.scheduling.models import Occurrence
from copnet.scheduling.v1 import scheduling_pb2

PRESENT, LATE, ABSENT, EXCUSED = (scheduling_pb2.ATTENDANCE_STATUS_PRESENT, scheduling_pb2.ATTENDANCE_STATUS_LATE, scheduling_pb2.ATTENDANCE_STATUS_ABSENT,
                                  scheduling_pb2.ATTENDANCE_STATUS_EXCUSED)
PEOPLE = {"alice", "ben", "carla", "dana"}


def entry(person_id: str, status: int, minutes: int | None = None, note: str = "") -> scheduling_pb2.AttendanceEntry:
    made = scheduling_pb2.AttendanceEntry(person_id=person_id, status=status, note=note)
    if minutes is not None:
        made.attended_minutes = minutes
    return made


def check(*entries: scheduling_pb2.AttendanceEntry, length: int = 180) -> list[Entry]:
    return checked_entries(list(entries), length=length, community_id="plc-grade4", people=PEOPLE)


def refusal(*entries: scheduling_pb2.AttendanceEntry, length: int = 180) -> InvalidArgument:
    with pytest.raises(InvalidArgument) as raised:
        check(*entries, length=length)
    return raised.value


def test_each_status_gets_its_minutes():
    assert check(entry("alice", PRESENT), entry("ben", LATE, 90, note="  traffic on the 101 "), entry("carla", ABSENT),
                 entry("dana", EXCUSED, 0)) == [
        Entry("alice", "present", 180, ""), Entry("ben", "late", 90, "traffic on the 101"),
        Entry("carla", "absent", 0, ""), Entry("dana", "excused", 0, "")]


def test_present_may_give_fewer_minutes_including_none_and_late_may_give_the_whole_length():
    assert check(entry("alice", PRESENT, 150), entry("ben", PRESENT, 0), entry("carla", LATE, 180)) == [
        Entry("alice", "present", 150, ""), Entry("ben", "present", 0, ""), Entry("carla", "late", 180, "")]


@pytest.mark.parametrize(("bad", "field", "reason"), [
    (entry("ben", LATE), "entries[0].attended_minutes", "MINUTES_REQUIRED"),
    (entry("ben", LATE, 181), "entries[0].attended_minutes", "MINUTES_EXCEED_OCCURRENCE"),
    (entry("ben", PRESENT, 240), "entries[0].attended_minutes", "MINUTES_EXCEED_OCCURRENCE"),
    (entry("ben", ABSENT, 30), "entries[0].attended_minutes", "MINUTES_NOT_ALLOWED"),
    (entry("ben", EXCUSED, 1), "entries[0].attended_minutes", "MINUTES_NOT_ALLOWED"),
    (entry("ben", PRESENT, -5), "entries[0].attended_minutes", "INVALID_FIELD"),
    (entry("", PRESENT), "entries[0].person_id", "INVALID_FIELD"),
    (entry("ben", scheduling_pb2.ATTENDANCE_STATUS_UNSPECIFIED), "entries[0].status", "INVALID_FIELD"),
    (entry("ben", 9), "entries[0].status", "INVALID_FIELD"),
    (entry("ben", PRESENT, note="x" * 2001), "entries[0].note", "TOO_LONG"),
])
def test_a_bad_row_names_its_field_and_reason(bad, field, reason):
    error = refusal(bad)
    assert (error.reason, [f.field for f in error.fields]) == (reason, [field])


def test_someone_outside_the_community_is_named_with_the_community():
    error = refusal(entry("alice", PRESENT), entry("zoe", PRESENT))
    assert error.reason == "NOT_A_MEMBER"
    assert error.fields == [FieldViolation("entries[1].person_id",
                                           "'zoe' is not a member or facilitator of community 'plc-grade4'")]


def test_a_person_listed_twice_is_refused_at_the_second_row():
    error = refusal(entry("alice", PRESENT), entry("ben", ABSENT), entry("alice", LATE, 60))
    assert (error.reason, [f.field for f in error.fields]) == ("DUPLICATE_PERSON", ["entries[2].person_id"])


def test_every_bad_row_is_reported_together_with_the_first_rows_reason():
    error = refusal(entry("alice", PRESENT), entry("zoe", PRESENT), entry("ben", LATE), entry("carla", ABSENT, 10))
    assert error.reason == "NOT_A_MEMBER"
    assert [f.field for f in error.fields] == ["entries[1].person_id", "entries[2].attended_minutes",
                                               "entries[3].attended_minutes"]
    assert error.message.startswith("3 of 4 entries were refused")


def test_a_sheet_has_one_to_five_hundred_rows():
    assert [f.field for f in refusal().fields] == ["entries"]
    many = [entry(f"p{n}", ABSENT) for n in range(MAX_ENTRIES + 1)]
    with pytest.raises(InvalidArgument) as raised:
        checked_entries(many, length=60, community_id="c", people={f"p{n}" for n in range(MAX_ENTRIES + 1)})
    assert raised.value.reason == "TOO_MANY_ENTRIES"
    assert len(checked_entries(many[:MAX_ENTRIES], length=60, community_id="c",
                               people={f"p{n}" for n in range(MAX_ENTRIES)})) == MAX_ENTRIES


def occurrence(status: str, start: dt.datetime) -> Occurrence:
    return Occurrence(id="s:20261013T230000Z", session_id="s", community_id="c", original_start=start,
                      start_at=start, end_at=start + dt.timedelta(hours=3), status=status)


def test_attendance_is_for_occurrences_that_started_and_were_not_cancelled():
    start = dt.datetime(2026, 10, 13, 23, tzinfo=dt.UTC)
    check_recordable(occurrence("scheduled", start), start)
    check_recordable(occurrence("moved", start), start + dt.timedelta(days=30))
    with pytest.raises(FailedPrecondition) as raised:
        check_recordable(occurrence("scheduled", start), start - dt.timedelta(seconds=1))
    assert raised.value.reason == "OCCURRENCE_NOT_STARTED"
    with pytest.raises(FailedPrecondition) as raised:
        check_recordable(occurrence("cancelled", start), start + dt.timedelta(days=1))
    assert raised.value.reason == "OCCURRENCE_CANCELLED"


def test_a_sheet_of_strangers_lists_the_first_twenty_so_the_error_fits_in_grpc_trailers():
    strangers = [entry(f"stranger-{n}", PRESENT) for n in range(MAX_ENTRIES)]
    with pytest.raises(InvalidArgument) as raised:
        checked_entries(strangers, length=180, community_id="c", people=PEOPLE)
    assert raised.value.reason == "NOT_A_MEMBER"
    assert [f.field for f in raised.value.fields] == [f"entries[{n}].person_id" for n in range(MAX_REPORTED_ENTRIES)]
    assert raised.value.message.startswith(f"{MAX_ENTRIES} of {MAX_ENTRIES} entries were refused (the first 20")
