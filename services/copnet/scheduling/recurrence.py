"""RFC 5545 recurrence rules: parse, check and expand a series in its community's time zone.

The rule is expanded on *local* wall-clock times (dateutil on a naive local start) and each
result is then placed in the zone, so a monthly 4 pm series stays at 4 pm across a daylight-saving
change. A nonexistent local time (the spring-forward gap) takes the offset before the gap, which is
RFC 5545's reading (2:30 am becomes 3:30 am daylight time); a repeated one takes its first instant.

The work is bounded by the calendar, not by a clock. dateutil looks for a rule's next occurrence
one period (a day, for DAILY) at a time and stops only at a match or at the year 9999, so a rule
that can never match (BYMONTH=1;BYYEARDAY=200) costs millions of periods. Impossible combinations
of months, month days, year days and week numbers are refused by looking at the rule; for the rest
the rule is expanded on dates moved 7,600 years forward (19 Gregorian cycles of 400 years, which
keep weekdays, leap days and week numbers), so dateutil's year 9999 is the series' year 2399: no
search runs past 2400, and every occurrence a series may have ends before 2200 (inputs.LATEST).
Pure: no database, no clock.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
import zoneinfo
from dataclasses import dataclass

from dateutil import rrule

from copnet.kernel import inputs
from copnet.kernel.errors import InvalidArgument

FIELD = "recurrence"
MAX_OCCURRENCES = 400
# 19 Gregorian cycles: the calendar repeats itself (weekdays, leap days, week numbers) every 400
# years, and datetime's last year, 9999, is 2399 + MOVED_YEARS (see the module docstring).
MOVED_YEARS = 7600
# A convening happens at most once a day in practice; finer rules are almost always a typo and
# would flood calendars and the reminder job.
TOO_FREQUENT = frozenset({"SECONDLY", "MINUTELY", "HOURLY"})
ALLOWED_PARTS = frozenset({"FREQ", "UNTIL", "COUNT", "INTERVAL", "BYSECOND", "BYMINUTE", "BYHOUR", "BYDAY",
                           "BYMONTHDAY", "BYYEARDAY", "BYWEEKNO", "BYMONTH", "BYSETPOS", "WKST"})
UNTIL_FORMAT = "%Y%m%dT%H%M%SZ"


@dataclass(frozen=True)
class Slot:
    """One occurrence of a series, in UTC. `original_start` is where the rule put it."""

    original_start: dt.datetime
    start: dt.datetime
    end: dt.datetime


def invalid(message: str, reason: str = "INVALID_RECURRENCE") -> InvalidArgument:
    return InvalidArgument.for_field(FIELD, message, reason=reason)


def normalized(rule: str) -> str:
    """The rule without surrounding blanks or a leading "RRULE:"."""
    text = rule.strip()
    return text[len("RRULE:"):].strip() if text.upper().startswith("RRULE:") else text


def parts_of(rule: str) -> list[tuple[str, str]]:
    """The rule's NAME=VALUE parts, names upper-cased; INVALID_RECURRENCE when it is not one rule."""
    text = normalized(rule)
    if not text:
        raise invalid("is empty")
    if re.search(r"[\r\n]", text) or re.search(r"(^|;)\s*(RRULE|EXRULE|RDATE|EXDATE)\s*[:=]", text, re.IGNORECASE):
        raise invalid("must be one RRULE value (no DTSTART, EXDATE, RDATE or several rules)")
    parts = []
    for piece in text.split(";"):
        name, sep, value = piece.partition("=")
        name = name.strip().upper()
        if name == "DTSTART" or name.startswith("DTSTART"):
            raise invalid("must not contain DTSTART: the session's start_time is the series' start")
        if not sep or not value.strip():
            raise invalid(f"{piece!r} is not NAME=VALUE")
        if name not in ALLOWED_PARTS:
            raise invalid(f"unknown rule part {name!r}")
        if any(name == seen for seen, _ in parts):
            raise invalid(f"{name} appears twice")
        parts.append((name, value.strip().upper()))
    names = [name for name, _ in parts]
    if "FREQ" not in names:
        raise invalid("needs FREQ (e.g. FREQ=MONTHLY;BYDAY=2TU)")
    if "COUNT" in names and "UNTIL" in names:
        raise invalid("may have COUNT or UNTIL, not both (RFC 5545)")
    return parts


