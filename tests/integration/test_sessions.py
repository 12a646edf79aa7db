"""Sessions and occurrences over gRPC on the real stack: single sessions and series, exceptions,
bad input with nothing written, room double-booking (also raced), overlap warnings, and a plugin's
session type with its own fields. Ids start with `ss`."""

from __future__ import annotations

import datetime as dt
import threading
import zoneinfo

import grpc
import pytest
from copnet.kernel.timestamps import timestamp
from copnet.membership.v1 import membership_pb2
from copnet.scheduling.v1 import scheduling_pb2

from tests.integration.http import request
from tests.integration.scheduling_world import SchedulingWorld, current_program_year
from tests.integration.signup_world import rpc_error, wait_for_events

pytestmark = pytest.mark.integration

LA = zoneinfo.ZoneInfo("America/Los_Angeles")


def year_start(program_year: str | None = None) -> int:
    return int((program_year or current_program_year())[:4])


def local(year: int, month: int, day: int, hour: int, minute: int = 0) -> dt.datetime:
    """A wall-clock time in the world's zone, as a UTC instant."""
    return dt.datetime(year, month, day, hour, minute, tzinfo=LA).astimezone(dt.UTC)


class Setup:
    """One program with a community (two facilitators, three members) per test prefix."""

    def __init__(self, services, prefix: str):
        self.world = SchedulingWorld(services, prefix)
        self.program = self.world.program()
        self.year = year_start()
        self.facilitator, self.cofacilitator = self.world.person("fac"), self.world.person("cofac")
        self.members = self.world.people(3, "m")
        self.community = self.world.program_community("plc", self.program, members=self.members,
                                                      facilitators=[self.facilitator, self.cofacilitator])
        self.scheduling = self.world.scheduling
        self.sdb = self.world._mongo[services.settings.database_name("scheduling")]

    def occurrences(self, session_id: str, include_cancelled: bool = True) -> list[scheduling_pb2.Occurrence]:
        return list(self.scheduling(self.world.admin).ListOccurrences(scheduling_pb2.ListOccurrencesRequest(
            session_id=session_id, include_cancelled=include_cancelled, page_size=1000)).occurrences)

    def close(self):
        self.world.close()


_PREFIXES = iter(range(1, 1000))


@pytest.fixture
def setup(services):
    made = Setup(services, f"ss{next(_PREFIXES)}")
    yield made
    made.close()


def test_a_single_session_has_one_occurrence_and_defaults_from_its_type_and_community(setup, services):
    start = local(setup.year, 10, 13, 16)
    reply = setup.scheduling(setup.world.admin).CreateSession(scheduling_pb2.CreateSessionRequest(
        community_id=setup.community, session_type="regular_convening", start_time=timestamp(start)))
    session = reply.session
    assert session.title == "Regular convening"
    assert session.end_time.ToDatetime(tzinfo=dt.UTC) - start == dt.timedelta(minutes=180)
    assert session.time_zone == "America/Los_Angeles"
    assert session.modality == scheduling_pb2.MODALITY_VIRTUAL and session.audience == scheduling_pb2.AUDIENCE_ALL_MEMBERS
    assert sorted(session.facilitator_ids) == sorted([setup.facilitator, setup.cofacilitator])
    assert session.occurrence_count == 1 and session.sequence == 0 and session.program_id == setup.program
    [occurrence] = setup.occurrences(session.id)
    assert occurrence.id == f"{session.id}:{start:%Y%m%dT%H%M%SZ}"
    assert occurrence.status == scheduling_pb2.OCCURRENCE_STATUS_SCHEDULED and occurrence.title == "Regular convening"
    assert setup.scheduling(setup.world.admin).GetOccurrence(scheduling_pb2.GetOccurrenceRequest(id=occurrence.id)).occurrence == occurrence
    listed = setup.scheduling(setup.world.admin).ListSessions(scheduling_pb2.ListSessionsRequest(community_id=setup.community)).sessions
    assert [x.id for x in listed] == [session.id]
    wait_for_events(services, "copnet.scheduling.session.created", {session.id})
    again = rpc_error(setup.world.session, setup.community, start, session_id=session.id)
    assert (again.code, again.reason) == (grpc.StatusCode.ALREADY_EXISTS, "SESSION_EXISTS")
    missing = rpc_error(setup.scheduling(setup.world.admin).GetSession, scheduling_pb2.GetSessionRequest(id="no-such-session"))
    assert (missing.code, missing.reason) == (grpc.StatusCode.NOT_FOUND, "SESSION_NOT_FOUND")


