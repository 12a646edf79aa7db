"""Input rules every service checks the same way at its door: ids, text, enum labels, time zones
and instants. One rule, one reason:

| rule | reason |
| --- | --- |
| a required field is empty, an enum value unknown, a caller-chosen id malformed | `INVALID_FIELD` |
| a text longer than its limit | `TOO_LONG` |
| a control character in a name or title (or, other than tab and line breaks, in a longer text) | `CONTROL_CHARACTER` |
| a time zone this host's tz database does not know | `UNKNOWN_TIME_ZONE` |
| an instant outside [1900-01-01, 2200-01-01) UTC | `INSTANT_OUT_OF_RANGE` |

Each raises InvalidArgument naming the field, so the gateway's 422 says exactly what to fix.
Pure: no database, no clock.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
import zoneinfo

import bson
from google.protobuf import timestamp_pb2

from copnet.kernel import timestamps
from copnet.kernel.enums import to_label
from copnet.kernel.errors import InvalidArgument

ID_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]{1,62}$")
NAME_MAX = 200
# Every instant a service accepts lies in [EARLIEST, LATEST): dates a person can mean, and ones
# every time zone, calendar export and reminder window can still shift and show (year 1 or 9999
# overflow as soon as an offset is applied).
EARLIEST = dt.datetime(1900, 1, 1, tzinfo=dt.UTC)
LATEST = dt.datetime(2200, 1, 1, tzinfo=dt.UTC)
# Line breaks and tabs are text layout, kept in longer texts (an agenda, a description). In a name
# or title (it becomes an e-mail subject, a calendar summary, a CSV cell) they are refused with
# every other control character.
LAYOUT = frozenset("\t\n\r")


# -- ids -----------------------------------------------------------------------------------------
def chosen_or_new_id(requested: str, field: str) -> str:
    """The caller's id when it has the id form, a new one when none is asked for."""
    if not requested:
        return str(bson.ObjectId())
    if not ID_PATTERN.match(requested):
        raise InvalidArgument.for_field(field, "must be 2-63 characters: lower-case letters, digits and '-'")
    return requested


# -- enum labels ---------------------------------------------------------------------------------
def required_label(enum, value: int, field: str) -> str:
    """The lower-case label of a required proto enum value."""
    if value == 0 or value not in enum.values():
        raise InvalidArgument.for_field(field, "is required" if value == 0 else f"unknown value {value}")
    return to_label(enum, value)


def optional_label(enum, value: int, field: str, default: str | None = None) -> str | None:
    """The label of an optional enum value; `default` when it is unset (0)."""
    return default if value == 0 else required_label(enum, value, field)


def labels(enum, values, field: str) -> list[str]:
    """Labels of a repeated enum field, each required, duplicates dropped (order kept)."""
    found: list[str] = []
    for index, value in enumerate(values):
        label = required_label(enum, value, f"{field}[{index}]")
        if label not in found:
            found.append(label)
    return found


# -- text ----------------------------------------------------------------------------------------
def is_control(character: str) -> bool:
    """C0, DEL and C1 controls, and the Unicode line and paragraph separators (a line break to
    anything that splits lines)."""
    return unicodedata.category(character) in ("Cc", "Zl", "Zp")


def refuse_control_characters(value: str, field: str, *, layout: bool = False) -> str:
    """`value`, unless it holds a control character; `layout` lets tabs and line breaks through."""
    for index, character in enumerate(value):
        if is_control(character) and not (layout and character in LAYOUT):
            allowed = " (tabs and line breaks are allowed)" if layout else ""
            raise InvalidArgument.for_field(field, f"has a control character (U+{ord(character):04X}) at position "
                                                   f"{index}{allowed}", reason="CONTROL_CHARACTER")
    return value


def _limited(value: str, field: str, max_length: int) -> str:
    if len(value) > max_length:
        raise InvalidArgument.for_field(field, f"must be at most {max_length} characters", reason="TOO_LONG")
    return value


def optional_line(value: str, field: str, max_length: int = NAME_MAX) -> str:
    """A one-line text (a session title, a venue), trimmed; may be empty."""
    return refuse_control_characters(_limited(value.strip(), field, max_length), field)


def required_text(value: str, field: str, max_length: int = NAME_MAX) -> str:
    """A name or title: one line, trimmed, not empty."""
    value = optional_line(value, field, max_length)
    if not value:
        raise InvalidArgument.for_field(field, "is required")
    return value


def optional_text(value: str, field: str, max_length: int) -> str:
    """A longer text (a description, an agenda, a note), trimmed; may be empty and span lines."""
    return refuse_control_characters(_limited(value.strip(), field, max_length), field, layout=True)


# -- time zones ----------------------------------------------------------------------------------
def zone(name: str, field: str = "time_zone", *, whose: str = "") -> zoneinfo.ZoneInfo:
    """The zone called `name`; a field error on `field` when this host's tz database has none.
    `whose` says where the name came from in the message ("at the community's host")."""
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        where = f" {whose}" if whose else ""
        raise InvalidArgument.for_field(field, f"unknown IANA time zone {name!r}{where}",
                                        reason="UNKNOWN_TIME_ZONE") from None


def valid_time_zone(name: str, field: str = "time_zone") -> str:
    zone(name, field)
    return name


# -- instants ------------------------------------------------------------------------------------
def out_of_range(field: str) -> InvalidArgument:
    return InvalidArgument.for_field(field, f"must lie between {EARLIEST:%Y-%m-%d} and {LATEST:%Y-%m-%d} UTC",
                                     reason="INSTANT_OUT_OF_RANGE")


def in_range(moment: dt.datetime, field: str) -> dt.datetime:
    """`moment`, when it lies in [EARLIEST, LATEST); INSTANT_OUT_OF_RANGE on `field` otherwise."""
    if not EARLIEST <= moment < LATEST:
        raise out_of_range(field)
    return moment


def instant_of(stamp: timestamp_pb2.Timestamp, field: str) -> dt.datetime:
    """A Timestamp as an aware UTC datetime to the millisecond, when it lies in the range. Checked
    on the seconds first: a Timestamp can hold what no datetime can."""
    if not EARLIEST.timestamp() <= stamp.seconds < LATEST.timestamp():
        raise out_of_range(field)
    return timestamps.instant(stamp)


def instant(message, field: str, path: str | None = None) -> dt.datetime | None:
    """`message.field` (a Timestamp) as an aware datetime to the millisecond, None when unset.
    `path` names the field in errors when it sits in a nested message."""
    if not message.HasField(field):
        return None
    return instant_of(getattr(message, field), path or field)


def required_instant(message, field: str, path: str | None = None) -> dt.datetime:
    moment = instant(message, field, path)
    if moment is None:
        raise InvalidArgument.for_field(path or field, "is required")
    return moment
