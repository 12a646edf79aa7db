"""The words of a session reminder: local times with the zone's abbreviation, where, link, agenda."""

import datetime as dt

from copnet.kernel.timestamps import timestamp
from copnet.scheduling.notification_text import reminder_text, span, zone_of
from copnet.scheduling.v1 import scheduling_pb2

LA = "America/Los_Angeles"
# Tue Oct 13 2026, 4:00 PM PDT (UTC-7).
OCTOBER = dt.datetime(2026, 10, 13, 23, 0, tzinfo=dt.UTC)


def occurrence(start=OCTOBER, minutes=180, **fields):
    fields.setdefault("title", "Algebra PLC")
    fields.setdefault("time_zone", LA)
    fields.setdefault("modality", scheduling_pb2.MODALITY_VIRTUAL)
    return scheduling_pb2.Occurrence(id="s-1:20261013T230000Z", session_id="s-1", start_time=timestamp(start),
                                     end_time=timestamp(start + dt.timedelta(minutes=minutes)), **fields)


def test_subject_is_the_title_and_the_local_start_with_its_abbreviation():
    text = reminder_text(occurrence(meeting_url="https://meet.example.org/algebra"), "Algebra PLC")
    assert text.subject == "Reminder: Algebra PLC — Tue Oct 13, 4:00 PM PDT"
    assert text.body == ("Algebra PLC.\n"
                         "When: Tue Oct 13, 4:00 – 7:00 PM PDT\n"
                         "Join: https://meet.example.org/algebra")


def test_after_the_daylight_saving_change_the_same_wall_clock_time_is_pst():
    november = dt.datetime(2026, 11, 10, 0, 0, tzinfo=dt.UTC)   # Mon Nov 9, 4:00 PM PST (UTC-8)
    assert reminder_text(occurrence(november), "Algebra PLC").subject == "Reminder: Algebra PLC — Mon Nov 9, 4:00 PM PST"


def test_an_in_person_session_says_where_and_its_agenda_and_community():
    text = reminder_text(occurrence(title="Unit 3 planning", modality=scheduling_pb2.MODALITY_IN_PERSON,
                                    venue=scheduling_pb2.Venue(name="Room 12", address="100 Main St, Oakland")),
                         "Algebra PLC", agenda="1. Warm-up\n2. Student work  \n")
    assert text.subject == "Reminder: Unit 3 planning — Tue Oct 13, 4:00 PM PDT"
    assert text.body == ("Unit 3 planning, a session of Algebra PLC.\n"
                         "When: Tue Oct 13, 4:00 – 7:00 PM PDT\n"
                         "Where: Room 12, 100 Main St, Oakland\n"
                         "\n"
                         "Agenda:\n"
                         "1. Warm-up\n2. Student work")


def test_a_hybrid_session_has_both_room_and_link_and_a_virtual_one_no_room():
    hybrid = reminder_text(occurrence(modality=scheduling_pb2.MODALITY_HYBRID, venue=scheduling_pb2.Venue(name="Library"),
                                      meeting_url="https://meet.example.org/x"), "Algebra PLC").body
    assert "Where: Library" in hybrid and "Join: https://meet.example.org/x" in hybrid
    virtual = reminder_text(occurrence(venue=scheduling_pb2.Venue(name="Library")), "Algebra PLC").body
    assert "Where:" not in virtual and "Join:" not in virtual


def test_an_empty_title_falls_back_to_the_community_name():
    assert reminder_text(occurrence(title=""), "Geometry PLC").subject.startswith("Reminder: Geometry PLC — ")


def test_spans_across_noon_midnight_and_a_daylight_saving_change():
    zone = zone_of(LA)
    morning = dt.datetime(2026, 10, 13, 16, 30, tzinfo=dt.UTC)   # 9:30 AM PDT
    assert span(morning, morning + dt.timedelta(hours=3), zone) == "Tue Oct 13, 9:30 AM – 12:30 PM PDT"
    late = dt.datetime(2026, 10, 14, 5, 0, tzinfo=dt.UTC)        # 10:00 PM PDT
    assert span(late, late + dt.timedelta(hours=3), zone) == "Tue Oct 13, 10:00 PM PDT – Wed Oct 14, 1:00 AM PDT"
    # Sun Nov 1 2026, 1:30 AM PDT to 1:30 AM PST (clocks fall back at 2:00).
    fall_back = dt.datetime(2026, 11, 1, 8, 30, tzinfo=dt.UTC)
    assert span(fall_back, fall_back + dt.timedelta(hours=1), zone) == "Sun Nov 1, 1:30 AM PDT – Sun Nov 1, 1:30 AM PST"
    assert span(morning, morning, zone) == "Tue Oct 13, 9:30 AM PDT"


def test_an_unknown_or_missing_zone_reads_in_utc():
    assert reminder_text(occurrence(time_zone="Mars/Olympus"), "Algebra PLC").subject == \
        "Reminder: Algebra PLC — Tue Oct 13, 11:00 PM UTC"
    assert reminder_text(occurrence(time_zone=""), "Algebra PLC").subject.endswith("11:00 PM UTC")