def is_bounded(rule: str) -> bool:
    """True when the rule ends by itself (COUNT or UNTIL)."""
    return any(name in ("COUNT", "UNTIL") for name, _ in parts_of(rule))


def effective_rule(rule: str, last_start_utc: dt.datetime) -> str:
    """The rule with its end spelled as UNTIL=<the last occurrence's original start, UTC>: what a
    calendar client needs to stop where the stored series stops (a rule without COUNT or UNTIL
    ends with the program year here, which a client cannot know)."""
    kept = [f"{name}={value}" for name, value in parts_of(rule) if name not in ("COUNT", "UNTIL")]
    return ";".join([*kept, "UNTIL=" + last_start_utc.astimezone(dt.UTC).strftime(UNTIL_FORMAT)])


def zone_of(time_zone: str, field: str = "time_zone") -> zoneinfo.ZoneInfo:
    return inputs.zone(time_zone, field, whose="at the community's host")


def local_naive(instant: dt.datetime, zone: zoneinfo.ZoneInfo) -> dt.datetime:
    return instant.astimezone(zone).replace(tzinfo=None)


def placed(local: dt.datetime, zone: zoneinfo.ZoneInfo) -> dt.datetime:
    """A local wall-clock time as a UTC instant (fold=0: see the module docstring)."""
    return local.replace(tzinfo=zone, fold=0).astimezone(dt.UTC)


def _local_until(value: str, zone: zoneinfo.ZoneInfo) -> str:
    """UNTIL for dateutil on a naive local start (moved as in `parse`): a UTC instant becomes local
    wall-clock time, a bare date means the end of that local day."""
    try:
        if re.fullmatch(r"\d{8}", value):
            day = dt.datetime.strptime(value, "%Y%m%d")
            inputs.in_range(day.replace(tzinfo=dt.UTC), FIELD)
            return moved(day + dt.timedelta(days=1, seconds=-1), MOVED_YEARS).strftime("%Y%m%dT%H%M%S")
        if value.endswith("Z"):
            instant = dt.datetime.strptime(value, UNTIL_FORMAT).replace(tzinfo=dt.UTC)
            return moved(local_naive(inputs.in_range(instant, FIELD), zone), MOVED_YEARS).strftime("%Y%m%dT%H%M%S")
        local = dt.datetime.strptime(value, "%Y%m%dT%H%M%S")
        inputs.in_range(local.replace(tzinfo=dt.UTC), FIELD)
        return moved(local, MOVED_YEARS).strftime("%Y%m%dT%H%M%S")
    except ValueError:
        raise invalid(f"UNTIL={value} is not a date (20270630) or a UTC date-time (20270630T000000Z)") from None


def no_possible_day(parts: dict[str, str]) -> bool:
    """True when BYMONTH and BYMONTHDAY name no real date (February 30): dateutil would search
    until the year 9999 for it."""
    if "BYMONTHDAY" not in parts:
        return False
    try:
        days = [int(day) for day in parts["BYMONTHDAY"].split(",")]
        months = [int(month) for month in parts["BYMONTH"].split(",")] if "BYMONTH" in parts else list(range(1, 13))
    except ValueError:
        return False
    longest = {month: calendar.monthrange(2028, month)[1] for month in range(1, 13)}  # 2028 is a leap year
    return not any(1 <= abs(day) <= longest.get(month, 0) for day in days for month in months)


def _numbers(parts: dict[str, str], name: str) -> list[int] | None:
    """The integers of a BYxxx part; None when it is absent or not numbers (dateutil judges those)."""
    if name not in parts:
        return None
    try:
        return [int(value) for value in parts[name].split(",")]
    except ValueError:
        return None


