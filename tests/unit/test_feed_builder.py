"""The feed builder: stored sessions and their materialized occurrences become calendar events
that a client expands back to exactly those occurrences (read with vobject)."""

from __future__ import annotations

import datetime as dt

import vobject
from copnet.scheduling import recurrence
from copnet.scheduling.directory import program_year_bounds
from copnet.scheduling.feed_builder import (
    calendar_feed,
    description_of,
    feed_event,
    location_of,
    session_details,
)
from copnet.scheduling.models import Occurrence, Session, Venue
from copnet_plugins.icalendar_feed import ICalendarExporter

UTC = dt.UTC
LA = "America/Los_Angeles"
REGION = "bay-area"
CREATED = dt.datetime(2026, 8, 20, 18, 0, tzinfo=UTC)
# 4-7 pm in Los Angeles on October 13, 2026 (daylight time).
FIRST = dt.datetime(2026, 10, 13, 23, 0, tzinfo=UTC)
MEETING = "https://meet.example.org/algebra"


def session(session_id: str = "s-1", *, rule: str = "FREQ=MONTHLY;BYDAY=2TU", start: dt.datetime = FIRST,
            minutes: int = 180, **changes) -> Session:
    fields = dict(id=session_id, community_id="c-1", program_id="p-1", scope=["ca", "bay-area", "district"],
                  session_type="regular_convening", title="Algebra PLC", agenda="Bring a task you taught.",
                  facilitator_ids=["f-1"], start_at=start, end_at=start + dt.timedelta(minutes=minutes),
                  time_zone=LA, recurrence=rule, modality="virtual", meeting_url=MEETING, audience="all_members",
                  created_at=CREATED)
    fields.update(changes)
    return Session(**fields)


def materialized(s: Session, year: tuple[dt.datetime, dt.datetime] | None = None) -> list[Occurrence]:
    """The occurrences as scheduling stores them: the rule expanded once, in the session's zone."""
    year = year or program_year_bounds("2026-27", LA)
    return [Occurrence(id=f"{s.id}:{slot.original_start:%Y%m%dT%H%M%SZ}", session_id=s.id, community_id=s.community_id,
                       original_start=slot.original_start, start_at=slot.start, end_at=slot.end, title=s.title,
                       session_type=s.session_type, modality=s.modality, venue=s.venue, meeting_url=s.meeting_url,
                       time_zone=s.time_zone)
            for slot in recurrence.expand(s.recurrence, s.start_at, s.end_at, s.time_zone, year)]


def moved(occurrence: Occurrence, start: dt.datetime, minutes: int, *, sequence: int = 1, **changes) -> Occurrence:
    occurrence.start_at, occurrence.end_at = start, start + dt.timedelta(minutes=minutes)
    occurrence.status, occurrence.sequence = "moved", sequence
    for name, value in changes.items():
        setattr(occurrence, name, value)
    return occurrence


def cancelled(occurrence: Occurrence, *, sequence: int = 1) -> Occurrence:
    occurrence.status, occurrence.sequence = "cancelled", sequence
    return occurrence


def client_view(*events) -> list[tuple[dt.datetime, dt.datetime]]:
    """What a calendar client shows after reading the exported feed: (start, end) in UTC of every
    instance that still happens, overrides put in place of the instances they replace."""
    feed = calendar_feed("Bay Area Algebra", LA, events, feed_id="community:c-1")
    parsed = vobject.readOne(ICalendarExporter().export(feed, None).decode())
    shown = []
    vevents = parsed.contents.get("vevent", [])
    for master in (v for v in vevents if not hasattr(v, "recurrence_id")):
        if master.status.value == "CANCELLED":
            continue
        overrides = {o.recurrence_id.value.astimezone(UTC): o for o in vevents
                     if hasattr(o, "recurrence_id") and o.uid.value == master.uid.value}
        length = master.dtend.value - master.dtstart.value
        starts = master.getrruleset(addRDate=True) if hasattr(master, "rrule") else [master.dtstart.value]
        for start in (s.astimezone(UTC) for s in starts):
            override = overrides.pop(start, None)
            if override is None:
                shown.append((start, start + length))
            elif override.status.value != "CANCELLED":
                shown.append((override.dtstart.value.astimezone(UTC), override.dtend.value.astimezone(UTC)))
    return sorted(shown)


