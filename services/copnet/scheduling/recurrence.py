"""RFC 5545 recurrence rules: parse, check and expand a series in its community's time zone.

The rule is expanded on *local* wall-clock times (dateutil on a naive local start) and each
result is then placed in the zone, so a monthly 4 pm series stays at 4 pm across a daylight-saving
change. A nonexistent local time (the spring-forward gap) takes the offset before the gap, which is
RFC 5545's reading (2:30 am becomes 3:30 am daylight time); a repeated one takes its first instant.
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
    """UNTIL for dateutil on a naive local start: a UTC instant becomes local wall-clock time, a
    bare date means the end of that local day."""
    try:
        if re.fullmatch(r"\d{8}", value):
            day = dt.datetime.strptime(value, "%Y%m%d")
            return (day + dt.timedelta(days=1, seconds=-1)).strftime("%Y%m%dT%H%M%S")
        if value.endswith("Z"):
            instant = dt.datetime.strptime(value, UNTIL_FORMAT).replace(tzinfo=dt.UTC)
            return local_naive(instant, zone).strftime("%Y%m%dT%H%M%S")
        return dt.datetime.strptime(value, "%Y%m%dT%H%M%S").strftime("%Y%m%dT%H%M%S")
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


def parse(rule: str, local_start: dt.datetime, zone: zoneinfo.ZoneInfo) -> rrule.rrule:
    parts = dict(parts_of(rule))
    if parts["FREQ"] in TOO_FREQUENT:
        raise invalid(f"FREQ={parts['FREQ']} is too frequent: at most one occurrence a day (DAILY)",
                      reason="RECURRENCE_TOO_FREQUENT")
    if "UNTIL" in parts:
        parts["UNTIL"] = _local_until(parts["UNTIL"], zone)
    if no_possible_day(parts):
        raise invalid("never yields an occurrence (no such day of the month)", reason="RECURRENCE_NEVER_YIELDS")
    text = ";".join(f"{name}={value}" for name, value in parts.items())
    try:
        parsed = rrule.rrulestr(text, dtstart=local_start)
    except (ValueError, TypeError, KeyError, IndexError) as error:
        raise invalid(f"is not an RFC 5545 RRULE value: {error}") from None
    if not isinstance(parsed, rrule.rrule):
        raise invalid("must be one RRULE value")
    return parsed


def expand(rule: str, start: dt.datetime, end: dt.datetime, time_zone: str,
           year: tuple[dt.datetime, dt.datetime] | None = None) -> list[Slot]:
    """The series' occurrences in UTC, each as long as the first (end - start).

    `year` is the program year [start, end): every occurrence must fall inside it, and a rule
    without COUNT or UNTIL stops at its end (without a program: one year after the start).
    An empty rule is a single occurrence. Raises InvalidArgument with the reasons of the module.
    """
    length = end - start
    zone = zone_of(time_zone)
    if year is not None:
        check_in_year(start, end, year, "start_time")
    if not normalized(rule):
        return [Slot(start, start, end)]
    parsed = parse(rule, local_naive(start, zone), zone)
    bounded = is_bounded(rule)
    horizon = year[1] if year is not None else a_year_after(start)
    slots: list[Slot] = []
    for local in parsed:
        begin = placed(local, zone)
        if not bounded and begin + length > horizon:
            break
        if len(slots) == MAX_OCCURRENCES:
            raise invalid(f"yields more than {MAX_OCCURRENCES} occurrences", reason="TOO_MANY_OCCURRENCES")
        if slots and begin < slots[-1].end:
            raise invalid(f"an occurrence at {begin:%Y-%m-%d %H:%M} UTC starts before the previous one ends",
                          reason="RECURRENCE_OVERLAPS")
        slots.append(Slot(begin, begin, begin + length))
    if not slots:
        raise invalid("never yields an occurrence" + (" within the program year" if year else ""),
                      reason="RECURRENCE_NEVER_YIELDS")
    if year is not None:
        check_in_year(slots[0].start, slots[0].end, year, "start_time")
        for slot in slots[1:]:
            check_in_year(slot.start, slot.end, year, FIELD)
    return slots


def a_year_after(instant: dt.datetime) -> dt.datetime:
    """Where a rule without COUNT or UNTIL stops when there is no program year."""
    try:
        return instant.replace(year=instant.year + 1)
    except ValueError:   # February 29
        return instant.replace(year=instant.year + 1, day=28)


def check_in_year(start: dt.datetime, end: dt.datetime, year: tuple[dt.datetime, dt.datetime], field: str) -> None:
    if start < year[0] or end > year[1]:
        raise InvalidArgument.for_field(
            field, f"{start:%Y-%m-%d %H:%M}–{end:%Y-%m-%d %H:%M} UTC is outside the program year "
                   f"[{year[0]:%Y-%m-%d %H:%M}, {year[1]:%Y-%m-%d %H:%M}) UTC", reason="SESSION_OUTSIDE_PROGRAM_YEAR")