def _months_of_year_day(day: int) -> set[int]:
    """The months year day `day` (negative: from the end) falls in, in a common or a leap year."""
    months = set()
    for year in (2027, 2028):
        length = 366 if calendar.isleap(year) else 365
        if 1 <= abs(day) <= length:
            ordinal = day if day > 0 else length + 1 + day
            months.add((dt.date(year, 1, 1) + dt.timedelta(days=ordinal - 1)).month)
    return months


def _months_of_week(week: int) -> set[int]:
    """The months week number `week` (negative: from the end) can touch in any year, with a week to
    spare either side (WKST moves a week's days)."""
    months = set()
    for year in range(2020, 2048):   # every kind of year: its first weekday, leap or not
        weeks = dt.date(year, 12, 28).isocalendar().week
        if 1 <= abs(week) <= weeks:
            number = week if week > 0 else weeks + 1 + week
            monday = dt.date.fromisocalendar(year, number, 1)
            months.update((monday + dt.timedelta(days=offset)).month for offset in range(-7, 14))
    return months


def most_candidates(parts: dict[str, str]) -> int:
    """The most occurrences one period of the rule can hold (what BYSETPOS picks among)."""
    days = {"DAILY": 1, "WEEKLY": 7, "MONTHLY": 31}.get(parts["FREQ"], 366)
    times = 1
    for name in ("BYHOUR", "BYMINUTE", "BYSECOND"):
        times *= len(_numbers(parts, name) or [0])
    return days * times


def impossible_combination(parts: dict[str, str]) -> str | None:
    """Why the rule's months, month days, year days and week numbers can never meet; None when they
    can (or cannot be judged here)."""
    if no_possible_day(parts):
        return "no such day of the month"
    positions = _numbers(parts, "BYSETPOS")
    if positions is not None and min(map(abs, positions)) > most_candidates(parts):
        return "BYSETPOS asks for more candidates than one period holds"
    months = _numbers(parts, "BYMONTH")
    if months is None:
        return None
    year_days = _numbers(parts, "BYYEARDAY")
    if year_days is not None and not set(months) & set().union(*map(_months_of_year_day, year_days)):
        return "none of its BYYEARDAY days falls in its BYMONTH months"
    weeks = _numbers(parts, "BYWEEKNO")
    if weeks is not None and not set(months) & set().union(*map(_months_of_week, weeks)):
        return "none of its BYWEEKNO weeks falls in its BYMONTH months"
    return None


def parse(rule: str, local_start: dt.datetime, zone: zoneinfo.ZoneInfo) -> rrule.rrule:
    """The rule from `local_start` on, on dates MOVED_YEARS later (see the module docstring)."""
    parts = dict(parts_of(rule))
    if parts["FREQ"] in TOO_FREQUENT:
        raise invalid(f"FREQ={parts['FREQ']} is too frequent: at most one occurrence a day (DAILY)",
                      reason="RECURRENCE_TOO_FREQUENT")
    if "UNTIL" in parts:
        parts["UNTIL"] = _local_until(parts["UNTIL"], zone)
    impossible = impossible_combination(parts)
    if impossible is not None:
        raise invalid(f"never yields an occurrence ({impossible})", reason="RECURRENCE_NEVER_YIELDS")
    if (count_of(parts) or 0) > MAX_OCCURRENCES:
        raise invalid(f"yields more than {MAX_OCCURRENCES} occurrences", reason="TOO_MANY_OCCURRENCES")
    text = ";".join(f"{name}={value}" for name, value in parts.items())
    try:
        parsed = rrule.rrulestr(text, dtstart=moved(local_start, MOVED_YEARS))
    except (ValueError, TypeError, KeyError, IndexError) as error:
        raise invalid(f"is not an RFC 5545 RRULE value: {error}") from None
    if not isinstance(parsed, rrule.rrule):
        raise invalid("must be one RRULE value")
    return parsed


