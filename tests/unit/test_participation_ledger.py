"""Facts and roll-ups kept from events, on an in-memory unit of work: a teacher counts once per
organization however many communities they are in, an event applied twice or an older snapshot
after a newer one changes nothing, and attendance moves rates and hours by the difference."""

from __future__ import annotations

import copy
import datetime as dt

from copnet.kernel.timestamps import timestamp
from copnet.membership.v1 import membership_pb2
from copnet.reflection.participation import ledger
from copnet.reflection.participation.directory import Community, Person
from copnet.reflection.participation.models import (
    ParticipationRollup,
    ParticipationYear,
)
from copnet.scheduling.v1 import scheduling_pb2

YEAR = "2026-27"
T0 = dt.datetime(2026, 9, 1, 12, tzinfo=dt.UTC)
CHAIN = (("s1", "school"), ("d1", "district"), ("coe", "county_office"), ("region", "region"))
OTHER_SCHOOL = (("s2", "school"), ("d2", "district"), ("coe", "county_office"), ("region", "region"))


def as_read(value):
    """What the service's database client gives back: instants are aware (UTC)."""
    if isinstance(value, dict):
        return {key: as_read(item) for key, item in value.items()}
    if isinstance(value, list):
        return [as_read(item) for item in value]
    if isinstance(value, dt.datetime) and value.tzinfo is None:
        return value.replace(tzinfo=dt.UTC)
    return value


class MemoryUow:
    """find_one / update_one ($set, $inc, upsert) by _id over dicts: the part of UnitOfWork the ledger uses."""

    def __init__(self):
        self.collections: dict[str, dict[str, dict]] = {}

    def _docs(self, cls):
        return self.collections.setdefault(cls._get_collection_name(), {})

    def find_one(self, cls, filter):
        son = self._docs(cls).get(filter["_id"])
        return None if son is None else cls._from_son(as_read(copy.deepcopy(son)))

    def update_one(self, cls, filter, update, *, upsert=False):
        docs = self._docs(cls)
        son = docs.get(filter["_id"])
        if son is None:
            if not upsert:
                return
            son = docs[filter["_id"]] = {"_id": filter["_id"]}
        son.update(copy.deepcopy(update.get("$set", {})))
        for name, step in update.get("$inc", {}).items():
            son[name] = son.get(name, 0) + step


class Directory:
    def __init__(self):
        self.people = {"ana": Person("ana", CHAIN, True, T0), "ben": Person("ben", CHAIN, True, T0),
                       "cy": Person("cy", OTHER_SCHOOL, True, T0)}

    def community(self, community_id):
        return Community(community_id, YEAR, "d1", "coe", "region")

    def person(self, person_id):
        return self.people.get(person_id)


def registration(person, community, status=membership_pb2.REGISTRATION_STATUS_CONFIRMED, at=T0, cancelled=None):
    message = membership_pb2.Registration(id=f"{community}-{person}", person_id=person, community_id=community,
                                          status=status, create_time=timestamp(at))
    if cancelled:
        message.cancel_time.CopyFrom(timestamp(cancelled))
    return message


def cancelled(person, community, at):
    return registration(person, community, membership_pb2.REGISTRATION_STATUS_CANCELLED, cancelled=at)


def record(person, status, minutes, at, occurrence="sess:20260910T230000Z", community="plc-a"):
    return scheduling_pb2.AttendanceRecord(occurrence_id=occurrence, community_id=community, person_id=person,
                                           status=status, attended_minutes=minutes, record_time=timestamp(at))


def rollup(uow, scope):
    return uow.find_one(ParticipationRollup, {"_id": f"{scope}|{YEAR}"})


def teachers(uow, scope):
    found = rollup(uow, scope)
    return found.teachers if found else 0


def apply(uow, *registrations):
    directory = Directory()
    for message in registrations:
        ledger.registration_changed(uow, directory, message)


def test_a_teacher_in_two_communities_counts_once_per_organization_and_once_per_community():
    uow = MemoryUow()
    apply(uow, registration("ana", "plc-a"), registration("ana", "plc-b"))
    assert [teachers(uow, scope) for scope, _ in CHAIN] == [1, 1, 1, 1]
    assert teachers(uow, "plc-a") == 1 and teachers(uow, "plc-b") == 1


def test_the_same_event_twice_changes_nothing():
    uow = MemoryUow()
    apply(uow, registration("ana", "plc-a"), registration("ana", "plc-a"))
    assert teachers(uow, "coe") == 1 and teachers(uow, "plc-a") == 1


