"""What was shared: one document per (kind, key) with its version, the digest of the content last
sent and whether it is withdrawn; and the one way a record is sent.

`share` runs in the caller's unit of work: the ledger's update and the record's outbox entry are
one transaction, so a record is never lost and never sent twice. A content differing from the
last one sent is the next version; the same content sends nothing; an entity that is gone (None)
sends one withdrawn record, and nothing more until it comes back.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import mongoengine as me
from google.protobuf.message import Message

from copnet.kernel import db
from copnet.kernel.db import utcnow
from copnet.kernel.federation import SHARE_EVENT_TYPE, SHARE_KINDS, share_subject
from copnet.share import records


class SharedEntity(me.Document):
    """The last record sent of one (kind, key)."""

    # "<kind> <key>"
    id = me.StringField(primary_key=True)
    kind = me.StringField(required=True, choices=SHARE_KINDS)
    key = me.StringField(required=True)
    version = me.IntField(required=True, min_value=1)
    digest = me.StringField(default="")
    withdrawn = me.BooleanField(default=False)
    # For measures and participation: the version of reflection's message it was made from, so a
    # redelivered older message cannot replace a newer one.
    source_version = me.IntField(default=0)
    shared_at = me.DateTimeField(required=True)
    meta = {"collection": "shared_entities", "indexes": [("kind", "withdrawn")]}


DOCUMENTS = [SharedEntity]


def entity_id(kind: str, key: str) -> str:
    return f"{kind} {key}"


@dataclass(frozen=True)
class Change:
    """What (kind, key) is now: `content`, or gone (None)."""

    kind: str
    key: str
    content: Message | None
    source_version: int = 0

    @property
    def id(self) -> str:
        return entity_id(self.kind, self.key)

    @property
    def digest(self) -> str:
        return "" if self.content is None else records.digest(self.content)


def differs(known: SharedEntity | None, change: Change) -> bool:
    """Whether `change` would send a record, as far as `known` (the ledger's document) tells."""
    if known is not None and change.source_version and known.source_version >= change.source_version:
        return False
    if change.content is None:
        return known is not None and not known.withdrawn
    return known is None or known.withdrawn or known.digest != change.digest


def share(ctx, uow: db.UnitOfWork, changes: Iterable[Change], now: dt.datetime | None = None) -> int:
    """Send the record of each change that differs from what was shared; the number sent."""
    now = now or utcnow()
    region = ctx.settings.region
    by_kind: dict[str, list] = defaultdict(list)
    for change in changes:
        before = uow.find_one(SharedEntity, {"_id": change.id})
        if not differs(before, change):
            continue
        version = before.version + 1 if before is not None else 1
        record = records.shared_record(region, change.kind, change.key, version, now, change.content)
        fields = {"kind": change.kind, "key": change.key, "version": version, "digest": change.digest,
                  "withdrawn": change.content is None, "shared_at": now}
        if change.source_version:
            fields["source_version"] = change.source_version
        uow.update_one(SharedEntity, {"_id": change.id}, {"$set": fields}, upsert=True)
        by_kind[change.kind].append(ctx.event(SHARE_EVENT_TYPE, change.key, record))
    for kind, events in by_kind.items():
        uow.emit_many(events, subject=share_subject(region, kind))
    return sum(len(events) for events in by_kind.values())


# Changes per transaction when many are sent at once (the reconcile job).
BATCH = 50


def share_all(ctx, changes: Sequence[Change]) -> int:
    """Send what differs among many changes: the ledger read once, then one transaction per batch of
    those that differ (each re-checked inside it)."""
    ids = [change.id for change in changes]
    known: dict[str, SharedEntity] = {}
    for chunk in db.in_chunks(ids):
        known.update({doc.id: doc for doc in SharedEntity.objects(id__in=chunk)})
    pending = [change for change in changes if differs(known.get(change.id), change)]
    sent = 0
    for start in range(0, len(pending), BATCH):
        batch = pending[start:start + BATCH]
        sent += ctx.transaction(lambda uow, batch=batch: share(ctx, uow, batch))
    return sent


def shared_keys(kind: str, prefix: str = "") -> set[str]:
    """The keys of `kind` (starting with `prefix`) currently shared, not withdrawn."""
    query = {"kind": kind, "withdrawn": False}
    return {doc.key for doc in SharedEntity.objects(**query).only("key") if doc.key.startswith(prefix)}
