"""What every area's conversions share: JSON field names, instants, empty-means-null, the enums
whose JSON spelling differs from the proto label."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from google.protobuf import timestamp_pb2

from copnet.gateway.schemas.common import GradeBand
from copnet.kernel.enums import GRADE_BAND_LABEL, GRADE_BAND_SPELLING, from_label, to_label
from copnet.kernel.timestamps import instant
from copnet.membership.v1 import membership_pb2

# Proto request fields whose JSON name may differ, so a service's field violation names what the
# caller actually sent: AIP-133's `organization_id` is a create body's `id`, a move's
# `new_parent_id` is its `parent_id`. Applied only when the caller did not send the proto name
# itself (a registration's `person_id` stays `person_id`); see json_field.
JSON_FIELD_FOR_PROTO_FIELD = {
    "organization_id": "id", "community_id": "id", "person_id": "id", "program_id": "id", "team_id": "id",
    "session_id": "id", "fields_json": "fields",
    "new_parent_id": "parent_id",
    "signup_window.open_time": "signup_window.opens_at", "signup_window.close_time": "signup_window.closes_at",
    "due_time": "due_at",
    "administration_id": "id", "instrument_id": "id", "open_time": "opens_at", "close_time": "closes_at",
}

def json_field(proto_field: str, sent: frozenset[str] | set[str] = frozenset(),
               request_fields: frozenset[str] | set[str] = frozenset()) -> str:
    """The JSON name of a proto request field; `sent` holds the top-level names the caller sent,
    `request_fields` the request message's own fields."""
    renamed = JSON_FIELD_FOR_PROTO_FIELD.get(proto_field, proto_field)
    if top_level(renamed) != top_level(proto_field) and top_level(proto_field) in sent:
        return proto_field  # the caller used the proto name itself (a registration's person_id)
    if top_level(renamed) == "id" and "id" in request_fields:
        return proto_field  # the request has an id of its own: `team_id` names another resource
    return renamed


def top_level(field: str) -> str:
    return re.split(r"[.\[]", field, maxsplit=1)[0]


def rfc3339(timestamp: timestamp_pb2.Timestamp) -> datetime:
    """The API's instants carry milliseconds, the precision MongoDB stores, whatever a reply holds."""
    return instant(timestamp)


def rfc3339_or_null(message, field: str) -> datetime | None:
    """`message.field` as an instant, or None when the (message-typed) field is unset."""
    return rfc3339(getattr(message, field)) if message.HasField(field) else None


# Where an instant goes that UTC cannot hold (year 1 with an offset east of Greenwich, 9999 west of
# it): the earliest instant a Timestamp holds, which every service refuses as out of its range
# (kernel.inputs: INSTANT_OUT_OF_RANGE, naming the field), as it refuses any other far date.
BEYOND_UTC = timestamp_pb2.Timestamp(seconds=-62135596800)


def timestamp_of(moment: datetime) -> timestamp_pb2.Timestamp:
    """A JSON instant as a proto Timestamp (pydantic has already required a time zone, see AwareDatetime)."""
    stamp = timestamp_pb2.Timestamp()
    try:
        stamp.FromDatetime(moment.astimezone(UTC))
    except (OverflowError, ValueError):
        return timestamp_pb2.Timestamp(seconds=BEYOND_UTC.seconds)
    return stamp


def or_null(text: str) -> str | None:
    """proto3 has no null: an empty string there means "absent" here."""
    return text or None


def grade_bands_to_proto(bands) -> list[int]:
    return [from_label(membership_pb2.GradeBand, GRADE_BAND_LABEL[GradeBand(band)]) for band in bands]


def grade_bands_from_proto(numbers) -> list[GradeBand]:
    return [GradeBand(GRADE_BAND_SPELLING[to_label(membership_pb2.GradeBand, number)]) for number in numbers]


def enum_to_proto(enum, value) -> int:
    """A JSON enum value (same spelling as the proto label) as the proto number; 0 for None."""
    return from_label(enum, str(value)) if value is not None else 0


def enum_from_proto(enum, number: int) -> str:
    return to_label(enum, number)


def in_zone(moment: datetime, time_zone: str) -> datetime:
    """`moment` with the offset it has in `time_zone` (UTC when the zone is empty or unknown here,
    or when the offset would carry it past the calendar: a record stored before instants were kept
    to a sane range, at the year 1 or 9999, is still shown)."""
    try:
        zone = ZoneInfo(time_zone) if time_zone else UTC
    except (ZoneInfoNotFoundError, ValueError):
        zone = UTC
    try:
        return moment.astimezone(zone)
    except OverflowError:
        return moment.astimezone(UTC)


def fields_of(fields_json: str) -> dict:
    """A JSON object of a reply (a session's fields, a session type's fields schema); {} when there are
    none, or the text is not an object."""
    try:
        fields = json.loads(fields_json) if fields_json else {}
    except ValueError:
        return {}
    return fields if isinstance(fields, dict) else {}
