"""SharedRecords: the keys each kind is shared under, the record around a content, and the digest
that tells a change of content from the same content sent again.

Keys (one entity of a region and kind; the hub keeps one version line per key):

- measures: `<organization>|<test>|<school year>|<window>` (as reflection keys its aggregates)
- participation: `<organization>|<program year>`
- catalog: `community:<id>`, `program:<id>`
- directory: `organization:<id>`, and `region` for the region itself
- cycles: `<organization>|<program year>`

A withdrawn record carries no content: its key names what the hub forgets.
"""

from __future__ import annotations

import datetime as dt
import hashlib

from google.protobuf.message import Message

from copnet.kernel.federation import SHARE_KINDS, SHARED_RECORD_SCHEMA_VERSION
from copnet.kernel.timestamps import timestamp
from copnet.reflection.v1 import measures_pb2, participation_pb2
from copnet.share.v1 import share_pb2

REGION_KEY = "region"
# The content field of SharedRecord each content message goes in, and the kind it belongs to.
CONTENT_FIELDS: dict[type[Message], tuple[str, str]] = {
    measures_pb2.AggregatesPublished: ("measures", "measures"),
    participation_pb2.ParticipationPublished: ("participation", "participation"),
    share_pb2.SharedCommunity: ("community", "catalog"),
    share_pb2.SharedProgram: ("program", "catalog"),
    share_pb2.SharedOrganization: ("organization", "directory"),
    share_pb2.SharedRegion: ("region_info", "directory"),
    share_pb2.SharedCycleCounts: ("cycles", "cycles"),
}


def measures_key(organization_id: str, test: str, school_year: str, window: str) -> str:
    return f"{organization_id}|{test}|{school_year}|{window}"


def year_key(organization_id: str, year: str) -> str:
    """participation and cycles: an organization and a program year."""
    return f"{organization_id}|{year}"


def community_key(community_id: str) -> str:
    return f"community:{community_id}"


def program_key(program_id: str) -> str:
    return f"program:{program_id}"


def organization_key(organization_id: str) -> str:
    return f"organization:{organization_id}"


def kind_of_content(content: Message) -> str:
    return CONTENT_FIELDS[type(content)][1]


def digest(content: Message) -> str:
    """What identifies a content: the same bytes, the same digest (deterministic serialization)."""
    return hashlib.sha256(type(content).DESCRIPTOR.full_name.encode() + b"\0"
                          + content.SerializeToString(deterministic=True)).hexdigest()


def shared_record(region: str, kind: str, key: str, version: int, now: dt.datetime,
                  content: Message | None) -> share_pb2.SharedRecord:
    """Version `version` of (region, kind, key): `content`, or withdrawn when None."""
    if kind not in SHARE_KINDS:
        raise ValueError(f"not a share kind: {kind!r}")
    record = share_pb2.SharedRecord(schema_version=SHARED_RECORD_SCHEMA_VERSION, region=region, kind=kind, key=key,
                                    version=version, withdrawn=content is None, publish_time=timestamp(now))
    if content is not None:
        field, content_kind = CONTENT_FIELDS[type(content)]
        if content_kind != kind:
            raise ValueError(f"a {type(content).__name__} is shared as {content_kind}, not {kind}")
        getattr(record, field).CopyFrom(content)
    return record