def happening(occurrences: list[Occurrence]) -> list[tuple[dt.datetime, dt.datetime]]:
    return sorted((o.start_at, o.end_at) for o in occurrences if o.status != "cancelled")


# -- identity and versions -----------------------------------------------------------------------
def test_the_uid_is_the_session_and_the_region_and_survives_every_change():
    s = session()
    occurrences = materialized(s)
    before = feed_event(s, occurrences, region=REGION, type_title="Regular convening")
    s.title, s.sequence, s.status = "Algebra PLC (renamed)", 2, "cancelled"
    moved(occurrences[1], occurrences[1].start_at + dt.timedelta(days=1), 180, sequence=3)
    after = feed_event(s, occurrences, region=REGION, type_title="Regular convening")
    assert before.uid == after.uid == "s-1@bay-area.copnet"


def test_the_sequence_is_the_highest_of_the_session_and_its_occurrences():
    s = session(sequence=1)
    occurrences = materialized(s)
    assert feed_event(s, occurrences, region=REGION, type_title="").sequence == 1
    cancelled(occurrences[4], sequence=4)
    assert feed_event(s, occurrences, region=REGION, type_title="").sequence == 4
    s.sequence = 5
    assert feed_event(s, occurrences, region=REGION, type_title="").sequence == 5


def test_the_event_says_what_and_when_it_was_made():
    s = session(updated_at=CREATED + dt.timedelta(days=2))
    event = feed_event(s, materialized(s), region=REGION, type_title="Regular convening")
    assert (event.summary, event.time_zone, event.categories) == ("Algebra PLC", LA, ("Regular convening",))
    assert event.description == f"Bring a task you taught.\n\nSession type: Regular convening\nJoin: {MEETING}"
    assert (event.location, event.url) == (MEETING, MEETING)
    assert (event.created, event.last_modified) == (CREATED, CREATED + dt.timedelta(days=2))
    assert not event.cancelled


# -- series ------------------------------------------------------------------------------------
def test_an_open_ended_series_ends_where_the_stored_one_does():
    s = session()
    occurrences = materialized(s)
    event = feed_event(s, occurrences, region=REGION, type_title="")
    last = occurrences[-1].original_start
    assert last == dt.datetime(2027, 6, 8, 23, 0, tzinfo=UTC)   # the last second Tuesday of the program year
    assert event.rrule == "FREQ=MONTHLY;BYDAY=2TU;UNTIL=20270608T230000Z"
    assert (event.start, event.end) == (FIRST, FIRST + dt.timedelta(hours=3))
    assert (event.exdates, event.overrides) == ((), ())
    assert client_view(event) == happening(occurrences)


def test_a_client_sees_the_stored_occurrences_across_the_daylight_saving_change():
    s = session()
    occurrences = materialized(s)
    shown = client_view(feed_event(s, occurrences, region=REGION, type_title=""))
    assert [start for start, _ in shown[:3]] == [dt.datetime(2026, 10, 13, 23, tzinfo=UTC),
                                                 dt.datetime(2026, 11, 11, 0, tzinfo=UTC),
                                                 dt.datetime(2026, 12, 9, 0, tzinfo=UTC)]
    assert shown == happening(occurrences)


