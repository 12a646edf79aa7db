"""Whether a message from the statewide stream is a record the hub may apply: pure (no database,
no clock), one named reason per rule broken.

The region is the link's: the subject its share stream admitted (`copnet-share.<region>.<kind>`),
cross-checked with the `Nats-Stream-Source` header JetStream adds to what a source copies. What
the payload says about its region only has to agree with that.

| reason | the rule |
| --- | --- |
| `TOO_LARGE` | body over MAX_BODY_BYTES; more cells or children than MAX_ROWS; a list over MAX_ITEMS |
| `NOT_A_SHARE_SUBJECT` | the subject is not `copnet-share.<region>.<kind>` |
| `REGION_MISMATCH` | the source header names another region's share stream; the payload (or its content) claims another region than the link |
| `UNKNOWN_REGION` | the link's region is not one of the hub's regions (COPNET_HUB_REGIONS) |
| `NOT_A_CLOUD_EVENT` | no CloudEvents headers, or a body that is not a JSON object |
| `NOT_A_SHARED_RECORD` | another event type, or data that is not a `copnet.share.v1.SharedRecord` (an unknown field is refused: only fields the proto allows cross) |
| `SCHEMA_VERSION` | a record layout this hub does not read |
| `KIND_MISMATCH` | the subject's kind, the record's kind and its content disagree |
| `BAD_VERSION` | version below 1 or beyond MAX_VERSION |
| `BAD_KEY` | an empty, too long or control-character key; a catalog or directory key that does not name its content |
| `BELOW_THRESHOLD` | min_cell below 10; a figure of fewer than min_cell not withheld; a withheld cell with figures |
| `TOO_LONG`, `CONTROL_CHARACTER` | a text over its bound or with a control character (copnet.kernel.inputs's rules) |
| `BAD_URL` | a join or public URL that is not http(s) |
| `INSTANT_OUT_OF_RANGE` | a time outside copnet.kernel.inputs's range |
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass

from google.protobuf import json_format
from google.protobuf.descriptor import FieldDescriptor
from google.protobuf.message import Message

from copnet.kernel import inputs
from copnet.kernel.errors import InvalidArgument
from copnet.kernel.events import CloudEvent, MalformedEvent
from copnet.kernel.federation import (SHARE_EVENT_TYPE, SHARED_RECORD_SCHEMA_VERSION, kind_of_subject,
                                      share_stream_name)
from copnet.share.v1 import share_pb2

# Bounds on what one message may hold (a region's largest measures record is a few hundred cells).
MAX_BODY_BYTES = 1024 * 1024
MAX_ROWS = 10_000          # cells of a measures record, children of a participation record
MAX_ITEMS = 1_000          # any other list (grade bands, organization ids, levels)
MAX_KEY_LENGTH = 300
MAX_VERSION = 2 ** 53
TEXT_MAX = inputs.NAME_MAX
URL_MAX = 2_000
# The lowest small-cell threshold anything shared may have been suppressed with.
MIN_CELL_FLOOR = 10
SOURCE_HEADER = "Nats-Stream-Source"

# Which content each kind's records carry.
KIND_CONTENTS = {
    "measures": {"measures"},
    "participation": {"participation"},
    "catalog": {"community", "program"},
    "directory": {"organization", "region_info"},
    "cycles": {"cycles"},
}
ROW_LISTS = frozenset({"cells", "children"})
# Longer texts (tabs and line breaks allowed), as membership bounds them.
LONG_TEXTS = {"description": 5_000, "focus": 500}
URLS = frozenset({"join_url", "public_url"})
URL_PATTERN = re.compile(r"^https?://[^\s/?#]+[^\s]*$")


@dataclass(frozen=True)
class Refusal:
    reason: str
    detail: str
    # The link's region when it could be told (else "").
    region: str = ""


@dataclass(frozen=True)
class Accepted:
    region: str
    kind: str
    record: share_pb2.SharedRecord


class Refused(Exception):
    def __init__(self, reason: str, detail: str):
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


def judge(subject: str, headers: Mapping[str, str], body: bytes, linked_regions: Collection[str]) -> Accepted | Refusal:
    """The record in a message of the statewide stream, with its region and kind, or why not."""
    region = ""
    try:
        if len(body) > MAX_BODY_BYTES:
            raise Refused("TOO_LARGE", f"the message has {len(body)} bytes; at most {MAX_BODY_BYTES}")
        region, kind = link_of(subject, headers)
        if region not in linked_regions:
            raise Refused("UNKNOWN_REGION", f"region {region!r} is not linked to this hub")
        record = shared_record(headers, body)
        check_record(record, region, kind)
        return Accepted(region, kind, record)
    except Refused as refused:
        return Refusal(refused.reason, refused.detail[:1000], region)


def link_of(subject: str, headers: Mapping[str, str]) -> tuple[str, str]:
    """(region, kind) from the subject the region's share stream admitted; the source header,
    when present, must name that region's share stream."""
    found = kind_of_subject(subject)
    if found is None:
        raise Refused("NOT_A_SHARE_SUBJECT", f"subject {subject[:200]!r} is not copnet-share.<region>.<kind>")
    region, kind = found
    source = headers.get(SOURCE_HEADER)
    if source is not None:
        # "<stream>[:<hash of the external API prefix>] <sequence> <filter> <destination>"
        stream = source.split(" ", 1)[0].split(":", 1)[0]
        if stream != share_stream_name(region):
            raise Refused("REGION_MISMATCH", f"subject {subject!r} came from stream {shown(stream, STREAM_PATTERN)}, "
                                             f"not {share_stream_name(region)!r}")
    return region, kind


