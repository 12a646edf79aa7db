"""Applying what the statewide stream delivers, in the consumer's transaction: a valid record
newer than the stored version becomes the state (with its history and the views' projections); an
older or repeated one changes nothing; a refused message is recorded without its payload.

The consumer hands over a batch of deliveries at a time (`handle_batch`, one transaction): the
outcome of each is what `handle` would give one message after another in stream order, written in a
few round trips (stored versions read with a few `$in`, states, history and refusals written in
bulk): on the embedded MongoDB-wire server a transaction per message held the hub to tens of
records a second. The views' projections are still written one record at a time (projections.project),
and cost most of a batch (`make bench --only statewide-ingest` shows both)."""

from __future__ import annotations

import enum
import logging
import secrets
from collections.abc import Collection, Sequence

from google.protobuf import json_format
from pymongo import ReplaceOne

from copnet.kernel import db
from copnet.kernel.bus import Delivery
from copnet.statewide import projections
from copnet.statewide.ingest.validation import Accepted, Refusal, judge
from copnet.statewide.models import (
    RegionLinkState,
    Rejection,
    SharedHistory,
    SharedState,
    state_id,
)

log = logging.getLogger(__name__)
# A rejection's id sorts newest first (this less the time in milliseconds, then a random tail),
# so ListRejections pages by id.
_NEWEST_FIRST = 10 ** 13
# The directory's record of the region itself (its public URL).
REGION_KEY = "region"


class Outcome(enum.StrEnum):
    APPLIED = "applied"
    STALE = "stale"          # not newer than the stored version: nothing changed
    REFUSED = "refused"


def handle(uow: db.UnitOfWork, delivery: Delivery, linked_regions) -> Outcome:
    """Judge one message of the statewide stream and apply it, in `uow`."""
    verdict = judge(delivery.subject, delivery.headers, delivery.body, linked_regions)
    if isinstance(verdict, Refusal):
        refuse(uow, delivery, verdict, counted=verdict.region in linked_regions)
        return Outcome.REFUSED
    return apply(uow, verdict, delivery.stream_sequence)


def handle_batch(uow: db.UnitOfWork, deliveries: Sequence[Delivery], linked_regions: Collection[str]) -> list[Outcome]:
    """Judge `deliveries` (in stream order) and apply them, in `uow`: each one's outcome as
    `handle` would give it, one message after another."""
    verdicts = [judge(d.subject, d.headers, d.body, linked_regions) for d in deliveries]
    refused = [(d, v) for d, v in zip(deliveries, verdicts) if isinstance(v, Refusal)]
    refuse_many(uow, refused, linked_regions)
    accepted = [(v, d.stream_sequence) for d, v in zip(deliveries, verdicts) if isinstance(v, Accepted)]
    applied = iter(apply_many(uow, accepted))
    return [Outcome.REFUSED if isinstance(v, Refusal) else next(applied) for v in verdicts]


def stored_versions(uow: db.UnitOfWork, keys: list[str]) -> dict[str, int]:
    """The stored version of each of `keys` that has a state (only the version is read)."""
    collection = SharedState._get_collection()
    return {son["_id"]: son["version"]
            for chunk in db.in_chunks(keys)
            for son in collection.find({"_id": {"$in": chunk}}, {"version": 1}, session=uow.session)}