def test_a_cancelled_occurrence_is_an_exdate_and_a_cancelled_override():
    s = session()
    occurrences = materialized(s)
    gone = cancelled(occurrences[2], sequence=1)
    event = feed_event(s, occurrences, region=REGION, type_title="")
    assert event.exdates == (gone.original_start,)
    [override] = event.overrides
    assert (override.recurrence_id, override.cancelled, override.sequence) == (gone.original_start, True, 1)
    assert client_view(event) == happening(occurrences)
    assert (gone.start_at, gone.end_at) not in client_view(event)


def test_a_moved_occurrence_is_an_override_at_its_new_time_and_place():
    s = session()
    occurrences = materialized(s)
    target = occurrences[3]
    new_start = target.original_start + dt.timedelta(days=2, hours=-1)
    moved(target, new_start, 120, sequence=2, modality="in_person",
          venue=Venue(name="County Office, Room 12", address="1 Main St, Hayward"))
    event = feed_event(s, occurrences, region=REGION, type_title="")
    assert event.exdates == ()
    [override] = event.overrides
    assert (override.recurrence_id, override.start, override.end) == (
        target.original_start, new_start, new_start + dt.timedelta(minutes=120))
    assert (override.location, override.sequence, override.cancelled) == (
        "County Office, Room 12, 1 Main St, Hayward", 2, False)
    assert client_view(event) == happening(occurrences)


def test_the_series_starts_at_its_first_original_occurrence_even_when_that_one_moved_or_was_cancelled():
    s = session()
    occurrences = materialized(s)
    moved(occurrences[0], FIRST + dt.timedelta(days=7), 180)
    event = feed_event(s, occurrences, region=REGION, type_title="")
    assert event.start == FIRST and event.overrides[0].recurrence_id == FIRST
    cancelled(occurrences[0], sequence=2)
    event = feed_event(s, occurrences, region=REGION, type_title="")
    assert event.start == FIRST and event.exdates == (FIRST,)
    assert client_view(event) == happening(occurrences)


def test_a_counted_series_in_a_community_without_a_program():
    s = session(rule="FREQ=WEEKLY;COUNT=6;BYDAY=TU", start=dt.datetime(2026, 10, 20, 23, tzinfo=UTC), minutes=60)
    occurrences = [Occurrence(id=f"s-1:{slot.original_start:%Y%m%dT%H%M%SZ}", session_id="s-1", community_id="c-1",
                              original_start=slot.original_start, start_at=slot.start, end_at=slot.end)
                   for slot in recurrence.expand(s.recurrence, s.start_at, s.end_at, LA)]
    event = feed_event(s, occurrences, region=REGION, type_title="")
    assert event.rrule == "FREQ=WEEKLY;BYDAY=TU;UNTIL=20261125T000000Z"   # Tuesday, November 24, 4 pm PST
    assert client_view(event) == happening(occurrences) and len(occurrences) == 6


def test_a_series_cancelled_before_it_began_is_a_cancelled_event():
    s = session(status="cancelled", sequence=1)
    occurrences = [cancelled(o) for o in materialized(s)]
    event = feed_event(s, occurrences, region=REGION, type_title="")
    assert event.cancelled and event.sequence == 1
    assert client_view(event) == []


def test_a_series_cancelled_part_way_keeps_the_meetings_that_took_place():
    s = session(status="cancelled", sequence=1)
    occurrences = materialized(s)
    for occurrence in occurrences[3:]:   # as CancelSession does: the occurrences still ahead
        cancelled(occurrence)
    event = feed_event(s, occurrences, region=REGION, type_title="")
    assert not event.cancelled
    assert event.exdates == tuple(o.original_start for o in occurrences[3:])
    assert client_view(event) == happening(occurrences) == happening(occurrences[:3])