def count_of(parts: dict[str, str]) -> int | None:
    count = _numbers(parts, "COUNT")
    return count[0] if count else None


def moved(moment: dt.datetime, years: int) -> dt.datetime:
    """`moment` `years` later (a multiple of 400: February 29 stays a leap day, Mondays stay Mondays)."""
    return moment.replace(year=moment.year + years)


def expand(rule: str, start: dt.datetime, end: dt.datetime, time_zone: str,
           year: tuple[dt.datetime, dt.datetime] | None = None) -> list[Slot]:
    """The series' occurrences in UTC, each as long as the first (end - start).

    `year` is the program year [start, end): every occurrence must fall inside it, and a rule
    without COUNT or UNTIL stops at its end (without a program: one year after the start). No
    occurrence may end after inputs.LATEST. An empty rule is a single occurrence. Raises
    InvalidArgument with the reasons of the module.
    """
    length = end - start
    zone = zone_of(time_zone)
    if year is not None:
        check_in_year(start, end, year, "start_time")
    if not normalized(rule):
        return [Slot(start, start, end)]
    inputs.in_range(start, "start_time")
    parsed = parse(rule, local_naive(start, zone), zone)
    bounded = is_bounded(rule)
    if year is not None:
        horizon = year[1]
    else:
        horizon = inputs.LATEST if bounded else min(a_year_after(start), inputs.LATEST)
    slots: list[Slot] = []
    for local in parsed:
        begin = placed(moved(local, -MOVED_YEARS), zone)
        if begin + length > horizon:
            if not bounded:
                break
            raise past_horizon(year, f"{begin:%Y-%m-%d %H:%M}–{begin + length:%Y-%m-%d %H:%M} UTC is")
        if len(slots) == MAX_OCCURRENCES:
            raise invalid(f"yields more than {MAX_OCCURRENCES} occurrences", reason="TOO_MANY_OCCURRENCES")
        if slots and begin < slots[-1].end:
            raise invalid(f"an occurrence at {begin:%Y-%m-%d %H:%M} UTC starts before the previous one ends",
                          reason="RECURRENCE_OVERLAPS")
        slots.append(Slot(begin, begin, begin + length))
    if not slots:
        raise invalid("never yields an occurrence" + (" within the program year" if year else ""),
                      reason="RECURRENCE_NEVER_YIELDS")
    if len(slots) < (count_of(dict(parts_of(rule))) or 0):
        # The search ended (the year 2399, see the module docstring) before COUNT was reached.
        raise past_horizon(year, f"occurrence {len(slots) + 1} is")
    if year is not None:
        check_in_year(slots[0].start, slots[0].end, year, "start_time")
        for slot in slots[1:]:
            check_in_year(slot.start, slot.end, year, FIELD)
    return slots


def past_horizon(year: tuple[dt.datetime, dt.datetime] | None, what: str) -> InvalidArgument:
    """A bounded rule running past where a series may go: the program year, or the range of instants."""
    if year is None:
        return inputs.out_of_range(FIELD)
    return outside_year(what, year, FIELD)


def a_year_after(instant: dt.datetime) -> dt.datetime:
    """Where a rule without COUNT or UNTIL stops when there is no program year."""
    try:
        return instant.replace(year=instant.year + 1)
    except ValueError:   # February 29
        return instant.replace(year=instant.year + 1, day=28)


def check_in_year(start: dt.datetime, end: dt.datetime, year: tuple[dt.datetime, dt.datetime], field: str) -> None:
    if start < year[0] or end > year[1]:
        raise outside_year(f"{start:%Y-%m-%d %H:%M}–{end:%Y-%m-%d %H:%M} UTC is", year, field)


def outside_year(what: str, year: tuple[dt.datetime, dt.datetime], field: str) -> InvalidArgument:
    return InvalidArgument.for_field(
        field, f"{what} outside the program year [{year[0]:%Y-%m-%d %H:%M}, {year[1]:%Y-%m-%d %H:%M}) UTC",
        reason="SESSION_OUTSIDE_PROGRAM_YEAR")