def apply_many(uow: db.UnitOfWork, items: Sequence[tuple[Accepted, int]]) -> list[Outcome]:
    """`apply` each (accepted, stream sequence), in order, in a few round trips: several versions
    of one (region, kind, key) each go into the history once, in order, the state ends with the
    newest, and the projections see every applied version in order (as they would one by one)."""
    keys = [state_id(accepted.region, accepted.kind, accepted.record.key) for accepted, _ in items]
    versions = stored_versions(uow, list(dict.fromkeys(keys)))
    now = db.utcnow()
    # Documents as written (validated SharedState sons): the newest state of each key, and
    # every applied version for the history.
    states: dict[str, dict] = {}
    history: list[dict] = []
    applied: list[tuple[str, object]] = []
    links: dict[str, dict] = {}
    outcomes = []
    for (accepted, stream_sequence), key in zip(items, keys):
        region, record = accepted.region, accepted.record
        stored = versions.get(key)
        if stored is not None and stored >= record.version:
            log.info("statewide: %s version %d is not newer than %d; nothing changes", key, record.version, stored)
            outcomes.append(Outcome.STALE)
            continue
        versions[key] = record.version
        document = json_format.MessageToDict(record, preserving_proto_field_name=True)
        fields = {"region": region, "kind": accepted.kind, "key": record.key, "version": record.version,
                  "withdrawn": record.withdrawn, "record": document, "applied_at": now,
                  "stream_sequence": stream_sequence}
        state = SharedState(id=key, **fields)
        state.validate()
        son = state.to_mongo()
        states[key] = son
        # The same fields under the version's id (SharedHistory's fields are SharedState's, so
        # validated above). Unique by (region, kind, key, version): the version check above keeps
        # one version from being inserted twice (which would fail the transaction).
        history.append({**son, "_id": f"{key} {record.version:012d}"})
        applied.append((region, record))
        link = links.setdefault(region, {"$inc": {"records_applied": 0}, "$set": {"last_applied_at": now}})
        link["$inc"]["records_applied"] += 1
        if accepted.kind == "directory" and record.key == REGION_KEY and record.HasField("region_info"):
            link["$set"]["public_url"] = record.region_info.public_url
        outcomes.append(Outcome.APPLIED)
    if states:
        SharedState._get_collection().bulk_write([ReplaceOne({"_id": key}, son, upsert=True)
                                                  for key, son in states.items()], ordered=True, session=uow.session)
        SharedHistory._get_collection().insert_many(history, ordered=True, session=uow.session)
    for region, record in applied:
        projections.project(uow, region, record)
    for region, update in links.items():
        uow.update_one(RegionLinkState, {"_id": region}, update, upsert=True)
    return outcomes


def apply(uow: db.UnitOfWork, accepted: Accepted, stream_sequence: int = 0) -> Outcome:
    """Make `accepted.record` the state of its (region, kind, key) when it is newer than the
    stored one: state, history, projections and the link's counts together."""
    return apply_many(uow, [(accepted, stream_sequence)])[0]


def refuse_many(uow: db.UnitOfWork, refused: Sequence[tuple[Delivery, Refusal]],
                linked_regions: Collection[str]) -> list[Rejection]:
    """`refuse` each (delivery, refusal) in one insert, counted once per linked region."""
    rejections = [rejection_of(delivery, refusal) for delivery, refusal in refused]
    uow.insert_many(rejections)
    counts: dict[str, int] = {}
    for _, refusal in refused:
        if refusal.region and refusal.region in linked_regions:
            counts[refusal.region] = counts.get(refusal.region, 0) + 1
    for region, count in counts.items():
        uow.update_one(RegionLinkState, {"_id": region}, {"$inc": {"rejections": count}}, upsert=True)
    return rejections


def rejection_of(delivery: Delivery, refusal: Refusal) -> Rejection:
    """The record of a refusal (logged): where the message came from, its size and the rule."""
    now = db.utcnow()
    millis = int(now.timestamp() * 1000)
    log.warning("statewide: refused %s #%d from %r: %s %s", delivery.subject[:300], delivery.stream_sequence,
                refusal.region, refusal.reason, refusal.detail)
    return Rejection(id=f"{_NEWEST_FIRST - millis:013d}-{secrets.token_hex(4)}", received_at=now,
                     region=refusal.region, subject=delivery.subject[:300], reason=refusal.reason,
                     detail=refusal.detail, stream_sequence=delivery.stream_sequence,
                     size_bytes=len(delivery.body))


def refuse(uow: db.UnitOfWork, delivery: Delivery, refusal: Refusal, *, counted: bool = True) -> Rejection:
    """Record why a message was refused: where it came from, its size and the rule; never its
    payload (a message that broke the rules may carry what must not be kept). `counted`: add it
    to the region's link (not for a region that is not linked)."""
    rejection = uow.insert(rejection_of(delivery, refusal))
    if refusal.region and counted:
        uow.update_one(RegionLinkState, {"_id": refusal.region}, {"$inc": {"rejections": 1}}, upsert=True)
    return rejection