def shared_record(headers: Mapping[str, str], body: bytes) -> share_pb2.SharedRecord:
    try:
        event = CloudEvent.from_nats(dict(headers), body)
    except (MalformedEvent, UnicodeDecodeError) as exc:
        raise Refused("NOT_A_CLOUD_EVENT", cloud_event_problem(str(exc))) from None
    if event.type != SHARE_EVENT_TYPE:
        raise Refused("NOT_A_SHARED_RECORD", f"the event's type is {shown(event.type, EVENT_TYPE_PATTERN)}, "
                                             f"not {SHARE_EVENT_TYPE}")
    try:
        # Strict: a field the proto does not have is refused, not dropped.
        return json_format.ParseDict(event.data, share_pb2.SharedRecord(), ignore_unknown_fields=False)
    except (json_format.ParseError, ValueError, TypeError, RecursionError) as exc:
        raise Refused("NOT_A_SHARED_RECORD", parse_problem(str(exc))) from None


# A refusal's detail never repeats what the sender wrote, unless it has the form of a name of
# ours (a field, a region, a kind): a value in a message that broke the rules may be anything.
IDENTIFIER_PATTERN = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")
REGION_PATTERN = re.compile(r"^[a-z][a-z0-9-]{1,31}$")
EVENT_TYPE_PATTERN = re.compile(r"^[a-z][a-z0-9_.]{0,99}$")
STREAM_PATTERN = re.compile(r"^[a-z][a-z0-9-]{1,63}$")
PATH_PATTERN = re.compile(r"^[A-Za-z0-9_.\[\]]{1,200}$")


def shown(value: str, pattern: re.Pattern) -> str:
    """`value` quoted when it has the form `pattern` allows, else a mention that it is not shown."""
    return repr(value) if pattern.match(value) else "(a value not shown)"


def cloud_event_problem(message: str) -> str:
    if message.startswith("missing CloudEvents header"):
        return message  # the header's name is one of ours
    if message.startswith("unsupported ce-specversion"):
        return "unsupported ce-specversion"
    return "the body is not a JSON object, or ce-time is not an instant"


