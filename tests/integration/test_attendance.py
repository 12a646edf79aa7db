"""Attendance, participation and learning hours over the real stack: weekly 3-hour convenings
that already happened this program year, recorded in bulk by their facilitator, read back as
rates, hours and the events on the JetStream stream."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from dataclasses import dataclass

import grpc
import pymongo
import pytest
from copnet.events.v1 import events_pb2
from copnet.scheduling.directory import program_year_bounds
from copnet.scheduling.v1 import scheduling_pb2

from tests.integration.jetstream_events import about, wait_for_types
from tests.integration.scheduling_world import TZ, SchedulingWorld, current_program_year
from tests.integration.signup_world import rpc_error

pytestmark = pytest.mark.integration

RECORDED = "copnet.scheduling.attendance.recorded"
EVENTS = "scheduling.attendance.*"
PRESENT, LATE, ABSENT, EXCUSED = (scheduling_pb2.ATTENDANCE_STATUS_PRESENT, scheduling_pb2.ATTENDANCE_STATUS_LATE, scheduling_pb2.ATTENDANCE_STATUS_ABSENT,
                                  scheduling_pb2.ATTENDANCE_STATUS_EXCUSED)
UNSPECIFIED = scheduling_pb2.ATTENDANCE_STATUS_UNSPECIFIED
PACIFIC = zoneinfo.ZoneInfo(TZ)
WEEKS = 4


def past_program_year(now: dt.datetime) -> str:
    """The current program year once it is old enough to hold a month of weekly convenings that
    already happened; in its first weeks, the one before."""
    current = current_program_year(now)
    year_start, _ = program_year_bounds(current, TZ)
    if now - year_start >= dt.timedelta(weeks=WEEKS + 2):
        return current
    return current_program_year(year_start - dt.timedelta(days=1))


class AttendanceWorld(SchedulingWorld):
    """Communities of one program with convenings in the past, and their facilitator Dana."""

    def __init__(self, services, prefix: str):
        super().__init__(services, prefix)
        self.now = dt.datetime.now(dt.UTC)
        self.year = past_program_year(self.now)
        self.year_start, self.year_end = program_year_bounds(self.year, TZ)
        self.program_id = self.program("prog", program_year=self.year)
        self.alice, self.ben, self.carla, self.dana, self.zoe = (
            self.person(name) for name in ("alice", "ben", "carla", "dana", "zoe"))
        self.facilitator = self.facilitator_token(self.dana)
        self._scheduling_mongo = pymongo.MongoClient(services.mongodb_uri)
        self.scheduling_db = self._scheduling_mongo[services.settings.database_name("scheduling")]

    def tuesday_4pm(self, weeks_back: int) -> dt.datetime:
        """4 pm Pacific on a Tuesday about `weeks_back` weeks before now (or the past year's end)."""
        day = (min(self.now, self.year_end) - dt.timedelta(weeks=weeks_back)).astimezone(PACIFIC).date()
        day -= dt.timedelta(days=(day.weekday() - 1) % 7)
        return dt.datetime(day.year, day.month, day.day, 16, tzinfo=PACIFIC).astimezone(dt.UTC)

    def community_with_series(self, name: str, members: list[str], *, program_id: str | None = None,
                              facilitator: str | None = None) -> tuple[str, list[scheduling_pb2.Occurrence]]:
        """A community of the program and its WEEKS weekly 3-hour convenings, all started already."""
        community_id = self.program_community(name, program_id or self.program_id, members=members,
                                              facilitators=[facilitator or self.dana])
        session = self.session(community_id, self.tuesday_4pm(WEEKS + 1), minutes=180, title="Math talk",
                               recurrence=f"FREQ=WEEKLY;COUNT={WEEKS}").session
        occurrences = self.occurrences(session.id)
        assert len(occurrences) == WEEKS
        return community_id, occurrences

    def occurrences(self, session_id: str) -> list[scheduling_pb2.Occurrence]:
        found = self.scheduling(self.admin).ListOccurrences(scheduling_pb2.ListOccurrencesRequest(session_id=session_id, page_size=100)).occurrences
        return sorted(found, key=lambda o: o.start_time.ToDatetime())

    def record(self, occurrence_id: str, *entries: scheduling_pb2.AttendanceEntry, token: str | None = None):
        return self.scheduling(token or self.facilitator).RecordAttendance(scheduling_pb2.RecordAttendanceRequest(
            occurrence_id=occurrence_id, entries=list(entries))).records

    def stored(self, occurrence_id: str) -> list[dict]:
        return list(self.scheduling_db.attendance.find({"occurrence_id": occurrence_id}))

    def close(self) -> None:
        self._scheduling_mongo.close()
        super().close()


def entry(person_id: str, status: int, minutes: int | None = None, note: str = "") -> scheduling_pb2.AttendanceEntry:
    made = scheduling_pb2.AttendanceEntry(person_id=person_id, status=status, note=note)
    if minutes is not None:
        made.attended_minutes = minutes
    return made


def record_id(occurrence: scheduling_pb2.Occurrence, person_id: str) -> str:
    return f"{occurrence.id}|{person_id}"


def recorded(event) -> events_pb2.AttendanceRecorded:
    return event.payload(events_pb2.AttendanceRecorded)


def tally(participation: scheduling_pb2.Participation) -> tuple:
    return (participation.expected, participation.attended, participation.late, participation.absent,
            participation.excused, participation.unrecorded, participation.attended_minutes)


@pytest.fixture(scope="module")
def world(services):
    made = AttendanceWorld(services, "att")
    yield made
    made.close()


# -- recording -------------------------------------------------------------------------------------
def test_a_sheet_is_recorded_in_bulk_and_a_resent_sheet_changes_nothing(world, services):
    community, occurrences = world.community_with_series("bulk", [world.alice, world.ben, world.carla])
    first = occurrences[0]
    records = world.record(first.id, entry(world.alice, PRESENT), entry(world.ben, LATE, 90, note="bus was late"),
                           entry(world.carla, ABSENT), entry(world.dana, PRESENT))
    assert [(r.person_id, r.status, r.attended_minutes) for r in records] == [
        (world.alice, PRESENT, 180), (world.ben, LATE, 90), (world.carla, ABSENT, 0), (world.dana, PRESENT, 180)]
    assert {(r.occurrence_id, r.session_id, r.community_id, r.program_id, r.recorded_by) for r in records} == {
        (first.id, first.session_id, community, world.program_id, world.dana)}
    assert records[1].note == "bus was late"

    again = world.record(first.id, entry(world.alice, PRESENT), entry(world.ben, LATE, 90, note="bus was late"))
    assert list(again) == list(records[:2]), "the same sheet again leaves the records as they were"

    [changed] = world.record(first.id, entry(world.carla, EXCUSED, note="district training"))
    assert (changed.status, changed.attended_minutes, changed.note) == (EXCUSED, 0, "district training")
    assert len(world.stored(first.id)) == 4

    # One event per record written: Carla's twice (recorded, then changed), everyone else's once.
    [absent, excused] = wait_for_types(services, EVENTS, record_id(first, world.carla), [RECORDED, RECORDED])
    assert (recorded(absent).record.status, recorded(absent).previous_status) == (ABSENT, UNSPECIFIED)
    assert (recorded(excused).record.status, recorded(excused).previous_status) == (EXCUSED, ABSENT)
    assert world.district in excused.scope and world.county in excused.scope
    for person, status in ((world.alice, PRESENT), (world.ben, LATE), (world.dana, PRESENT)):
        [event] = about(services, EVENTS, record_id(first, person))
        assert (recorded(event).record.status, recorded(event).previous_status) == (status, UNSPECIFIED)


def test_one_person_outside_the_community_refuses_the_whole_sheet(world):
    community, occurrences = world.community_with_series("outsider", [world.alice, world.ben])
    error = rpc_error(world.record, occurrences[1].id, entry(world.alice, PRESENT), entry(world.zoe, PRESENT),
                      entry(world.ben, PRESENT))
    assert (error.code, error.reason) == (grpc.StatusCode.INVALID_ARGUMENT, "NOT_A_MEMBER")
    assert [f.field for f in error.fields] == ["entries[1].person_id"]
    assert world.zoe in error.message and community in error.message
    assert world.stored(occurrences[1].id) == [], "nothing of the sheet was written, not even the good rows"


def test_late_without_minutes_is_refused_with_nothing_written(world):
    _, occurrences = world.community_with_series("late", [world.alice, world.ben])
    error = rpc_error(world.record, occurrences[0].id, entry(world.alice, PRESENT), entry(world.ben, LATE))
    assert (error.code, error.reason) == (grpc.StatusCode.INVALID_ARGUMENT, "MINUTES_REQUIRED")
    assert [f.field for f in error.fields] == ["entries[1].attended_minutes"]
    error = rpc_error(world.record, occurrences[0].id, entry(world.ben, LATE, 181))
    assert error.reason == "MINUTES_EXCEED_OCCURRENCE"
    assert world.stored(occurrences[0].id) == []


def test_attendance_waits_for_the_occurrence_to_start_and_is_not_for_cancelled_ones(world):
    current = current_program_year(world.now)
    program_id = world.program("now", program_year=current)
    community = world.program_community("future", program_id, members=[world.alice], facilitators=[world.dana])
    _, year_end = program_year_bounds(current, TZ)
    start = min(world.now + dt.timedelta(days=1), year_end - dt.timedelta(hours=4)).replace(microsecond=0)
    session = world.session(community, start, minutes=60).session
    [upcoming] = world.occurrences(session.id)
    error = rpc_error(world.record, upcoming.id, entry(world.alice, PRESENT))
    assert (error.code, error.reason) == (grpc.StatusCode.FAILED_PRECONDITION, "OCCURRENCE_NOT_STARTED")

    _, occurrences = world.community_with_series("cancelled", [world.alice])
    world.scheduling(world.facilitator).CancelOccurrence(scheduling_pb2.CancelOccurrenceRequest(id=occurrences[2].id, reason="snow day"))
    error = rpc_error(world.record, occurrences[2].id, entry(world.alice, PRESENT))
    assert (error.code, error.reason) == (grpc.StatusCode.FAILED_PRECONDITION, "OCCURRENCE_CANCELLED")
    error = rpc_error(world.record, "no-such-session:20261013T230000Z", entry(world.alice, PRESENT))
    assert (error.code, error.reason) == (grpc.StatusCode.NOT_FOUND, "OCCURRENCE_NOT_FOUND")
    assert world.stored(upcoming.id) == world.stored(occurrences[2].id) == []


def test_only_the_communitys_facilitators_and_managers_record_and_list_its_attendance(world):
    community, occurrences = world.community_with_series("access", [world.alice, world.ben])
    error = rpc_error(world.record, occurrences[0].id, entry(world.ben, ABSENT), token=world.token_of(world.alice))
    assert (error.code, error.reason) == (grpc.StatusCode.PERMISSION_DENIED, "OUT_OF_SCOPE")
    world.record(occurrences[0].id, entry(world.alice, PRESENT), entry(world.ben, ABSENT), token=world.manager())
    world.record(occurrences[1].id, entry(world.alice, LATE, 45), entry(world.ben, PRESENT))

    def listed(token: str, **where) -> list[tuple[str, str]]:
        pages, page_token = [], ""
        while True:
            reply = world.scheduling(token).ListAttendance(scheduling_pb2.ListAttendanceRequest(
                page_size=3, page_token=page_token, **where))
            pages += [(r.occurrence_id, r.person_id) for r in reply.records]
            page_token = reply.next_page_token
            if not page_token:
                return pages

    everything = {(o.id, p) for o in occurrences[:2] for p in (world.alice, world.ben)}
    assert set(listed(world.facilitator, community_id=community)) == everything
    assert set(listed(world.facilitator, occurrence_id=occurrences[1].id)) == {
        (occurrences[1].id, world.alice), (occurrences[1].id, world.ben)}
    # People see their own records, all communities; not someone else's, nor a whole community's.
    mine = set(listed(world.token_of(world.ben), person_id=world.ben))
    assert {(o, p) for o, p in everything if p == world.ben} <= mine and {p for _, p in mine} == {world.ben}
    for where in ({"person_id": world.alice}, {"community_id": community}, {"occurrence_id": occurrences[0].id}):
        error = rpc_error(listed, world.token_of(world.ben), **where)
        assert error.code == grpc.StatusCode.PERMISSION_DENIED
    error = rpc_error(listed, world.facilitator, community_id=community, person_id=world.ben)
    assert (error.code, [f.field for f in error.fields]) == (grpc.StatusCode.INVALID_ARGUMENT, ["person_id"])


# -- participation and hours -----------------------------------------------------------------------
@dataclass
class Year:
    """A program of its own: a month of convenings in 'plc' (the fourth cancelled) and one
    90-minute session in 'math', recorded by their facilitator Fay."""

    program_id: str
    pat: str
    quinn: str
    rosa: str
    fay: str
    plc: str
    math: str
    weekly: list[scheduling_pb2.Occurrence]
    workshop: scheduling_pb2.Occurrence


@pytest.fixture(scope="module")
def year(world) -> Year:
    program_id = world.program("year", program_year=world.year)
    pat, quinn, rosa, fay = (world.person(name) for name in ("pat", "quinn", "rosa", "fay"))
    token = world.facilitator_token(fay)
    plc, weekly = world.community_with_series("plc", [pat, quinn, rosa], program_id=program_id, facilitator=fay)
    world.record(weekly[0].id, entry(pat, PRESENT), entry(quinn, LATE, 90), entry(rosa, ABSENT), entry(fay, PRESENT),
                 token=token)
    world.record(weekly[1].id, entry(pat, PRESENT), entry(quinn, EXCUSED), entry(rosa, PRESENT), entry(fay, PRESENT),
                 token=token)
    # Rosa's attendance at this one was never taken.
    world.record(weekly[2].id, entry(pat, LATE, 120), entry(quinn, PRESENT), entry(fay, PRESENT), token=token)
    world.scheduling(token).CancelOccurrence(scheduling_pb2.CancelOccurrenceRequest(id=weekly[3].id, reason="snow day"))
    math = world.program_community("math", program_id, members=[pat], facilitators=[fay])
    # A Thursday between the second and third convenings.
    single = world.session(math, world.tuesday_4pm(WEEKS) + dt.timedelta(days=2), minutes=90,
                           title="Number talks").session
    [workshop] = world.occurrences(single.id)
    world.record(workshop.id, entry(pat, PRESENT), entry(fay, PRESENT), token=token)
    return Year(program_id, pat, quinn, rosa, fay, plc, math, weekly, workshop)


def test_community_participation_counts_held_convenings_per_person_and_in_total(world, year):
    reply = world.scheduling(world.facilitator_token(year.fay)).GetCommunityParticipation(scheduling_pb2.GetCommunityParticipationRequest(
        community_id=year.plc))
    assert reply.occurrences_held == 3, "the cancelled convening is not held"
    people = {p.person_id: p for p in reply.people}
    assert list(people) == sorted([year.pat, year.quinn, year.rosa, year.fay])
    #                             expected attended late absent excused unrecorded minutes
    assert tally(people[year.pat]) == (3, 3, 1, 0, 0, 0, 180 + 180 + 120)
    assert tally(people[year.quinn]) == (2, 2, 1, 0, 1, 0, 90 + 180)
    assert tally(people[year.rosa]) == (3, 1, 0, 1, 0, 1, 180)
    assert tally(people[year.fay]) == (3, 3, 0, 0, 0, 0, 3 * 180)
    assert (people[year.pat].rate, people[year.quinn].rate) == (1.0, 1.0)
    assert people[year.rosa].rate == pytest.approx(1 / 3)
    assert tally(reply.total) == (11, 9, 2, 1, 1, 1, 480 + 270 + 180 + 540)
    assert reply.total.rate == pytest.approx(9 / 11)
    assert reply.total.community_id == reply.community_id == year.plc
    error = rpc_error(world.scheduling(world.token_of(year.pat)).GetCommunityParticipation, scheduling_pb2.GetCommunityParticipationRequest(
        community_id=year.plc))
    assert error.code == grpc.StatusCode.PERMISSION_DENIED


def test_a_persons_participation_is_per_community_and_summed(world, year):
    reply = world.scheduling(world.token_of(year.pat)).GetPersonParticipation(scheduling_pb2.GetPersonParticipationRequest(person_id=year.pat))
    assert [(p.community_id, tally(p)) for p in reply.communities] == [
        (year.math, (1, 1, 0, 0, 0, 0, 90)), (year.plc, (3, 3, 1, 0, 0, 0, 480))]
    assert (reply.person_id, tally(reply.total), reply.total.rate) == (year.pat, (4, 4, 1, 0, 0, 0, 570), 1.0)
    by_manager = world.scheduling(world.manager()).GetPersonParticipation(scheduling_pb2.GetPersonParticipationRequest(person_id=year.pat))
    assert by_manager.total == reply.total
    error = rpc_error(world.scheduling(world.token_of(year.quinn)).GetPersonParticipation, scheduling_pb2.GetPersonParticipationRequest(
        person_id=year.pat))
    assert (error.code, error.reason) == (grpc.StatusCode.PERMISSION_DENIED, "OUT_OF_SCOPE")


def test_learning_hours_list_attended_minutes_in_the_program_in_order(world, year):
    reply = world.scheduling(world.token_of(year.pat)).GetLearningHours(scheduling_pb2.GetLearningHoursRequest(
        person_id=year.pat, program_id=year.program_id))
    weekly, workshop = year.weekly, year.workshop
    assert [(line.occurrence_id, line.status, line.attended_minutes) for line in reply.lines] == [
        (weekly[0].id, PRESENT, 180), (weekly[1].id, PRESENT, 180), (workshop.id, PRESENT, 90),
        (weekly[2].id, LATE, 120)]
    assert (reply.total_minutes, reply.total_hours) == (570, 9.5)
    assert (reply.person_id, reply.person_name, reply.program_id, reply.program_name, reply.program_year,
            reply.issuer_name) == (year.pat, "pat", year.program_id, "year", world.year, world.region)
    first = reply.lines[0]
    assert (first.community_id, first.community_name, first.title, first.session_type, first.time_zone) == (
        year.plc, "plc", "Math talk", "regular_convening", TZ)
    assert (first.start_time, first.end_time) == (weekly[0].start_time, weekly[0].end_time)
    assert (reply.lines[2].community_id, reply.lines[2].community_name) == (year.math, "math")
    assert reply.issue_time.ToDatetime(dt.UTC) > world.now

    fay = world.scheduling(world.manager()).GetLearningHours(scheduling_pb2.GetLearningHoursRequest(
        person_id=year.fay, program_id=year.program_id))
    assert (fay.total_minutes, fay.total_hours) == (3 * 180 + 90, 10.5)
    rosa = world.scheduling(world.token_of(year.rosa)).GetLearningHours(scheduling_pb2.GetLearningHoursRequest(
        person_id=year.rosa, program_id=year.program_id))
    assert ([line.occurrence_id for line in rosa.lines], rosa.total_hours) == ([weekly[1].id], 3.0)
    error = rpc_error(world.scheduling(world.token_of(year.quinn)).GetLearningHours, scheduling_pb2.GetLearningHoursRequest(
        person_id=year.pat, program_id=year.program_id))
    assert error.code == grpc.StatusCode.PERMISSION_DENIED
    error = rpc_error(world.scheduling(world.token_of(year.pat)).GetLearningHours, scheduling_pb2.GetLearningHoursRequest(
        person_id=year.pat, program_id="att-no-such-program"))
    assert (error.code, error.reason, [f.field for f in error.fields]) == (
        grpc.StatusCode.INVALID_ARGUMENT, "UNKNOWN_PROGRAM", ["program_id"])


def test_events_go_out_once_per_written_record(year, services):
    weekly = year.weekly
    written = {record_id(weekly[0], p) for p in (year.pat, year.quinn, year.rosa, year.fay)}
    written |= {record_id(weekly[1], p) for p in (year.pat, year.quinn, year.rosa, year.fay)}
    written |= {record_id(weekly[2], p) for p in (year.pat, year.quinn, year.fay)}
    written |= {record_id(year.workshop, p) for p in (year.pat, year.fay)}
    for subject in sorted(written):
        [event] = wait_for_types(services, EVENTS, subject, [RECORDED])
        assert recorded(event).record.program_id == year.program_id
    assert about(services, EVENTS, record_id(weekly[2], year.rosa)) == []