# -- single sessions ---------------------------------------------------------------------------
def test_a_single_session_is_one_event_at_its_time():
    s = session(rule="", modality="in_person", venue=Venue(name="Lincoln MS library", address="12 Oak Ave"),
                meeting_url="")
    [occurrence] = materialized(s)
    event = feed_event(s, [occurrence], region=REGION, type_title="Kick-off")
    assert (event.rrule, event.exdates, event.overrides) == ("", (), ())
    assert (event.start, event.end, event.location, event.url) == (
        FIRST, FIRST + dt.timedelta(hours=3), "Lincoln MS library, 12 Oak Ave", "")
    assert event.description == "Bring a task you taught.\n\nSession type: Kick-off"


def test_a_moved_single_session_is_at_its_new_time_and_a_cancelled_one_is_cancelled():
    s = session(rule="")
    [occurrence] = materialized(s)
    new_start = FIRST + dt.timedelta(days=1)
    moved(occurrence, new_start, 90, sequence=1, modality="hybrid", venue=Venue(name="Room 4"))
    event = feed_event(s, [occurrence], region=REGION, type_title="")
    assert (event.start, event.end, event.location, event.sequence) == (
        new_start, new_start + dt.timedelta(minutes=90), "Room 4", 1)
    assert client_view(event) == [(new_start, new_start + dt.timedelta(minutes=90))]
    cancelled(occurrence, sequence=2)
    event = feed_event(s, [occurrence], region=REGION, type_title="")
    assert event.cancelled and event.sequence == 2 and client_view(event) == []


# -- pieces --------------------------------------------------------------------------------------
def test_where_a_session_is():
    room = Venue(name="Room 4", address="12 Oak Ave")
    assert location_of("virtual", room, MEETING) == MEETING
    assert location_of("in_person", room, "") == "Room 4, 12 Oak Ave"
    assert location_of("hybrid", room, MEETING) == "Room 4, 12 Oak Ave"
    assert location_of("hybrid", Venue(), MEETING) == MEETING
    assert location_of("in_person", None, "") == ""


def test_the_description_leaves_out_what_is_missing():
    assert description_of("", "", "") == ""
    assert description_of("  Agenda  ", "", "") == "Agenda"
    assert description_of("", "Orientation", MEETING) == f"Session type: Orientation\nJoin: {MEETING}"


def test_the_feed_lists_events_in_a_stable_order():
    later, earlier = session("s-b"), session("s-a", start=FIRST - dt.timedelta(days=7), rule="")
    events = [feed_event(later, materialized(later), region=REGION, type_title=""),
              feed_event(earlier, [], region=REGION, type_title="")]
    feed = calendar_feed("Bay Area Algebra", LA, events, feed_id="community:c-1", description="d")
    assert [e.uid for e in feed.events] == ["s-a@bay-area.copnet", "s-b@bay-area.copnet"]
    assert (feed.name, feed.time_zone, feed.feed_id, feed.description) == ("Bay Area Algebra", LA, "community:c-1", "d")


# -- a session's details in its description ------------------------------------------------------
def test_type_fields_are_labelled_by_the_schema_in_its_order_then_what_to_prepare():
    schema = {"type": "object", "properties": {
        "task_to_bring": {"type": "string", "title": "Task to bring"},
        "grade_bands": {"type": "array", "items": {"type": "string"}},
        "childcare": {"type": "boolean"}}}
    fields = {"childcare": False, "grade_bands": ["6-8", "9-12"], "task_to_bring": "A ratio task",
              "zz_extra": {"room": "B"}}
    assert session_details(fields, schema, ["Collect three student quotes", ""]) == [
        ("Task to bring", "A ratio task"), ("Grade bands", "6-8, 9-12"), ("Childcare", "no"),
        ("Zz extra", "room: B"), ("To prepare", "Collect three student quotes")]


def test_details_sit_between_the_agenda_and_how_to_join():
    assert description_of("Plan the unit.", "Equity workshop", "https://meet.example.org/x",
                          [("Task to bring", "A ratio task"), ("Empty", "")]) == (
        "Plan the unit.\n\nTask to bring: A ratio task\n\nSession type: Equity workshop\n"
        "Join: https://meet.example.org/x")
