"""Program years ("2026-27": July 1 to June 30) as participation names and bounds them."""

from __future__ import annotations

import datetime as dt
import re

from copnet.kernel.errors import InvalidArgument

PATTERN = re.compile(r"^(\d{4})-(\d{2})$")
FIRST_YEAR, LAST_YEAR = 1900, 2199


def parse(value: str, field: str = "program_year") -> str:
    """A valid program year ("2026-27", the second year following the first), or InvalidArgument."""
    match = PATTERN.match(value)
    if not match:
        raise InvalidArgument.for_field(field, 'must be a program year such as "2026-27"', reason="INVALID_PROGRAM_YEAR")
    first = int(match.group(1))
    if not FIRST_YEAR <= first <= LAST_YEAR:
        raise InvalidArgument.for_field(field, f"must start between {FIRST_YEAR} and {LAST_YEAR}",
                                        reason="INVALID_PROGRAM_YEAR")
    if int(match.group(2)) != (first + 1) % 100:
        raise InvalidArgument.for_field(field, "must name two consecutive years, e.g. 2026-27",
                                        reason="INVALID_PROGRAM_YEAR")
    return value


def containing(instant: dt.datetime) -> str:
    """The program year an instant falls in (a standing community outside any program counts its
    registrations and meetings in the school year they happen in)."""
    first = instant.year if instant.month >= 7 else instant.year - 1
    return f"{first}-{(first + 1) % 100:02d}"


def next_year_start(program_year: str) -> dt.datetime:
    """July 1 (UTC) of the year after `program_year`: a person's record changed on or after it says
    where they teach in the next year."""
    first = int(program_year[:4])
    return dt.datetime(first + 1, 7, 1, tzinfo=dt.UTC)
