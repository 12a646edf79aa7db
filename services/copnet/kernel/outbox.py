"""The outbox relay: publishes committed events to JetStream, clears each only after its PubAck.

Entries are claimed by lease (several replicas may relay at once), published with
`Nats-Msg-Id` = event id (JetStream drops a re-publish inside its duplicate window; consumers'
inboxes catch the rest), deleted after the PubAck. A relay wakes when this process commits an
event and also sweeps every `outbox_sweep_seconds` for entries stranded by a crash or an outage.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import uuid

from copnet.kernel.db import OutboxEntry, in_chunks, utcnow
from copnet.kernel.events import CloudEvent

log = logging.getLogger(__name__)

BATCH_SIZE = 500
LEASE = dt.timedelta(seconds=30)
UNCLAIMED = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


def claim_batch(limit: int = BATCH_SIZE) -> list[OutboxEntry]:
    """Lease up to `limit` unclaimed (or lapsed) entries, oldest first.

    Few round trips whatever the batch size (find, a conditional update and a read back of what
    this claim won, per db.in_chunks of ids): with a backlog, each pass's cost is dominated by
    finding candidates, so few large passes drain it far faster than many small ones.
    """
    now = utcnow()
    collection = OutboxEntry._get_collection()
    candidates = [son["_id"] for son in collection.find({"claimed_until": {"$lte": now}}, {"_id": 1}).sort(
        [("claimed_until", 1), ("created_at", 1)]).limit(limit)]
    if not candidates:
        return []
    claim = uuid.uuid4().hex
    # Conditional: an entry another relay leased in the meantime stays theirs.
    for chunk in in_chunks(candidates):
        collection.update_many({"_id": {"$in": chunk}, "claimed_until": {"$lte": now}},
                               {"$set": {"claimed_until": now + LEASE, "claim": claim}, "$inc": {"attempts": 1}})
    claimed = [OutboxEntry._from_son(son) for chunk in in_chunks(candidates)
               for son in collection.find({"_id": {"$in": chunk}, "claim": claim})]
    claimed.sort(key=lambda entry: entry.created_at)
    return claimed


def mark_published(entry_ids: list[str]) -> None:
    for chunk in in_chunks(entry_ids):
        OutboxEntry._get_collection().delete_many({"_id": {"$in": chunk}})


def release(entry_ids: list[str]) -> None:
    """Give claimed entries back so the next attempt need not wait for the lease to lapse."""
    if entry_ids:
        OutboxEntry._get_collection().update_many({"_id": {"$in": entry_ids}},
                                                  {"$set": {"claimed_until": UNCLAIMED}})



class OutboxRelay:
    def __init__(self, sweep_seconds: float):
        self.sweep_seconds = sweep_seconds
        self._wakeup: asyncio.Event | None = None

    def wake(self) -> None:
        """Called on the bus loop (see EventBus.wake_relay)."""
        if self._wakeup is not None:
            self._wakeup.set()

    async def run(self, bus) -> None:
        self._wakeup = asyncio.Event()
        while True:
            self._wakeup.clear()
            published, failed = 0, False
            if bus.connected:
                try:
                    published, failed = await self._publish_once(bus)
                except Exception:
                    # The relay must outlive any failure (MongoDB away, say): log, retry soon.
                    log.exception("outbox: relay pass failed; retrying")
                    failed = True
            if published == BATCH_SIZE and not failed:
                continue
            try:
                await asyncio.wait_for(self._wakeup.wait(), timeout=1.0 if failed else self.sweep_seconds)
            except TimeoutError:
                pass

    async def _publish_once(self, bus) -> tuple[int, bool]:
        try:
            entries = await asyncio.to_thread(claim_batch)
        except Exception:
            log.exception("outbox: could not read pending events (will retry)")
            return 0, True
        # Cleared in one write per batch; a crash before it means a re-publish, which JetStream's
        # duplicate window and the consumers' inboxes absorb.
        published: list[str] = []
        failed = False
        for index, entry in enumerate(entries):
            event = CloudEvent.from_document(entry.event)
            try:
                await bus.publish(entry.subject, event.body(), event.headers())
            except Exception as exc:
                log.warning("outbox: publishing %s failed (%s); %d left pending", event.id, exc,
                            len(entries) - index)
                await asyncio.to_thread(release, [e.id for e in entries[index:]])
                failed = True
                break
            published.append(entry.id)
        await asyncio.to_thread(mark_published, published)
        if published:
            log.debug("outbox: published %d events", len(published))
        return len(published), failed