def test_a_monthly_series_stays_at_four_pm_local_across_the_daylight_saving_change(setup):
    start = local(setup.year, 9, 8, 16)   # the second Tuesday of September is on or after the 8th
    start = start + dt.timedelta(days=(1 - start.astimezone(LA).weekday()) % 7)
    reply = setup.world.session(setup.community, start, minutes=120, recurrence="FREQ=MONTHLY;BYDAY=2TU;COUNT=5")
    occurrences = setup.occurrences(reply.session.id)
    assert reply.session.occurrence_count == 5 == len(occurrences)
    for occurrence in occurrences:
        begins = occurrence.start_time.ToDatetime(tzinfo=dt.UTC).astimezone(LA)
        assert (begins.hour, begins.weekday(), (begins.day - 1) // 7) == (16, 1, 1)
    hours = [o.start_time.ToDatetime(tzinfo=dt.UTC).hour for o in occurrences]
    assert hours[:2] == [23, 23] and hours[2:] == [0, 0, 0]   # November: Pacific standard time


def second_tuesday(year: int, month: int, hour: int) -> dt.datetime:
    first = dt.date(year, month, 1)
    day = 1 + (1 - first.weekday()) % 7 + 7
    return local(year, month, day, hour)


def starts(occurrences) -> list[dt.datetime]:
    return [o.start_time.ToDatetime(tzinfo=dt.UTC) for o in occurrences]


def test_moving_or_cancelling_one_occurrence_leaves_the_others_untouched(setup, services):
    admin = setup.world.admin
    session = setup.world.session(setup.community, second_tuesday(setup.year, 9, 16), minutes=120,
                                  recurrence="FREQ=MONTHLY;BYDAY=2TU;COUNT=4").session
    first, second, third, fourth = before = setup.occurrences(session.id)
    new_start = second.start_time.ToDatetime(tzinfo=dt.UTC) + dt.timedelta(days=2, hours=1)
    moved = setup.scheduling(admin).MoveOccurrence(scheduling_pb2.MoveOccurrenceRequest(
        id=second.id, start_time=timestamp(new_start))).occurrence
    assert moved.status == scheduling_pb2.OCCURRENCE_STATUS_MOVED and moved.sequence == 1
    assert moved.original_start_time == second.original_start_time
    assert moved.end_time.ToDatetime(tzinfo=dt.UTC) - new_start == dt.timedelta(minutes=120)
    cancelled = setup.scheduling(admin).CancelOccurrence(scheduling_pb2.CancelOccurrenceRequest(
        id=third.id, reason="snow day")).occurrence
    assert cancelled.status == scheduling_pb2.OCCURRENCE_STATUS_CANCELLED and cancelled.cancel_reason == "snow day"

    after = {o.id: o for o in setup.occurrences(session.id)}
    assert after[first.id] == first and after[fourth.id] == fourth
    assert after[second.id] == moved and after[third.id] == cancelled
    assert [o.id for o in setup.occurrences(session.id, include_cancelled=False)] == [first.id, second.id, fourth.id]
    wait_for_events(services, "copnet.scheduling.occurrence.moved", {second.id})
    wait_for_events(services, "copnet.scheduling.occurrence.cancelled", {third.id})

    restored = setup.scheduling(admin).RestoreOccurrence(scheduling_pb2.RestoreOccurrenceRequest(id=third.id)).occurrence
    assert restored.status == scheduling_pb2.OCCURRENCE_STATUS_SCHEDULED and restored.start_time == third.start_time
    assert restored.sequence == 2 and restored.cancel_reason == ""
    back = setup.scheduling(admin).RestoreOccurrence(scheduling_pb2.RestoreOccurrenceRequest(id=second.id)).occurrence
    assert (back.start_time, back.end_time, back.status) == (second.start_time, second.end_time,
                                                             scheduling_pb2.OCCURRENCE_STATUS_SCHEDULED)
    assert [o.id for o in before] == [o.id for o in setup.occurrences(session.id)]
    wait_for_events(services, "copnet.scheduling.occurrence.restored", {second.id, third.id})


def test_an_update_recomputes_the_series_and_keeps_the_exceptions_still_in_it(setup, services):
    admin = setup.world.admin
    session = setup.world.session(setup.community, second_tuesday(setup.year, 9, 16), minutes=120,
                                  recurrence="FREQ=MONTHLY;BYDAY=2TU;COUNT=4").session
    first, second, third, fourth = setup.occurrences(session.id)
    moved = setup.scheduling(admin).MoveOccurrence(scheduling_pb2.MoveOccurrenceRequest(
        id=second.id, start_time=timestamp(second.start_time.ToDatetime(tzinfo=dt.UTC) + dt.timedelta(days=1)))).occurrence
    setup.scheduling(admin).CancelOccurrence(scheduling_pb2.CancelOccurrenceRequest(id=fourth.id))

    # Three meetings instead of four, longer, with a new title: the moved one stays where it was moved.
    updated = setup.scheduling(admin).UpdateSession(scheduling_pb2.UpdateSessionRequest(
        id=session.id, title="Monthly PLC", recurrence="FREQ=MONTHLY;BYDAY=2TU;COUNT=3",
        end_time=timestamp(session.end_time.ToDatetime(tzinfo=dt.UTC) + dt.timedelta(minutes=30))))
    assert updated.session.sequence == 1 and updated.session.occurrence_count == 3
    assert updated.session.title == "Monthly PLC"
    after = setup.occurrences(session.id)
    assert [o.id for o in after] == [first.id, second.id, third.id]
    assert all(o.title == "Monthly PLC" for o in after)
    assert after[0].end_time.ToDatetime(tzinfo=dt.UTC) - after[0].start_time.ToDatetime(tzinfo=dt.UTC) == \
        dt.timedelta(minutes=150)
    assert (after[1].status, after[1].start_time, after[1].sequence) == (scheduling_pb2.OCCURRENCE_STATUS_MOVED, moved.start_time,
                                                                         moved.sequence + 1)
    assert after[0].sequence == 1 and after[2].sequence == 1
    wait_for_events(services, "copnet.scheduling.session.updated", {session.id})

    # A new start time of day makes a new series: no exception survives.
    later = setup.scheduling(admin).UpdateSession(scheduling_pb2.UpdateSessionRequest(
        id=session.id, start_time=timestamp(first.start_time.ToDatetime(tzinfo=dt.UTC) + dt.timedelta(hours=1)))).session
    assert later.sequence == 2 and later.end_time.ToDatetime(tzinfo=dt.UTC) - later.start_time.ToDatetime(
        tzinfo=dt.UTC) == dt.timedelta(minutes=150)
    assert all(o.status == scheduling_pb2.OCCURRENCE_STATUS_SCHEDULED for o in setup.occurrences(session.id))
    assert {o.id for o in setup.occurrences(session.id)}.isdisjoint({first.id, second.id, third.id})


def test_an_update_that_would_drop_an_attended_occurrence_is_refused(setup):
    admin = setup.world.admin
    session = setup.world.session(setup.community, second_tuesday(setup.year, 9, 16), minutes=120,
                                  recurrence="FREQ=MONTHLY;BYDAY=2TU;COUNT=3").session
    last = setup.occurrences(session.id)[-1]
    setup.sdb.attendance.insert_one({"_id": f"{last.id}|{setup.members[0]}", "occurrence_id": last.id,
                                     "session_id": session.id, "community_id": setup.community,
                                     "person_id": setup.members[0], "status": "present",
                                     "recorded_at": dt.datetime.now(dt.UTC)})
    refused = rpc_error(setup.scheduling(admin).UpdateSession, scheduling_pb2.UpdateSessionRequest(
        id=session.id, recurrence="FREQ=MONTHLY;BYDAY=2TU;COUNT=2"))
    assert (refused.code, refused.reason) == (grpc.StatusCode.FAILED_PRECONDITION, "OCCURRENCE_HAS_ATTENDANCE")
    refused = rpc_error(setup.scheduling(admin).CancelOccurrence, scheduling_pb2.CancelOccurrenceRequest(id=last.id))
    assert refused.reason == "OCCURRENCE_HAS_ATTENDANCE"
    assert len(setup.occurrences(session.id)) == 3
    assert setup.scheduling(admin).GetSession(scheduling_pb2.GetSessionRequest(id=session.id)).session.sequence == 0


def test_cancelling_a_session_cancels_its_future_occurrences_and_stops_changes(setup, services):
    admin = setup.world.admin
    session = setup.world.session(setup.community, second_tuesday(setup.year, 9, 16),
                                  recurrence="FREQ=MONTHLY;BYDAY=2TU;COUNT=3").session
    now = dt.datetime.now(dt.UTC)
    cancelled = setup.scheduling(admin).CancelSession(scheduling_pb2.CancelSessionRequest(id=session.id, reason="funding")).session
    assert (cancelled.status, cancelled.cancel_reason, cancelled.sequence) == (scheduling_pb2.SESSION_STATUS_CANCELLED, "funding", 1)
    for occurrence in setup.occurrences(session.id):
        is_future = occurrence.start_time.ToDatetime(tzinfo=dt.UTC) >= now
        assert (occurrence.status == scheduling_pb2.OCCURRENCE_STATUS_CANCELLED) == is_future
    again = setup.scheduling(admin).CancelSession(scheduling_pb2.CancelSessionRequest(id=session.id)).session
    assert again.sequence == 1
    listed = setup.scheduling(admin).ListSessions(scheduling_pb2.ListSessionsRequest(community_id=setup.community))
    assert list(listed.sessions) == []
    listed = setup.scheduling(admin).ListSessions(scheduling_pb2.ListSessionsRequest(community_id=setup.community,
                                                                                     include_cancelled=True))
    assert [x.id for x in listed.sessions] == [session.id]
    occurrence = setup.occurrences(session.id)[0]
    for method, message in (("MoveOccurrence", scheduling_pb2.MoveOccurrenceRequest(id=occurrence.id,
                                                                                     start_time=occurrence.start_time)),
                            ("RestoreOccurrence", scheduling_pb2.RestoreOccurrenceRequest(id=occurrence.id)),
                            ("UpdateSession", scheduling_pb2.UpdateSessionRequest(id=session.id, title="x"))):
        refused = rpc_error(getattr(setup.scheduling(admin), method), message)
        assert (refused.code, refused.reason) == (grpc.StatusCode.FAILED_PRECONDITION, "SESSION_CANCELLED"), method
    assert len(wait_for_events(services, "copnet.scheduling.session.cancelled", {session.id})[session.id]) == 1


def test_bad_input_is_refused_with_its_field_and_reason_and_nothing_is_written(setup):
    year = setup.year
    start = second_tuesday(year, 10, 16)
    hour = dt.timedelta(hours=1)
    base = {"community_id": setup.community, "session_type": "regular_convening", "start_time": timestamp(start),
            "end_time": timestamp(start + 2 * hour)}
    cases = [
        ({"end_time": timestamp(start - hour)}, "end_time", "END_BEFORE_START"),
        ({"end_time": timestamp(start)}, "end_time", "END_BEFORE_START"),
        ({"end_time": timestamp(start + 25 * hour)}, "end_time", "SESSION_TOO_LONG"),
        ({"start_time": None}, "start_time", "INVALID_FIELD"),
        ({"recurrence": "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30"}, "recurrence", "RECURRENCE_NEVER_YIELDS"),
        ({"recurrence": "FREQ=HOURLY;COUNT=3"}, "recurrence", "RECURRENCE_TOO_FREQUENT"),
        ({"recurrence": "FREQ=MONTHLY;BYDAY=2XX"}, "recurrence", "INVALID_RECURRENCE"),
        ({"recurrence": "DTSTART:20261013T160000\nRRULE:FREQ=MONTHLY"}, "recurrence", "INVALID_RECURRENCE"),
        ({"recurrence": "FREQ=DAILY;COUNT=401"}, "recurrence", "TOO_MANY_OCCURRENCES"),
        ({"recurrence": "FREQ=DAILY;BYHOUR=16,17;COUNT=4"}, "recurrence", "RECURRENCE_OVERLAPS"),
        ({"recurrence": "FREQ=MONTHLY;COUNT=12"}, "recurrence", "SESSION_OUTSIDE_PROGRAM_YEAR"),
        ({"start_time": timestamp(local(year + 1, 7, 1, 9)), "end_time": timestamp(local(year + 1, 7, 1, 11))},
         "start_time", "SESSION_OUTSIDE_PROGRAM_YEAR"),
        ({"start_time": timestamp(local(year, 6, 30, 9)), "end_time": timestamp(local(year, 6, 30, 11))},
         "start_time", "SESSION_OUTSIDE_PROGRAM_YEAR"),
        ({"session_type": "no_such_type"}, "session_type", "UNKNOWN_SESSION_TYPE"),
        ({"fields_json": "{not json"}, "fields", "INVALID_JSON"),
        ({"fields_json": "[1, 2]"}, "fields", "INVALID_JSON"),
        ({"fields_json": '{"snacks": "yes"}'}, "fields.snacks", "UNDECLARED_FIELD"),
        ({"facilitator_ids": [setup.facilitator, "nobody-at-all"]}, "facilitator_ids[1]", "UNKNOWN_PERSON"),
        ({"modality": scheduling_pb2.MODALITY_IN_PERSON}, "venue.name", "VENUE_REQUIRED"),
        ({"modality": scheduling_pb2.MODALITY_HYBRID, "venue": scheduling_pb2.Venue(address="1 Main St")}, "venue.name", "VENUE_REQUIRED"),
        ({"venue": scheduling_pb2.Venue(name="Room 4")}, "venue", "VENUE_NOT_ALLOWED"),
        ({"meeting_url": "ftp://example.org/x"}, "meeting_url", "INVALID_URL"),
        ({"meeting_url": "zoom"}, "meeting_url", "INVALID_URL"),
        ({"audience": scheduling_pb2.AUDIENCE_TEAM, "team_id": "no-such-team"}, "team_id", "UNKNOWN_TEAM"),
        ({"community_id": "no-such-community"}, "community_id", "UNKNOWN_COMMUNITY"),
        ({"title": "x" * 201}, "title", "TOO_LONG"),
        ({"capacity": -1}, "capacity", "INVALID_FIELD"),
        ({"session_id": "Not An Id"}, "session_id", "INVALID_FIELD"),
    ]
    for changes, field, reason in cases:
        fields = {**base, **changes}
        message = scheduling_pb2.CreateSessionRequest(**{k: v for k, v in fields.items() if v is not None})
        refused = rpc_error(setup.scheduling(setup.world.admin).CreateSession, message)
        assert (refused.code, refused.reason, [f.field for f in refused.fields]) == (
            grpc.StatusCode.INVALID_ARGUMENT, reason, [field]), changes
    listed = setup.scheduling(setup.world.admin).ListSessions(scheduling_pb2.ListSessionsRequest(community_id=setup.community,
                                                                                                 include_cancelled=True))
    assert list(listed.sessions) == []
    assert setup.sdb.occurrences.count_documents({"community_id": setup.community}) == 0
    assert setup.sdb.sessions.count_documents({"community_id": setup.community}) == 0


def test_only_its_facilitators_and_managers_schedule_and_a_completed_community_takes_no_session(setup):
    start = second_tuesday(setup.year, 10, 16)
    member = setup.world.token_of(setup.members[0])
    refused = rpc_error(setup.world.session, setup.community, start, token=member)
    assert refused.code == grpc.StatusCode.PERMISSION_DENIED
    made = setup.world.session(setup.community, start, token=setup.world.facilitator_token(setup.facilitator))
    assert made.session.created_by == setup.facilitator
    done = setup.world.program_community("done", setup.program, facilitators=[setup.facilitator], status="completed")
    refused = rpc_error(setup.world.session, done, start)
    assert (refused.code, refused.reason) == (grpc.StatusCode.FAILED_PRECONDITION, "COMMUNITY_COMPLETED")


def test_a_room_is_booked_once_at_a_time_and_moves_are_checked_too(setup):
    admin = setup.world.admin
    room = scheduling_pb2.Venue(name="County Office  Room 4", address="1 Main St")
    start = second_tuesday(setup.year, 10, 9)
    booked = setup.world.session(setup.community, start, minutes=120, modality=scheduling_pb2.MODALITY_IN_PERSON, venue=room,
                                 title="Lesson study").session
    # The same room spelled differently, overlapping by an hour.
    same_room = scheduling_pb2.Venue(name="county office room 4", address=" 1 MAIN st ")
    refused = rpc_error(setup.world.session, setup.community, start + dt.timedelta(hours=1),
                        modality=scheduling_pb2.MODALITY_HYBRID, venue=same_room)
    assert (refused.code, refused.reason, [f.field for f in refused.fields]) == (
        grpc.StatusCode.FAILED_PRECONDITION, "ROOM_DOUBLE_BOOKED", ["venue"])
    assert booked.id in refused.message and "Lesson study" in refused.message
    # Back to back is fine, and so is another room at the same time.
    after = setup.world.session(setup.community, start + dt.timedelta(hours=2), minutes=60,
                                modality=scheduling_pb2.MODALITY_IN_PERSON, venue=room).session
    setup.world.session(setup.community, start, modality=scheduling_pb2.MODALITY_IN_PERSON, venue=scheduling_pb2.Venue(name="Room 5"))
    # Moving the later one into the first one's slot is refused; cancelling the first frees the room.
    [occurrence] = setup.occurrences(after.id)
    refused = rpc_error(setup.scheduling(admin).MoveOccurrence, scheduling_pb2.MoveOccurrenceRequest(
        id=occurrence.id, start_time=timestamp(start + dt.timedelta(minutes=30))))
    assert refused.reason == "ROOM_DOUBLE_BOOKED"
    [first] = setup.occurrences(booked.id)
    setup.scheduling(admin).CancelOccurrence(scheduling_pb2.CancelOccurrenceRequest(id=first.id))
    moved = setup.scheduling(admin).MoveOccurrence(scheduling_pb2.MoveOccurrenceRequest(
        id=occurrence.id, start_time=timestamp(start + dt.timedelta(minutes=30)))).occurrence
    assert moved.status == scheduling_pb2.OCCURRENCE_STATUS_MOVED
    # ... and restoring the cancelled one now collides with the moved one.
    refused = rpc_error(setup.scheduling(admin).RestoreOccurrence, scheduling_pb2.RestoreOccurrenceRequest(id=first.id))
    assert refused.reason == "ROOM_DOUBLE_BOOKED"


def test_concurrent_bookings_of_one_room_let_exactly_one_win(setup):
    start = second_tuesday(setup.year, 11, 9)
    room = scheduling_pb2.Venue(name="Race Room", address="2 Main St")
    outcomes: list = []
    gate = threading.Barrier(6)

    def book(n: int):
        gate.wait()
        try:
            outcomes.append(setup.world.session(
                setup.community, start + dt.timedelta(minutes=n), minutes=90, modality=scheduling_pb2.MODALITY_IN_PERSON,
                venue=room, session_id=f"{setup.world.prefix}-race{n}"))
        except grpc.RpcError as error:
            outcomes.append(error)

    threads = [threading.Thread(target=book, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    won = [o for o in outcomes if isinstance(o, scheduling_pb2.CreateSessionResponse)]
    lost = [o for o in outcomes if isinstance(o, grpc.RpcError)]
    assert len(won) == 1, [error.details() for error in lost]
    assert all(o.code() == grpc.StatusCode.FAILED_PRECONDITION and "already booked" in o.details() for o in lost)
    assert setup.sdb.occurrences.count_documents({"venue_key": "race room|2 main st"}) == 1


def test_overlaps_are_warnings_for_facilitators_and_participants(setup):
    other_facilitator = setup.world.person("ofac")
    both = setup.members[0]
    other = setup.world.program_community("plc2", setup.program, members=[both, setup.world.person("only2")],
                                          facilitators=[other_facilitator])
    start = second_tuesday(setup.year, 10, 16)
    first = setup.world.session(setup.community, start, minutes=120)
    assert list(first.warnings) == []
    second = setup.world.session(other, start + dt.timedelta(minutes=90), minutes=60,
                                 facilitator_ids=[other_facilitator, setup.facilitator])
    found = {(w.kind, w.person_id) for w in second.warnings}
    assert found == {(scheduling_pb2.ConflictWarning.KIND_FACILITATOR_OVERLAP, setup.facilitator),
                     (scheduling_pb2.ConflictWarning.KIND_PARTICIPANT_OVERLAP, both)}
    [occurrence] = setup.occurrences(first.session.id)
    for warning in second.warnings:
        assert warning.other_occurrence_id == occurrence.id and warning.other_community_id == setup.community
        assert warning.occurrence_id.startswith(second.session.id + ":") and warning.message
    # Back to back: no overlap, no warning; a move into the overlap warns again.
    third = setup.world.session(other, start + dt.timedelta(minutes=150), minutes=60,
                                facilitator_ids=[setup.facilitator])
    assert list(third.warnings) == []
    [moved_one] = setup.occurrences(third.session.id)
    moved = setup.scheduling(setup.world.admin).MoveOccurrence(scheduling_pb2.MoveOccurrenceRequest(
        id=moved_one.id, start_time=timestamp(start + dt.timedelta(minutes=30))))
    assert {(w.kind, w.person_id) for w in moved.warnings if w.other_session_id == first.session.id} == {
        (scheduling_pb2.ConflictWarning.KIND_FACILITATOR_OVERLAP, setup.facilitator),
        (scheduling_pb2.ConflictWarning.KIND_PARTICIPANT_OVERLAP, both)}


def test_occurrences_by_community_person_and_time_range_in_start_order_across_pages(setup):
    admin = setup.world.admin
    monthly = setup.world.session(setup.community, second_tuesday(setup.year, 9, 16), minutes=60,
                                  recurrence="FREQ=MONTHLY;BYDAY=2TU;COUNT=5").session
    weekly = setup.world.session(setup.community, second_tuesday(setup.year, 9, 18), minutes=60,
                                 recurrence="FREQ=WEEKLY;COUNT=6").session
    everything = setup.scheduling(admin).ListOccurrences(scheduling_pb2.ListOccurrencesRequest(
        community_id=setup.community, page_size=1000)).occurrences
    assert len(everything) == 11 and starts(everything) == sorted(starts(everything))
    paged, token = [], ""
    while True:
        page = setup.scheduling(admin).ListOccurrences(scheduling_pb2.ListOccurrencesRequest(
            community_id=setup.community, page_size=4, page_token=token))
        paged.extend(page.occurrences)
        token = page.next_page_token
        if not token:
            break
    assert [o.id for o in paged] == [o.id for o in everything]
    window_start = everything[2].start_time.ToDatetime(tzinfo=dt.UTC) + dt.timedelta(minutes=30)
    window_end = everything[5].start_time.ToDatetime(tzinfo=dt.UTC)
    windowed = setup.scheduling(admin).ListOccurrences(scheduling_pb2.ListOccurrencesRequest(
        community_id=setup.community, start_time=timestamp(window_start), end_time=timestamp(window_end))).occurrences
    assert [o.id for o in windowed] == [o.id for o in everything[2:5]]
    mine = setup.scheduling(setup.world.token_of(setup.members[2])).ListOccurrences(scheduling_pb2.ListOccurrencesRequest(
        person_id=setup.members[2], page_size=1000)).occurrences
    assert {o.session_id for o in mine} == {monthly.id, weekly.id} and len(mine) == 11
    # A team's session is for the team (and its facilitators), a leaders-only one for leaders.
    team = setup.world.membership(admin).CreateTeam(membership_pb2.CreateTeamRequest(
        community_id=setup.community, kind=membership_pb2.TEAM_KIND_CROSS_DISTRICT, name="Team A",
        members=[membership_pb2.TeamMemberSpec(person_id=setup.members[0], role=membership_pb2.TEAM_ROLE_LEAD)])).team
    for_team = setup.world.session(setup.community, second_tuesday(setup.year, 10, 8), minutes=60,
                                   audience=scheduling_pb2.AUDIENCE_TEAM, team_id=team.id).session
    for_leaders = setup.world.session(setup.community, second_tuesday(setup.year, 10, 6), minutes=60,
                                      audience=scheduling_pb2.AUDIENCE_LEADERS_ONLY).session

    def sessions_of(person_id: str) -> set[str]:
        return {o.session_id for o in setup.scheduling(admin).ListOccurrences(scheduling_pb2.ListOccurrencesRequest(
            person_id=person_id, page_size=1000)).occurrences}

    assert sessions_of(setup.members[0]) == {monthly.id, weekly.id, for_team.id, for_leaders.id}
    assert sessions_of(setup.members[2]) == {monthly.id, weekly.id}
    assert sessions_of(setup.facilitator) == {monthly.id, weekly.id, for_team.id, for_leaders.id}
    outsider = setup.world.person("outsider")
    assert list(setup.scheduling(setup.world.token_of(outsider)).ListOccurrences(scheduling_pb2.ListOccurrencesRequest(person_id=outsider)).occurrences) == []
    refused = rpc_error(setup.scheduling(setup.world.token_of(outsider)).ListOccurrences, scheduling_pb2.ListOccurrencesRequest(person_id=setup.members[2]))
    assert refused.code == grpc.StatusCode.PERMISSION_DENIED
    refused = rpc_error(setup.scheduling(admin).ListOccurrences, scheduling_pb2.ListOccurrencesRequest(
        community_id=setup.community, session_id=monthly.id))
    assert refused.code == grpc.StatusCode.INVALID_ARGUMENT


EQUITY = "equity_culturally_responsive_tasks"


def test_a_plugins_equity_session_type_checks_its_declared_fields(stack, setup):
    lead = stack.token("regional_lead", setup.world.region, person=f"{setup.world.prefix}-lead")
    reply = request("PUT", f"{stack.gateway_url}/api/v1/regions/{setup.world.region}/plugins/equity-sessions",
                    json_body={"enabled": True, "settings": {}}, token=lead)
    assert reply.status == 200, reply.text

    def offered() -> bool:
        types = setup.scheduling(setup.world.admin).ListSessionTypes(scheduling_pb2.ListSessionTypesRequest(community_id=setup.community)).session_types
        return EQUITY in {t.key for t in types}

    stack.wait_for(offered, 30, "the equity session types in the world's region")
    start = second_tuesday(setup.year, 10, 16)
    made = setup.world.session(setup.community, start, session_type=EQUITY,
                               fields_json='{"task_to_bring": "a fractions task", "grade_bands": ["3-5"]}')
    assert made.session.session_type == EQUITY and made.session.title == "Culturally responsive math tasks"
    assert '"task_to_bring": "a fractions task"' in made.session.fields_json
    for fields_json, field, reason in (
            ('{"task_to_bring": "x", "snacks": "yes"}', "fields.snacks", "UNDECLARED_FIELD"),
            ('{"grade_bands": ["3-5"]}', "fields.task_to_bring", "INVALID_FIELD_VALUE"),
            ('{"task_to_bring": "x", "grade_bands": ["13"]}', "fields.grade_bands.0", "INVALID_FIELD_VALUE")):
        refused = rpc_error(setup.world.session, setup.community, start + dt.timedelta(days=1), session_type=EQUITY,
                            fields_json=fields_json)
        assert (refused.reason, [f.field for f in refused.fields]) == (reason, [field]), fields_json
    assert len(setup.scheduling(setup.world.admin).ListSessions(scheduling_pb2.ListSessionsRequest(community_id=setup.community)).sessions) == 1


def test_team_and_leaders_only_sessions_are_seen_only_by_whom_they_are_for_and_who_runs_them(stack, setup):
    admin, lead, teammate, member = setup.world.admin, *setup.members
    team = setup.world.membership(admin).CreateTeam(membership_pb2.CreateTeamRequest(
        community_id=setup.community, kind=membership_pb2.TEAM_KIND_CROSS_DISTRICT, name="Team V", members=[
            membership_pb2.TeamMemberSpec(person_id=lead, role=membership_pb2.TEAM_ROLE_LEAD),
            membership_pb2.TeamMemberSpec(person_id=teammate, role=membership_pb2.TEAM_ROLE_MEMBER)])).team
    for_all = setup.world.session(setup.community, second_tuesday(setup.year, 10, 8), minutes=60).session
    for_team = setup.world.session(setup.community, second_tuesday(setup.year, 10, 10), minutes=60,
                                   audience=scheduling_pb2.AUDIENCE_TEAM, team_id=team.id,
                                   meeting_url="https://meet.example.org/team-v").session
    for_leaders = setup.world.session(setup.community, second_tuesday(setup.year, 10, 12), minutes=60,
                                      audience=scheduling_pb2.AUDIENCE_LEADERS_ONLY,
                                      meeting_url="https://meet.example.org/leaders").session
    outsider = setup.world.person("nosy")
    every = {for_all.id, for_team.id, for_leaders.id}
    expected = {
        setup.world.token_of(outsider): {for_all.id},
        setup.world.token_of(member): {for_all.id},
        setup.world.token_of(teammate): {for_all.id, for_team.id},
        setup.world.token_of(lead): {for_all.id, for_team.id, for_leaders.id},
        setup.world.facilitator_token(setup.facilitator): every,
        setup.world.manager(): every,
    }
    for token, seen in expected.items():
        reader = setup.scheduling(token)
        listed = reader.ListSessions(scheduling_pb2.ListSessionsRequest(community_id=setup.community)).sessions
        assert {s.id for s in listed} == seen
        occurrences = reader.ListOccurrences(scheduling_pb2.ListOccurrencesRequest(community_id=setup.community)).occurrences
        assert {o.session_id for o in occurrences} == seen
        for hidden in every - seen:
            [occurrence] = setup.occurrences(hidden)
            for call, asked, reason in (
                    (reader.GetSession, scheduling_pb2.GetSessionRequest(id=hidden), "SESSION_NOT_FOUND"),
                    (reader.ListOccurrences, scheduling_pb2.ListOccurrencesRequest(session_id=hidden), "SESSION_NOT_FOUND"),
                    (reader.GetOccurrence, scheduling_pb2.GetOccurrenceRequest(id=occurrence.id), "OCCURRENCE_NOT_FOUND")):
                refused = rpc_error(call, asked)
                assert (refused.code, refused.reason) == (grpc.StatusCode.NOT_FOUND, reason)
        for shown in seen:
            assert reader.GetSession(scheduling_pb2.GetSessionRequest(id=shown)).session.id == shown
    # What nobody else may see is also absent from what the gateway answers, meeting links included.
    listed = request("GET", f"{stack.gateway_url}/api/v1/communities/{setup.community}/sessions",
                     token=setup.world.token_of(member))
    assert listed.status == 200 and "meet.example.org" not in listed.text