def test_cancelling_one_of_two_places_keeps_the_teacher_and_cancelling_both_removes_them():
    uow = MemoryUow()
    apply(uow, registration("ana", "plc-a"), registration("ana", "plc-b"))
    apply(uow, cancelled("ana", "plc-a", T0 + dt.timedelta(days=1)))
    assert teachers(uow, "coe") == 1 and teachers(uow, "plc-a") == 0
    apply(uow, cancelled("ana", "plc-b", T0 + dt.timedelta(days=1)))
    assert teachers(uow, "coe") == 0 and rollup(uow, "region").schools_reached == 0


def test_an_older_snapshot_after_a_newer_one_does_not_bring_a_cancelled_place_back():
    uow = MemoryUow()
    apply(uow, registration("ana", "plc-a"), cancelled("ana", "plc-a", T0 + dt.timedelta(days=2)))
    apply(uow, registration("ana", "plc-a"))  # redelivered late: as of its creation only
    assert teachers(uow, "plc-a") == 0 and teachers(uow, "coe") == 0


def test_a_waitlisted_place_reaches_nobody_until_promoted():
    uow = MemoryUow()
    apply(uow, registration("ana", "plc-a", membership_pb2.REGISTRATION_STATUS_WAITLISTED))
    assert teachers(uow, "coe") == 0
    promoted = registration("ana", "plc-a")
    promoted.promote_time.CopyFrom(timestamp(T0 + dt.timedelta(hours=1)))
    apply(uow, promoted)
    assert teachers(uow, "coe") == 1


def test_schools_and_districts_are_reached_by_their_first_teacher_only():
    uow = MemoryUow()
    apply(uow, registration("ana", "plc-a"), registration("ben", "plc-a"), registration("cy", "plc-a"))
    county = rollup(uow, "coe")
    assert (county.teachers, county.schools_reached, county.districts_reached) == (3, 2, 2)
    assert rollup(uow, "d1").schools_reached == 1 and rollup(uow, "s1").parent_id == "d1"


def test_every_change_moves_the_years_revision_for_the_published_event():
    uow = MemoryUow()
    apply(uow, registration("ana", "plc-a"))
    first = uow.find_one(ParticipationYear, {"_id": YEAR}).revision
    apply(uow, registration("ana", "plc-a"))
    assert uow.find_one(ParticipationYear, {"_id": YEAR}).revision == first


def test_attendance_moves_rate_and_minutes_by_the_difference_and_ignores_an_older_record():
    uow, directory = MemoryUow(), Directory()
    apply(uow, registration("ana", "plc-a"))
    ledger.attendance_recorded(uow, directory, record("ana", scheduling_pb2.ATTENDANCE_STATUS_PRESENT, 90, T0))
    ledger.attendance_recorded(uow, directory, record("ana", scheduling_pb2.ATTENDANCE_STATUS_PRESENT, 90, T0))
    county = rollup(uow, "coe")
    assert (county.expected_records, county.attended_records, county.attended_minutes) == (1, 1, 90)
    later = T0 + dt.timedelta(hours=2)
    ledger.attendance_recorded(uow, directory, record("ana", scheduling_pb2.ATTENDANCE_STATUS_LATE, 30, later))
    ledger.attendance_recorded(uow, directory, record("ana", scheduling_pb2.ATTENDANCE_STATUS_ABSENT, 0, T0))
    county, community = rollup(uow, "coe"), rollup(uow, "plc-a")
    assert (county.expected_records, county.attended_records, county.attended_minutes) == (1, 1, 30)
    assert (community.expected_records, community.attended_minutes) == (1, 30)
    ledger.attendance_recorded(uow, directory, record("ana", scheduling_pb2.ATTENDANCE_STATUS_EXCUSED, 0,
                                                      later + dt.timedelta(hours=1)))
    county = rollup(uow, "coe")
    assert (county.expected_records, county.attended_records, county.attended_minutes) == (0, 0, 0)


def test_attendance_before_the_registration_is_counted_where_the_person_is_placed():
    uow = MemoryUow()
    ledger.attendance_recorded(uow, Directory(), record("cy", scheduling_pb2.ATTENDANCE_STATUS_PRESENT, 60, T0))
    assert rollup(uow, "d2").attended_minutes == 60 and teachers(uow, "d2") == 0


def test_a_standing_community_counts_in_the_school_year_of_the_meeting():
    assert ledger.occurrence_start("sess:20270115T170000Z") == dt.datetime(2027, 1, 15, 17)
    assert ledger.occurrence_start("no-start") is None
