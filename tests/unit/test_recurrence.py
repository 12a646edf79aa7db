"""Recurrence rules expanded in a community's time zone (pure)."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest
from copnet.kernel.errors import InvalidArgument
from copnet.scheduling import recurrence
from copnet.scheduling.directory import program_year_bounds

LA_NAME = "America/Los_Angeles"
LA = zoneinfo.ZoneInfo(LA_NAME)
YEAR = program_year_bounds("2026-27", LA_NAME)


def at(year, month, day, hour, minute=0, zone=LA) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, tzinfo=zone).astimezone(dt.UTC)


def refused(rule: str, start: dt.datetime, minutes: int = 120, year=YEAR) -> InvalidArgument:
    with pytest.raises(InvalidArgument) as raised:
        recurrence.expand(rule, start, start + dt.timedelta(minutes=minutes), LA_NAME, year)
    return raised.value


def test_second_tuesday_at_four_pm_stays_four_pm_local_across_the_november_change():
    start = at(2026, 10, 13, 16)   # 2nd Tuesday of October 2026, daylight time
    slots = recurrence.expand("FREQ=MONTHLY;BYDAY=2TU;COUNT=3", start, start + dt.timedelta(hours=2), LA_NAME, YEAR)
    assert [s.start for s in slots] == [dt.datetime(2026, 10, 13, 23, tzinfo=dt.UTC),
                                        dt.datetime(2026, 11, 11, 0, tzinfo=dt.UTC),
                                        dt.datetime(2026, 12, 9, 0, tzinfo=dt.UTC)]
    assert [s.start.hour for s in slots] == [23, 0, 0]
    assert all(s.start.astimezone(LA).hour == 16 and s.end - s.start == dt.timedelta(hours=2) for s in slots)
    assert all(s.original_start == s.start for s in slots)


def test_each_occurrence_lasts_as_long_as_the_first_even_over_the_spring_change():
    start = at(2027, 3, 13, 23)   # 11 pm the night before daylight time begins
    slots = recurrence.expand("FREQ=DAILY;COUNT=2", start, start + dt.timedelta(hours=5), LA_NAME, YEAR)
    assert [s.end - s.start for s in slots] == [dt.timedelta(hours=5)] * 2
    assert [s.start.astimezone(LA).hour for s in slots] == [23, 23]


def test_a_nonexistent_local_time_takes_the_offset_before_the_gap():
    start = at(2027, 3, 7, 2, 30)   # 2:30 am exists on March 7; on March 14 it does not
    slots = recurrence.expand("FREQ=WEEKLY;COUNT=2", start, start + dt.timedelta(minutes=30), LA_NAME, YEAR)
    assert slots[1].start == dt.datetime(2027, 3, 14, 10, 30, tzinfo=dt.UTC)   # 2:30 PST = 3:30 PDT
    assert slots[1].start.astimezone(LA).hour == 3


def test_an_empty_rule_is_one_occurrence():
    start = at(2026, 10, 13, 16)
    assert recurrence.expand("", start, start + dt.timedelta(hours=1), LA_NAME, YEAR) == [
        recurrence.Slot(start, start, start + dt.timedelta(hours=1))]


def test_a_rule_without_an_end_stops_with_the_program_year_or_after_a_year():
    start = at(2026, 9, 8, 16)
    slots = recurrence.expand("RRULE:FREQ=MONTHLY;BYDAY=2TU", start, start + dt.timedelta(hours=2), LA_NAME, YEAR)
    assert len(slots) == 10 and slots[-1].start.astimezone(LA).date() == dt.date(2027, 6, 8)
    unbounded = recurrence.expand("FREQ=MONTHLY;BYDAY=2TU", start, start + dt.timedelta(hours=2), LA_NAME, None)
    assert len(unbounded) == 12 and unbounded[-1].start.astimezone(LA).date() == dt.date(2027, 8, 10)


def test_until_in_utc_or_as_a_date_is_inclusive():
    start = at(2026, 9, 8, 16)
    by_instant = recurrence.expand("FREQ=WEEKLY;UNTIL=20260922T230000Z", start, start + dt.timedelta(hours=1),
                                   LA_NAME, YEAR)
    by_date = recurrence.expand("FREQ=WEEKLY;UNTIL=20260922", start, start + dt.timedelta(hours=1), LA_NAME, YEAR)
    assert len(by_instant) == len(by_date) == 3


def test_the_first_occurrence_is_the_first_the_rule_yields():
    start = at(2026, 9, 1, 16)   # a Tuesday, but not the second one
    slots = recurrence.expand("FREQ=MONTHLY;BYDAY=2TU;COUNT=2", start, start + dt.timedelta(hours=1), LA_NAME, YEAR)
    assert slots[0].start == at(2026, 9, 8, 16)


@pytest.mark.parametrize(("rule", "reason"), [
    ("FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30", "RECURRENCE_NEVER_YIELDS"),
    ("FREQ=DAILY;BYMONTH=4;BYMONTHDAY=31", "RECURRENCE_NEVER_YIELDS"),
    ("FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=29", "RECURRENCE_NEVER_YIELDS"),   # next leap day is past the year
    ("FREQ=HOURLY;COUNT=3", "RECURRENCE_TOO_FREQUENT"),
    ("FREQ=MINUTELY", "RECURRENCE_TOO_FREQUENT"),
    ("FREQ=SECONDLY", "RECURRENCE_TOO_FREQUENT"),
    ("FREQ=MONTHLY;BYDAY=2XX", "INVALID_RECURRENCE"),
    ("BYDAY=TU", "INVALID_RECURRENCE"),
    ("FREQ=WEEKLY;COUNT=3;UNTIL=20270101T000000Z", "INVALID_RECURRENCE"),
    ("DTSTART:20261013T160000\nRRULE:FREQ=MONTHLY", "INVALID_RECURRENCE"),
    ("FREQ=MONTHLY;DTSTART=20261013T160000", "INVALID_RECURRENCE"),
    ("FREQ=MONTHLY\nRRULE:FREQ=WEEKLY", "INVALID_RECURRENCE"),
    ("FREQ=MONTHLY;FREQ=WEEKLY", "INVALID_RECURRENCE"),
    ("FREQ=WEEKLY;UNTIL=tomorrow", "INVALID_RECURRENCE"),
    ("FREQ=WEEKLY;X-NAME=1", "INVALID_RECURRENCE"),
    ("FREQ=DAILY;COUNT=401", "TOO_MANY_OCCURRENCES"),
    ("FREQ=DAILY;BYHOUR=16,17;COUNT=4", "RECURRENCE_OVERLAPS"),
    # Rules dateutil alone searches for until the year 9999 (seconds of work each): refused by
    # their structure, or by the bounded search (see the module docstring).
    ("FREQ=DAILY;COUNT=400;BYYEARDAY=366;BYMONTH=2", "RECURRENCE_NEVER_YIELDS"),
    ("FREQ=DAILY;BYMONTH=1;BYYEARDAY=200", "RECURRENCE_NEVER_YIELDS"),
    ("FREQ=DAILY;BYWEEKNO=1;BYMONTH=7", "RECURRENCE_NEVER_YIELDS"),
    ("FREQ=DAILY;BYSETPOS=2", "RECURRENCE_NEVER_YIELDS"),
    ("FREQ=DAILY;COUNT=3;INTERVAL=7;BYDAY=MO", "RECURRENCE_NEVER_YIELDS"),   # every 7th day from a Tuesday
    ("FREQ=YEARLY;INTERVAL=7973;COUNT=2", "SESSION_OUTSIDE_PROGRAM_YEAR"),
    ("FREQ=WEEKLY;UNTIL=99991231T000000Z", "INSTANT_OUT_OF_RANGE"),
    ("FREQ=WEEKLY;UNTIL=00010101", "INSTANT_OUT_OF_RANGE"),
])
def test_bad_rules_are_refused_on_the_recurrence_field(rule, reason):
    error = refused(rule, at(2026, 9, 8, 16))
    assert (error.reason, [f.field for f in error.fields]) == (reason, ["recurrence"])


@pytest.mark.parametrize(("rule", "reason"), [
    ("FREQ=YEARLY;INTERVAL=7973;COUNT=2", "INSTANT_OUT_OF_RANGE"),   # its second occurrence is in the year 9999
    ("FREQ=YEARLY;COUNT=200", "INSTANT_OUT_OF_RANGE"),                # runs past 2200
    ("FREQ=DAILY;COUNT=400;BYYEARDAY=366;BYMONTH=2", "RECURRENCE_NEVER_YIELDS"),
    ("FREQ=DAILY;BYMONTH=1;BYYEARDAY=200", "RECURRENCE_NEVER_YIELDS"),
    ("FREQ=DAILY;BYWEEKNO=1;BYMONTH=7", "RECURRENCE_NEVER_YIELDS"),
])
def test_without_a_program_year_a_series_stays_within_the_range_of_instants(rule, reason):
    error = refused(rule, at(2026, 9, 8, 16), year=None)
    assert (error.reason, [f.field for f in error.fields]) == (reason, ["recurrence"])


def test_a_bounded_series_may_run_for_years_without_a_program():
    start = at(2026, 9, 8, 16)
    slots = recurrence.expand("FREQ=YEARLY;COUNT=150", start, start + dt.timedelta(hours=1), LA_NAME, None)
    assert len(slots) == 150 and slots[-1].start.astimezone(LA) == dt.datetime(2175, 9, 8, 16, tzinfo=LA)
    leap_days = recurrence.expand("FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=29;COUNT=3", start, start + dt.timedelta(hours=1),
                                  LA_NAME, None)
    assert [s.start.astimezone(LA).date() for s in leap_days] == [dt.date(2028, 2, 29), dt.date(2032, 2, 29),
                                                                 dt.date(2036, 2, 29)]


def test_week_numbers_and_year_days_that_meet_their_months_pass():
    assert recurrence.impossible_combination({"FREQ": "DAILY", "BYWEEKNO": "1", "BYMONTH": "12,1"}) is None
    assert recurrence.impossible_combination({"FREQ": "DAILY", "BYYEARDAY": "-1", "BYMONTH": "12"}) is None
    assert recurrence.impossible_combination({"FREQ": "DAILY", "BYYEARDAY": "60", "BYMONTH": "2"}) is None  # leap years
    assert recurrence.impossible_combination({"FREQ": "DAILY", "BYYEARDAY": "60", "BYMONTH": "4"}) is not None
    assert recurrence.impossible_combination({"FREQ": "DAILY", "BYHOUR": "9,16", "BYSETPOS": "2"}) is None


def test_a_month_day_no_month_has_is_recognised_without_searching():
    # dateutil alone would search day by day until the year 9999 for April 31 (seconds of work).
    assert recurrence.no_possible_day({"FREQ": "DAILY", "BYMONTH": "4,6", "BYMONTHDAY": "31,-31"})
    assert not recurrence.no_possible_day({"FREQ": "DAILY", "BYMONTH": "4,5", "BYMONTHDAY": "31"})
    assert not recurrence.no_possible_day({"FREQ": "YEARLY", "BYMONTH": "2", "BYMONTHDAY": "29"})
    assert not recurrence.no_possible_day({"FREQ": "MONTHLY", "BYMONTHDAY": "-1"})


def test_the_program_year_bounds_every_occurrence():
    before = refused("", at(2026, 6, 30, 16))
    assert (before.reason, before.fields[0].field) == ("SESSION_OUTSIDE_PROGRAM_YEAR", "start_time")
    after = refused("", at(2027, 7, 1, 9))
    assert (after.reason, after.fields[0].field) == ("SESSION_OUTSIDE_PROGRAM_YEAR", "start_time")
    straddling = refused("", at(2027, 6, 30, 23), minutes=120)
    assert straddling.fields[0].field == "start_time"
    runs_past = refused("FREQ=MONTHLY;COUNT=12", at(2026, 9, 8, 16))
    assert (runs_past.reason, runs_past.fields[0].field) == ("SESSION_OUTSIDE_PROGRAM_YEAR", "recurrence")
    # The last hour of the year is inside it; the year starts at midnight July 1 local time.
    assert recurrence.expand("", at(2027, 6, 30, 23), at(2027, 7, 1, 0), LA_NAME, YEAR)
    assert recurrence.expand("", at(2026, 7, 1, 0), at(2026, 7, 1, 1), LA_NAME, YEAR)


def test_effective_rule_spells_the_end_as_the_last_original_start_in_utc():
    last = dt.datetime(2027, 6, 8, 23, tzinfo=dt.UTC)
    assert recurrence.effective_rule("FREQ=MONTHLY;BYDAY=2TU", last) == "FREQ=MONTHLY;BYDAY=2TU;UNTIL=20270608T230000Z"
    assert recurrence.effective_rule("RRULE:freq=monthly;COUNT=3;byday=2TU", last) == \
        "FREQ=MONTHLY;BYDAY=2TU;UNTIL=20270608T230000Z"
    assert recurrence.effective_rule("FREQ=WEEKLY;UNTIL=20300101", at(2027, 1, 5, 16)) == \
        "FREQ=WEEKLY;UNTIL=20270106T000000Z"


def test_an_unknown_time_zone_is_named():
    with pytest.raises(InvalidArgument) as raised:
        recurrence.zone_of("Mars/Olympus_Mons")
    assert (raised.value.reason, raised.value.fields[0].field) == ("UNKNOWN_TIME_ZONE", "time_zone")
