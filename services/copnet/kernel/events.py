"""The CloudEvents envelope for domain events, and how it maps to NATS.

Binary content mode: attributes travel as `ce-*` headers, the payload (protobuf's canonical
JSON of a copnet.events.v1 message) is the message body. An event about something inside an
organization carries that organization's scope (its ancestry plus itself) in the extension
attribute `copnetscope` (header `ce-copnetscope`, comma-separated ids), so consumers such as
plugin reactions can tell which region's configuration applies. Subjects are
`copnet.<region>.<service>.<entity>.<verb>`; the event type is the same without the region.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from dataclasses import dataclass, field

from google.protobuf import json_format
from google.protobuf.message import Message

from copnet.kernel import tracing

SPEC_VERSION = "1.0"
CONTENT_TYPE = "application/json"
TYPE_PREFIX = "copnet."
SCOPE_HEADER = "ce-copnetscope"


class MalformedEvent(ValueError):
    """A message on the bus that is not a copnet CloudEvent."""


@dataclass(frozen=True)
class CloudEvent:
    type: str                       # copnet.<service>.<entity>.<verb>
    source: str                     # copnet/<region>/<service>
    subject: str                    # id of the entity the event is about
    data: dict
    id: str = field(default_factory=lambda: uuid.uuid4().hex)
    time: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC))
    datacontenttype: str = CONTENT_TYPE
    traceparent: str | None = None
    # The organization scope the event belongs to (ancestry first, the target last); () for none.
    scope: tuple[str, ...] = ()

    @classmethod
    def of(cls, type: str, source: str, subject: str, payload: Message, **kwargs) -> "CloudEvent":
        validate_type(type)
        data = json_format.MessageToDict(payload, preserving_proto_field_name=True)
        kwargs.setdefault("traceparent", tracing.current_traceparent())
        kwargs["scope"] = tuple(kwargs.get("scope") or ())
        return cls(type=type, source=source, subject=subject, data=data, **kwargs)

    def nats_subject(self, region: str) -> str:
        return subject_for(region, self.type)

    def payload(self, message_class: type[Message]) -> Message:
        """The data parsed into its protobuf message; unknown fields are ignored (newer producers)."""
        return json_format.ParseDict(self.data, message_class(), ignore_unknown_fields=True)

    def headers(self) -> dict[str, str]:
        headers = {
            "ce-specversion": SPEC_VERSION,
            "ce-id": self.id,
            "ce-source": self.source,
            "ce-type": self.type,
            "ce-subject": self.subject,
            "ce-time": self.time.astimezone(dt.UTC).isoformat().replace("+00:00", "Z"),
            "content-type": self.datacontenttype,
            # JetStream de-duplicates on this within its duplicate window.
            "Nats-Msg-Id": self.id,
        }
        if self.traceparent:
            headers["traceparent"] = self.traceparent
        if self.scope:
            headers[SCOPE_HEADER] = ",".join(self.scope)
        return headers

    def body(self) -> bytes:
        return json.dumps(self.data, separators=(",", ":"), sort_keys=True).encode()

    @classmethod
    def from_nats(cls, headers: dict[str, str] | None, body: bytes) -> "CloudEvent":
        headers = headers or {}
        try:
            attrs = {name: headers[f"ce-{name}"] for name in ("id", "source", "type", "subject", "time")}
        except KeyError as missing:
            raise MalformedEvent(f"missing CloudEvents header {missing}") from None
        if headers.get("ce-specversion") != SPEC_VERSION:
            raise MalformedEvent(f"unsupported ce-specversion {headers.get('ce-specversion')!r}")
        try:
            data = json.loads(body) if body else {}
            time = dt.datetime.fromisoformat(attrs.pop("time").replace("Z", "+00:00"))
        except ValueError as exc:
            raise MalformedEvent(f"unreadable event: {exc}") from None
        if not isinstance(data, dict):
            raise MalformedEvent("event data must be a JSON object")
        return cls(time=time, data=data, datacontenttype=headers.get("content-type", CONTENT_TYPE),
                   traceparent=headers.get("traceparent"), scope=parse_scope(headers.get(SCOPE_HEADER)), **attrs)

    def to_document(self) -> dict:
        return {"id": self.id, "type": self.type, "source": self.source, "subject": self.subject,
                "time": self.time, "data": self.data, "datacontenttype": self.datacontenttype,
                "traceparent": self.traceparent, "scope": list(self.scope)}

    @classmethod
    def from_document(cls, doc: dict) -> "CloudEvent":
        time = doc["time"]
        if time.tzinfo is None:
            time = time.replace(tzinfo=dt.UTC)
        return cls(id=doc["id"], type=doc["type"], source=doc["source"], subject=doc["subject"],
                   time=time, data=doc["data"], datacontenttype=doc.get("datacontenttype", CONTENT_TYPE),
                   traceparent=doc.get("traceparent"), scope=tuple(doc.get("scope") or ()))


def parse_scope(value: str | None) -> tuple[str, ...]:
    """`a,b,c` -> ("a", "b", "c"); empty or missing -> ()."""
    return tuple(part.strip() for part in (value or "").split(",") if part.strip())


def validate_type(event_type: str) -> None:
    parts = event_type.split(".")
    if len(parts) != 4 or parts[0] != "copnet" or not all(p.replace("_", "").isalnum() for p in parts):
        raise ValueError(f"event type must be copnet.<service>.<entity>.<verb>, got {event_type!r}")


def subject_for(region: str, event_type: str) -> str:
    """copnet.membership.community.created -> copnet.<region>.membership.community.created"""
    validate_type(event_type)
    return f"copnet.{region}.{event_type[len(TYPE_PREFIX):]}"


def source_for(region: str, service: str) -> str:
    return f"copnet/{region}/{service}"


def stream_name(region: str) -> str:
    return f"copnet-events-{region}"


def dead_letter_stream_name(region: str) -> str:
    return f"copnet-deadletter-{region}"


def dead_letter_subject(region: str, service: str, consumer: str) -> str:
    return f"copnet-dlq.{region}.{service}.{consumer}"
