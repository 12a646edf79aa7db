"""Input rules every area of membership checks the same way (ids, text, enums, time zones, instants).

Each raises InvalidArgument naming the field, so the gateway's 422 says exactly what to fix.
"""

from __future__ import annotations

import datetime as dt
import re

import bson

from copnet.kernel import timestamps, timezones
from copnet.kernel.enums import to_label
from copnet.kernel.errors import InvalidArgument

ID_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]{1,62}$")


def required_label(enum, value: int, field: str) -> str:
    """The lower-case label of a required proto enum value."""
    if value == 0 or value not in enum.values():
        raise InvalidArgument.for_field(field, "is required" if value == 0 else f"unknown value {value}")
    return to_label(enum, value)


def optional_label(enum, value: int, field: str) -> str | None:
    return None if value == 0 else required_label(enum, value, field)


def labels(enum, values, field: str) -> list[str]:
    """Labels of a repeated enum field, each required, duplicates dropped (order kept)."""
    found: list[str] = []
    for index, value in enumerate(values):
        label = required_label(enum, value, f"{field}[{index}]")
        if label not in found:
            found.append(label)
    return found


def chosen_or_new_id(requested: str, field: str) -> str:
    if not requested:
        return str(bson.ObjectId())
    if not ID_PATTERN.match(requested):
        raise InvalidArgument.for_field(field, "must be 2-63 characters: lower-case letters, digits and '-'")
    return requested


def required_text(value: str, field: str, max_length: int = 200) -> str:
    value = value.strip()
    if not value:
        raise InvalidArgument.for_field(field, "is required")
    if len(value) > max_length:
        raise InvalidArgument.for_field(field, f"must be at most {max_length} characters")
    return value


def optional_text(value: str, field: str, max_length: int) -> str:
    value = value.strip()
    if len(value) > max_length:
        raise InvalidArgument.for_field(field, f"must be at most {max_length} characters")
    return value


def valid_time_zone(name: str, field: str = "time_zone") -> str:
    timezones.zone(name, field)
    return name


def instant(message, field: str, path: str | None = None) -> dt.datetime | None:
    """`message.field` (a Timestamp) as an aware datetime to the millisecond, None when unset."""
    if not message.HasField(field):
        return None
    return timestamps.instant(getattr(message, field))


def required_instant(message, field: str, path: str | None = None) -> dt.datetime:
    moment = instant(message, field)
    if moment is None:
        raise InvalidArgument.for_field(path or field, "is required")
    return moment