def parse_problem(message: str) -> str:
    where = re.search(r' at "([^"]*)"', message)
    at = f" at {where.group(1)}" if where and PATH_PATTERN.match(where.group(1)) else ""
    unknown = re.search(r'has no field named "([^"]*)"', message)
    if unknown:
        return (f"field {shown(unknown.group(1), IDENTIFIER_PATTERN)}{at} is not one of "
                "copnet.share.v1.SharedRecord's (only the fields it declares cross)")
    wrong = re.search(r"Failed to parse (\w+) field", message)
    if wrong:
        return f"field {wrong.group(1)}{at} has a value of the wrong type"
    return f"the data is not a copnet.share.v1.SharedRecord{at}"


def check_record(record: share_pb2.SharedRecord, region: str, kind: str) -> None:
    """Every rule on the record itself, given the link's region and the subject's kind."""
    check_sizes(record)
    if record.schema_version != SHARED_RECORD_SCHEMA_VERSION:
        raise Refused("SCHEMA_VERSION", f"schema_version {record.schema_version}; this hub reads "
                                        f"{SHARED_RECORD_SCHEMA_VERSION}")
    check_region(record, region)
    check_kind(record, kind)
    if not 1 <= record.version <= MAX_VERSION:
        raise Refused("BAD_VERSION", f"version {record.version} is not between 1 and {MAX_VERSION}")
    check_key(record)
    check_threshold(record)
    check_texts(record)
    for name, stamp in instants(record):
        refused_input(inputs.instant_of, stamp, name)


def check_sizes(message: Message, path: str = "") -> None:
    for field, value in message.ListFields():
        name = f"{path}{field.name}"
        if field.is_repeated:
            limit = MAX_ROWS if field.name in ROW_LISTS else MAX_ITEMS
            if len(value) > limit:
                raise Refused("TOO_LARGE", f"{name} has {len(value)} items; at most {limit}")
            if field.type == FieldDescriptor.TYPE_MESSAGE:
                for index, item in enumerate(value):
                    check_sizes(item, f"{name}[{index}].")
        elif field.type == FieldDescriptor.TYPE_MESSAGE:
            check_sizes(value, f"{name}.")


def check_region(record: share_pb2.SharedRecord, region: str) -> None:
    claims = {"region": record.region}
    content = record.WhichOneof("content")
    if content in ("measures", "participation"):
        claims[f"{content}.region"] = getattr(record, content).region
    elif content == "region_info":
        claims["region_info.region"] = record.region_info.region
    for field, claimed in claims.items():
        if claimed != region:
            raise Refused("REGION_MISMATCH", f"{field} is {shown(claimed, REGION_PATTERN)} but the record "
                                             f"came over {region!r}'s link")


def check_kind(record: share_pb2.SharedRecord, kind: str) -> None:
    if record.kind != kind:
        raise Refused("KIND_MISMATCH", f"kind {shown(record.kind, REGION_PATTERN)} on the subject of kind {kind!r}")
    content = record.WhichOneof("content")
    if content is None:
        if not record.withdrawn:
            raise Refused("KIND_MISMATCH", "a record that is not withdrawn has no content")
        return
    if content not in KIND_CONTENTS[kind]:
        raise Refused("KIND_MISMATCH", f"a {kind} record carries {content}")


def check_key(record: share_pb2.SharedRecord) -> None:
    key = record.key
    if not key or len(key) > MAX_KEY_LENGTH or key != key.strip() or any(map(inputs.is_control, key)):
        raise Refused("BAD_KEY", f"key must be 1-{MAX_KEY_LENGTH} characters without control characters "
                                 "or surrounding spaces")
    content = record.WhichOneof("content")
    expected = {
        "community": lambda: f"community:{record.community.id}",
        "program": lambda: f"program:{record.program.id}",
        "organization": lambda: f"organization:{record.organization.id}",
        "region_info": lambda: "region",
    }.get(content)
    if expected is not None and key != expected():
        raise Refused("BAD_KEY", f"the key does not name the {content} it carries ({content.replace('_info', '')}"
                                 f"{':<its id>' if content != 'region_info' else ''})")


