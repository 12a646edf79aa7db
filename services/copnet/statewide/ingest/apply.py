"""Applying what the statewide stream delivers, in the consumer's transaction: a valid record
newer than the stored version becomes the state (with its history and the views' projections); an
older or repeated one changes nothing; a refused message is recorded without its payload."""

from __future__ import annotations

import enum
import logging
import secrets

from google.protobuf import json_format

from copnet.kernel import db
from copnet.kernel.bus import Delivery
from copnet.statewide import projections
from copnet.statewide.ingest.validation import Accepted, Refusal, judge
from copnet.statewide.models import RegionLinkState, Rejection, SharedHistory, SharedState, state_id

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


def apply(uow: db.UnitOfWork, accepted: Accepted, stream_sequence: int = 0) -> Outcome:
    """Make `accepted.record` the state of its (region, kind, key) when it is newer than the
    stored one: state, history, projections and the link's counts together."""
    region, record = accepted.region, accepted.record
    key = state_id(region, accepted.kind, record.key)
    stored = uow.find_one(SharedState, {"_id": key})
    if stored is not None and stored.version >= record.version:
        log.info("statewide: %s version %d is not newer than %d; nothing changes", key, record.version,
                 stored.version)
        return Outcome.STALE
    now = db.utcnow()
    document = json_format.MessageToDict(record, preserving_proto_field_name=True)
    fields = dict(region=region, kind=accepted.kind, key=record.key, version=record.version,
                  withdrawn=record.withdrawn, record=document, applied_at=now, stream_sequence=stream_sequence)
    state = SharedState(id=key, **fields)
    if stored is None:
        uow.insert(state)
    else:
        uow.replace_one(state)
    # Unique by (region, kind, key, version): a second insert of one version would fail the
    # transaction, and the version check above keeps it from being attempted.
    uow.insert(SharedHistory(id=f"{key} {record.version:012d}", **fields))
    projections.project(uow, region, record)
    link_update = {"$inc": {"records_applied": 1}, "$set": {"last_applied_at": now}}
    if accepted.kind == "directory" and record.key == REGION_KEY and record.HasField("region_info"):
        link_update["$set"]["public_url"] = record.region_info.public_url
    uow.update_one(RegionLinkState, {"_id": region}, link_update, upsert=True)
    return Outcome.APPLIED


def refuse(uow: db.UnitOfWork, delivery: Delivery, refusal: Refusal, *, counted: bool = True) -> Rejection:
    """Record why a message was refused: where it came from, its size and the rule; never its
    payload (a message that broke the rules may carry what must not be kept). `counted`: add it
    to the region's link (not for a region that is not linked)."""
    now = db.utcnow()
    millis = int(now.timestamp() * 1000)
    rejection = Rejection(id=f"{_NEWEST_FIRST - millis:013d}-{secrets.token_hex(4)}", received_at=now,
                          region=refusal.region, subject=delivery.subject[:300], reason=refusal.reason,
                          detail=refusal.detail, stream_sequence=delivery.stream_sequence,
                          size_bytes=len(delivery.body))
    uow.insert(rejection)
    if refusal.region and counted:
        uow.update_one(RegionLinkState, {"_id": refusal.region}, {"$inc": {"rejections": 1}}, upsert=True)
    log.warning("statewide: refused %s #%d from %r: %s %s", delivery.subject[:300], delivery.stream_sequence,
                refusal.region, refusal.reason, refusal.detail)
    return rejection