def check_threshold(record: share_pb2.SharedRecord) -> None:
    content = record.WhichOneof("content")
    if content == "measures":
        check_measures(record.measures)
    elif content == "participation":
        check_participation(record.participation)
    elif content == "region_info" and record.region_info.min_cell < MIN_CELL_FLOOR:
        raise below(f"region_info.min_cell is {record.region_info.min_cell}; never below {MIN_CELL_FLOOR}")


def check_measures(measures) -> None:
    if measures.min_cell < MIN_CELL_FLOOR:
        raise below(f"measures.min_cell is {measures.min_cell}; never below {MIN_CELL_FLOOR}")
    for index, cell in enumerate(measures.cells):
        where = f"measures.cells[{index}]"
        if cell.withheld:
            if cell.HasField("figures"):
                raise below(f"{where} is withheld but carries figures")
        elif cell.figures.students_tested < measures.min_cell:
            # The count itself is not repeated: it is the small figure that must not be kept.
            raise below(f"{where} counts fewer students than min_cell {measures.min_cell} and is not withheld")


PARTICIPATION_FIGURES = ("teachers_reached", "schools_reached", "districts_reached", "attendance_rate",
                         "learning_hours", "attendance_records")


def check_participation(participation) -> None:
    if participation.min_cell < MIN_CELL_FLOOR:
        raise below(f"participation.min_cell is {participation.min_cell}; never below {MIN_CELL_FLOOR}")
    rows = [("participation.figures", participation.figures)] if participation.HasField("figures") else []
    rows += [(f"participation.children[{i}]", child) for i, child in enumerate(participation.children)]
    for where, figures in rows:
        if figures.withheld:
            shown = [name for name in PARTICIPATION_FIGURES if figures.HasField(name)]
            if shown:
                raise below(f"{where} is withheld but carries {', '.join(shown)}")
        elif figures.HasField("teachers_reached") and figures.teachers_reached < participation.min_cell:
            raise below(f"{where} counts fewer teachers than min_cell {participation.min_cell} and is not withheld")


def below(detail: str) -> Refused:
    return Refused("BELOW_THRESHOLD", detail)


def check_texts(message: Message, path: str = "") -> None:
    """Every string in the record within its bound, without control characters (tabs and line
    breaks only in a description); URLs http(s)."""
    for name, value in strings(message, path):
        field = name.rsplit(".", 1)[-1].split("[", 1)[0]
        if field in URLS:
            refused_input(inputs.optional_line, value, name, URL_MAX)
            if value and not URL_PATTERN.match(value):
                raise Refused("BAD_URL", f"{name} must be an http(s) URL")
        elif field in LONG_TEXTS:
            refused_input(inputs.optional_text, value, name, LONG_TEXTS[field])
        else:
            refused_input(inputs.optional_line, value, name, TEXT_MAX)


def strings(message: Message, path: str = "") -> Iterator[tuple[str, str]]:
    for field, value in message.ListFields():
        name = f"{path}{field.name}"
        if field.type == FieldDescriptor.TYPE_STRING:
            if field.is_repeated:
                yield from ((f"{name}[{i}]", item) for i, item in enumerate(value))
            else:
                yield name, value
        elif field.type == FieldDescriptor.TYPE_MESSAGE:
            if field.is_repeated:
                for index, item in enumerate(value):
                    yield from strings(item, f"{name}[{index}].")
            else:
                yield from strings(value, f"{name}.")


def instants(message: Message, path: str = "") -> Iterator[tuple[str, Message]]:
    """Every Timestamp in the message, with its path."""
    for field, value in message.ListFields():
        if field.type != FieldDescriptor.TYPE_MESSAGE:
            continue
        name = f"{path}{field.name}"
        items = list(enumerate(value)) if field.is_repeated else [(None, value)]
        for index, item in items:
            where = name if index is None else f"{name}[{index}]"
            if item.DESCRIPTOR.full_name == "google.protobuf.Timestamp":
                yield where, item
            else:
                yield from instants(item, f"{where}.")


def refused_input(rule, *args):
    """A copnet.kernel.inputs rule, its refusal under its own reason."""
    try:
        return rule(*args)
    except InvalidArgument as error:
        raise Refused(error.reason, error.message) from None
