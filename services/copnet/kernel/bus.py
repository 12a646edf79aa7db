"""The event bus on NATS JetStream: one asyncio loop thread per service process.

The process's concurrency model (see docs/architecture.md): gRPC requests run on a thread pool
and use mongoengine synchronously; everything NATS runs on this one loop thread, over this one
connection, and every database call it makes goes through `asyncio.to_thread`, so the loop never
blocks on MongoDB.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TypeVar

import nats
from nats.js.api import (AckPolicy, ConsumerConfig, DeliverPolicy, DiscardPolicy, RetentionPolicy,
                         StorageType, StreamConfig)
from nats.js.errors import BadRequestError, NotFoundError
from pymongo.errors import DuplicateKeyError

from copnet.kernel import db, tracing
from copnet.kernel.events import (CloudEvent, MalformedEvent, dead_letter_stream_name, dead_letter_subject,
                                  stream_name)
from copnet.kernel.outbox import OutboxRelay
from copnet.kernel.settings import Settings

log = logging.getLogger(__name__)
T = TypeVar("T")

DAY = 24 * 3600
FETCH_BATCH = 32
# Deliveries a batch subscription's handler gets at most at once (one transaction): large enough
# that the transaction's own cost is shared, small enough that it commits well within
# db.TRANSACTION_TIMEOUT_SECONDS and the messages' ack wait on a busy machine.
RAW_BATCH = 128
# ... and at most this many bytes of message bodies (one message larger than that goes alone): the
# work of a batch grows with what its messages hold (e.g. the rows a record becomes), and a batch
# must commit well within db.TRANSACTION_TIMEOUT_SECONDS on a busy machine.
RAW_BATCH_BYTES = 64 * 1024


@dataclass(frozen=True)
class Delivery:
    """A message as JetStream delivered it, unparsed: for a consumer of a stream whose messages
    are not this region's CloudEvents (e.g. what other instances send), which judges them itself."""

    stream: str
    subject: str
    headers: Mapping[str, str]
    body: bytes
    # The message's sequence in `stream`, and how many times it has been delivered (1 the first).
    stream_sequence: int
    num_delivered: int

    def message_id(self) -> str:
        """What names this message for the inbox: its Nats-Msg-Id (or CloudEvents id) on its
        subject, else its place in the stream. The subject is part of it, so a sender that reuses
        another's id on its own subjects cannot make the other's message look applied."""
        own = self.headers.get("Nats-Msg-Id") or self.headers.get("ce-id")
        name = f"{self.subject} {own}" if own else f"{self.subject} {self.stream}#{self.stream_sequence}"
        # Headers are the sender's: a long one is hashed instead of stored.
        return name if len(name) <= 200 else f"sha256:{hashlib.sha256(name.encode()).hexdigest()}"


@dataclass(frozen=True)
class Subscription:
    """A durable consumer: `handler(uow, event)` runs in the same transaction as the inbox record.

    `event_types` may use NATS wildcards (`copnet.*.community.created`, `copnet.membership.>`).

    By default it reads the region's event stream, filtered by `event_types`. With `stream` it
    reads that stream instead, filtered by the NATS `subjects` (none: every message). With `raw`
    the handler gets each message as a `Delivery` instead of a parsed CloudEvent: it decides
    what a malformed message means (a handler that records a refusal and returns has its message
    acknowledged like any other). Either way: ack only after the handler's transaction committed,
    the inbox recognises a redelivery, a failure is retried with back-off and dead-lettered after
    `max_deliver` deliveries. Use `Subscription.of_stream` for a raw one.

    With `batch` (raw only) the handler gets a list of up to `batch` deliveries, those not applied
    before, in stream order, in one transaction with their inbox entries; all are acknowledged
    once it committed. When that transaction fails, each half of the batch is applied so again,
    down to single messages (the handler gets a list of one), so a message that keeps failing is
    retried and dead-lettered alone while the rest of its batch is applied. Use
    `Subscription.of_stream_in_batches`."""

    name: str
    event_types: tuple[str, ...]
    handler: Callable[[db.UnitOfWork, CloudEvent], None] | Callable[[db.UnitOfWork, Delivery], None]
    stream: str = ""
    subjects: tuple[str, ...] = ()
    raw: bool = False
    batch: int = 0
    batch_bytes: int = RAW_BATCH_BYTES

    @classmethod
    def of_stream(cls, name: str, stream: str, handler: Callable[[db.UnitOfWork, Delivery], None],
                  subjects: Sequence[str] = ()) -> "Subscription":
        """A consumer of `stream`'s raw messages (those on `subjects`, or all)."""
        return cls(name=name, event_types=(), handler=handler, stream=stream, subjects=tuple(subjects), raw=True)

    @classmethod
    def of_stream_in_batches(cls, name: str, stream: str,
                             handler: Callable[[db.UnitOfWork, list[Delivery]], None],
                             subjects: Sequence[str] = (), batch: int = RAW_BATCH,
                             batch_bytes: int = RAW_BATCH_BYTES) -> "Subscription":
        """A consumer of `stream`'s raw messages (those on `subjects`, or all) whose handler
        applies up to `batch` deliveries, of up to `batch_bytes` bytes together, in one transaction."""
        if batch < 1 or batch_bytes < 1:
            raise ValueError(f"a batch holds at least one delivery and one byte, got {batch} and {batch_bytes}")
        return cls(name=name, event_types=(), handler=handler, stream=stream, subjects=tuple(subjects), raw=True,
                   batch=batch, batch_bytes=batch_bytes)

    def stream_of(self, region: str) -> str:
        return self.stream or stream_name(region)

    def filter_subjects(self, region: str) -> list[str]:
        if self.stream:
            return list(self.subjects)
        return [subject_filter(region, t) for t in self.event_types]


@dataclass(frozen=True)
class Listener:
    """A core NATS subscription on the bus's connection: each replica of each service gets every
    matching event published while it is connected (no durable consumer, no ack, no redelivery).

    For events that are only hints that something changed: `handler(event)` runs on the bus's
    loop and must not block (hand the work to a thread); `on_connected()` runs once subscribed
    and again after every reconnection, so whatever was missed meanwhile can be caught up."""

    event_types: tuple[str, ...]
    handler: Callable[[CloudEvent], None]
    on_connected: Callable[[], None] = lambda: None


def subject_filter(region: str, event_type: str) -> str:
    """A consumer's NATS filter for an event type that may hold NATS wildcards (`*` one token,
    `>` the rest): copnet.*.community.created -> copnet.<region>.*.community.created."""
    parts = event_type.split(".")
    if (parts[0] != "copnet" or len(parts) < 2 or ">" in parts[:-1]
            or not all(p in ("*", ">") or (p and p.replace("_", "").isalnum()) for p in parts[1:])):
        raise ValueError(f"an event type filter is copnet.<token>... (tokens, * or >), got {event_type!r}")
    return f"copnet.{region}.{event_type.removeprefix('copnet.')}"


def event_stream_config(region: str) -> StreamConfig:
    # Limits retention sized for a long outage; `discard: new` refuses a publish when full, which
    # leaves the event in the outbox instead of silently dropping the oldest.
    return StreamConfig(name=stream_name(region), subjects=[f"copnet.{region}.>"],
                        retention=RetentionPolicy.LIMITS, discard=DiscardPolicy.NEW,
                        storage=StorageType.FILE, max_age=30 * DAY, duplicate_window=120)


def dead_letter_stream_config(region: str) -> StreamConfig:
    return StreamConfig(name=dead_letter_stream_name(region), subjects=[f"copnet-dlq.{region}.>"],
                        retention=RetentionPolicy.LIMITS, discard=DiscardPolicy.OLD,
                        storage=StorageType.FILE, max_age=90 * DAY)


class EventBus:
    def __init__(self, settings: Settings, service: str, subscriptions: list[Subscription],
                 listeners: Sequence[Listener] = (), streams: Sequence[StreamConfig] = ()):
        self.settings = settings
        self.region = settings.region
        self.service = service
        self.subscriptions = subscriptions
        self.listeners = list(listeners)
        # The service's own streams besides the region's event and dead-letter streams.
        self.streams = list(streams)
        self.relay = OutboxRelay(settings.outbox_sweep_seconds)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._thread: threading.Thread | None = None
        self._nc = None
        self._js = None
        self.ready = threading.Event()

    # -- called from other threads -------------------------------------------------------------
    @property
    def connected(self) -> bool:
        return self._nc is not None and self._nc.is_connected

    def listen(self, listener: Listener) -> None:
        """Add a core subscription; only before `start`."""
        if self._thread is not None:
            raise RuntimeError("listeners are added before the bus starts")
        self.listeners.append(listener)

    def start(self) -> None:
        db.on_commit_with_events(self.wake_relay)
        self._thread = threading.Thread(target=asyncio.run, args=(self._main(),), name=f"bus-{self.service}",
                                        daemon=True)
        self._thread.start()

    def wake_relay(self) -> None:
        if self._loop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self.relay.wake)

    def stop(self, timeout: float = 5.0) -> None:
        if self._loop is not None and self._stop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._stop.set)
        if self._thread is not None:
            self._thread.join(timeout)

    # -- on the loop ---------------------------------------------------------------------------
    async def publish(self, subject: str, body: bytes, headers: dict[str, str]) -> None:
        await self._js.publish(subject, body, headers=headers, timeout=5)

    async def _main(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        connecting = asyncio.create_task(self._connect())
        stopping = asyncio.create_task(self._stop.wait())
        await asyncio.wait({connecting, stopping}, return_when=asyncio.FIRST_COMPLETED)
        if self._stop.is_set():
            connecting.cancel()
            return
        tasks = [asyncio.create_task(self.relay.run(self), name="outbox-relay")]
        tasks += [asyncio.create_task(self._consume(s), name=f"consumer-{s.name}") for s in self.subscriptions]
        await self._subscribe_listeners()
        self.ready.set()
        await self._stop.wait()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        # Every task that used the connection has ended, and nothing here is left unacknowledged
        # on purpose (the relay deletes an entry only after its PubAck; a consumer acks only after
        # its commit): flush what is written and close. A drain would wait for the pull requests
        # still parked on the server (seconds), which only delays a restart.
        try:
            await self._nc.flush(timeout=1)
        except Exception:  # closing anyway
            pass
        try:
            await self._nc.close()
        except Exception:  # already closed
            pass

    async def _connect(self) -> None:
        async def disconnected():
            log.warning("bus: disconnected from NATS; writes continue, events wait in the outbox")

        async def reconnected():
            log.info("bus: reconnected to NATS")
            self.wake_relay()
            # Core subscriptions are renewed by the client; what was published meanwhile is lost.
            self._tell_listeners_connected()

        async def error(exc):
            if "permissions violation" in str(exc).lower():
                log.error("bus: NATS refused this service's user (%s): check the server's permissions", exc)
            else:
                log.debug("bus: NATS error: %s", exc)

        while True:
            try:
                # Reconnect forever: the default gives up after ~2 minutes.
                self._nc = await nats.connect(self.settings.nats_url, name=f"copnet-{self.region}-{self.service}",
                                              allow_reconnect=True, max_reconnect_attempts=-1,
                                              reconnect_time_wait=1, connect_timeout=2,
                                              disconnected_cb=disconnected, reconnected_cb=reconnected,
                                              error_cb=error, **self.settings.nats_credentials())
                break
            except Exception as exc:
                log.warning("bus: cannot reach NATS at %s (%s); retrying", self.settings.nats_url, exc)
                await asyncio.sleep(1)
        self._js = self._nc.jetstream()
        while True:
            try:
                await self.ensure_streams()
                break
            except Exception as exc:
                log.warning("bus: cannot set up streams (%s); retrying", exc)
                await asyncio.sleep(1)
        log.info("bus: connected to NATS at %s", self.settings.nats_url)

    async def _subscribe_listeners(self) -> None:
        for listener in self.listeners:
            async def deliver(message, listener=listener):
                try:
                    event = CloudEvent.from_nats(message.headers, message.data)
                except MalformedEvent as exc:
                    log.warning("bus: malformed message on %s ignored: %s", message.subject, exc)
                    return
                try:
                    listener.handler(event)
                except Exception:  # noqa: BLE001 - one bad event must not end the subscription
                    log.exception("bus: a listener failed on %s %s", event.type, event.id)

            for event_type in listener.event_types:
                await self._nc.subscribe(subject_filter(self.region, event_type), cb=deliver)
        self._tell_listeners_connected()

    def _tell_listeners_connected(self) -> None:
        for listener in self.listeners:
            try:
                listener.on_connected()
            except Exception:  # noqa: BLE001
                log.exception("bus: a listener failed on (re)connection")

    async def ensure_streams(self) -> None:
        """Create the streams (the region's, then the service's own), or bring an existing one's
        config up to date: idempotent. An update keeps the stream's messages (a source added to
        it starts; the others carry on where they were)."""
        for config in (event_stream_config(self.region), dead_letter_stream_config(self.region), *self.streams):
            try:
                await self._js.add_stream(config)
            except BadRequestError:
                await self._js.update_stream(config)

    async def _ensure_consumer(self, subscription: Subscription) -> str:
        durable = f"{self.service}-{subscription.name}"
        config = ConsumerConfig(
            durable_name=durable, ack_policy=AckPolicy.EXPLICIT, deliver_policy=DeliverPolicy.ALL,
            ack_wait=self.settings.ack_wait_seconds, max_deliver=self.settings.max_deliver,
            filter_subjects=subscription.filter_subjects(self.region) or None,
            max_ack_pending=1000)
        await self._js.add_consumer(subscription.stream_of(self.region), config=config)
        return durable

    async def _consume(self, subscription: Subscription) -> None:
        pull = None
        while True:
            try:
                if pull is None:
                    durable = await self._ensure_consumer(subscription)
                    pull = await self._js.pull_subscribe_bind(durable=durable,
                                                              stream=subscription.stream_of(self.region))
                try:
                    messages = await pull.fetch(subscription.batch or FETCH_BATCH, timeout=1)
                except nats.errors.TimeoutError:
                    continue
                if subscription.batch:
                    for batch in batches_by_size(messages, subscription.batch_bytes):
                        await self._handle_batch(subscription, batch)
                    continue
                for message in messages:
                    await self._handle(subscription, message)
            except asyncio.CancelledError:
                raise
            except NotFoundError:
                # The stream or consumer vanished (a NATS server with a fresh store): set up again.
                log.warning("bus: consumer %s lost; recreating", subscription.name)
                pull = None
                await self._reensure()
            except Exception as exc:
                log.debug("bus: consumer %s: %s", subscription.name, exc)
                await asyncio.sleep(1)

    async def _reensure(self) -> None:
        try:
            await self.ensure_streams()
        except Exception as exc:
            log.debug("bus: stream setup failed: %s", exc)
            await asyncio.sleep(1)

    async def _handle_batch(self, subscription: Subscription, messages: list) -> None:
        """Apply `messages` in one transaction and acknowledge them all once it committed. When
        it fails (nothing of it committed), each half is handled so again, down to single messages
        handled as any other (retried with back-off, dead-lettered after `max_deliver`): a message
        that cannot be applied ends alone, the others of its batch are applied in few transactions.
        A MongoDB outage splits the batch the same way, and the single messages ride it out; so
        does a batch too large to commit within db.TRANSACTION_TIMEOUT_SECONDS."""
        if len(messages) == 1:
            await self._handle(subscription, messages[0])
            return
        consumer = f"{self.service}-{subscription.name}"
        stream = subscription.stream_of(self.region)
        items = [delivery_of(stream, message) for message in messages]
        try:
            await asyncio.to_thread(self._apply, subscription, consumer, items)
        except Exception as exc:
            log.warning("bus: %s failed on a batch of %d (%r); applying it in halves", consumer, len(items), exc)
            half = len(messages) // 2
            await self._handle_batch(subscription, messages[:half])
            await self._handle_batch(subscription, messages[half:])
            return
        # Ack only after the transaction committed (a lost ack means a redelivery, which the
        # inbox recognises).
        await asyncio.gather(*(message.ack() for message in messages))

    async def _handle(self, subscription: Subscription, message) -> None:
        consumer = f"{self.service}-{subscription.name}"
        if subscription.raw:
            item = delivery_of(subscription.stream_of(self.region), message)
            what = f"{item.subject} #{item.stream_sequence}"
            if subscription.batch:
                item = [item]
        else:
            try:
                item = CloudEvent.from_nats(message.headers, message.data)
            except MalformedEvent as exc:
                log.error("bus: %s got a malformed message on %s: %s", consumer, message.subject, exc)
                await self._dead_letter(subscription, message, str(exc))
                return
            what = f"{item.type} {item.id}"
        try:
            await self._apply_riding_out_outages(subscription, consumer, item, what, message)
        except Exception as exc:
            delivered = message.metadata.num_delivered
            if delivered >= self.settings.max_deliver:
                log.error("bus: %s gave up on %s after %d deliveries: %s", consumer, what, delivered, exc)
                await self._dead_letter(subscription, message, repr(exc))
            else:
                log.warning("bus: %s failed on %s (delivery %d): %r; will retry", consumer, what, delivered, exc)
                await message.nak(delay=min(2 ** delivered, 30))
            return
        # Ack only after the handler's transaction committed; a lost ack means a redelivery,
        # which the inbox recognises.
        await message.ack()

    async def _apply_riding_out_outages(self, subscription: Subscription, consumer: str,
                                        item: CloudEvent | Delivery | list[Delivery], what: str,
                                        message) -> None:
        """Apply the event; while MongoDB is unreachable, wait and try again instead of failing.

        An outage is not the event's fault: counting it as a failed delivery would dead-letter
        good events. The message is kept in progress meanwhile so JetStream does not redeliver it.
        """
        delay = 0.5
        while True:
            try:
                await asyncio.to_thread(self._apply, subscription, consumer, item)
                return
            except db.DATABASE_UNAVAILABLE as exc:
                log.warning("bus: %s waits for MongoDB to apply %s (%s)", consumer, what, type(exc).__name__)
                await message.in_progress()
                await asyncio.sleep(delay)
                delay = min(delay * 2, 10.0)

    def _apply(self, subscription: Subscription, consumer: str, item: CloudEvent | Delivery | list[Delivery]) -> None:
        if isinstance(item, list):
            def work(uow: db.UnitOfWork) -> None:
                fresh = mark_delivered_many(uow, item, consumer)
                if not fresh:
                    raise db.AlreadyApplied(item[0].message_id())
                subscription.handler(uow, fresh)

            what = f"{item[0].subject} #{item[0].stream_sequence}" + (f" (+{len(item) - 1})" if len(item) > 1 else "")
            traceparent = item[0].headers.get("traceparent") if len(item) == 1 else None
        elif isinstance(item, Delivery):
            def work(uow: db.UnitOfWork) -> None:
                mark_delivered(uow, item, consumer)
                subscription.handler(uow, item)

            what, traceparent = f"{item.subject} #{item.stream_sequence}", item.headers.get("traceparent")
        else:
            def work(uow: db.UnitOfWork) -> None:
                uow.mark_applied(item, consumer)
                subscription.handler(uow, item)

            what, traceparent = f"{item.type} {item.id}", item.traceparent
        # Events the handler emits continue the trace of the event that caused them.
        trace = tracing.set_traceparent(traceparent)
        try:
            db.run_in_transaction(work, self.region)
        except db.AlreadyApplied:
            log.info("bus: %s already applied %s; skipping redelivery", consumer, what)
        finally:
            tracing.reset_traceparent(trace)

    async def _dead_letter(self, subscription: Subscription, message, error: str) -> None:
        # JetStream's own headers (Nats-Msg-Id, Nats-Expected-*, a source's Nats-Stream-Source)
        # would make the dead-letter stream de-duplicate or refuse the copy: dropped.
        headers = {name: value for name, value in (message.headers or {}).items()
                   if not name.lower().startswith("nats-")}
        headers["copnet-error"] = error[:1000]
        headers["copnet-original-subject"] = message.subject
        await self._js.publish(dead_letter_subject(self.region, self.service, subscription.name), message.data,
                               headers=headers, timeout=5)
        await message.term()


def batches_by_size(messages: Sequence[T], limit: int,
                    size_of: Callable[[T], int] = lambda message: len(message.data or b"")) -> list[list[T]]:
    """`messages` in consecutive runs of at most `limit` bytes of bodies (a larger one alone)."""
    batches: list[list[T]] = []
    size = 0
    for message in messages:
        length = size_of(message)
        if not batches or size + length > limit:
            batches.append([])
            size = 0
        batches[-1].append(message)
        size += length
    return batches


def delivery_of(stream: str, message) -> Delivery:
    """A JetStream message as the raw `Delivery` a handler gets."""
    metadata = message.metadata
    return Delivery(stream=stream, subject=message.subject, headers=dict(message.headers or {}),
                    body=bytes(message.data or b""), stream_sequence=metadata.sequence.stream,
                    num_delivered=metadata.num_delivered)


def mark_delivered(uow: db.UnitOfWork, delivery: Delivery, consumer: str) -> None:
    """Record that `consumer` handled `delivery` (the inbox, as for an event); AlreadyApplied on a
    redelivery."""
    try:
        uow.insert(db.InboxEntry(id=f"{consumer} {delivery.message_id()}", type=delivery.subject[:200],
                                 consumer=consumer, applied_at=db.utcnow()))
    except DuplicateKeyError:
        raise db.AlreadyApplied(delivery.message_id()) from None


def mark_delivered_many(uow: db.UnitOfWork, deliveries: Sequence[Delivery], consumer: str) -> list[Delivery]:
    """`mark_delivered` for a batch, in a few round trips: the deliveries not applied before (the
    first of those that share a message id), in their order, their inbox entries inserted."""
    fresh = {f"{consumer} {delivery.message_id()}": delivery for delivery in reversed(deliveries)}
    ids = list(fresh)
    collection = db.InboxEntry._get_collection()
    for chunk in db.in_chunks(ids):
        for son in collection.find({"_id": {"$in": chunk}}, {"_id": 1}, session=uow.session):
            del fresh[son["_id"]]
    kept = sorted(fresh.items(), key=lambda item: item[1].stream_sequence)
    now = db.utcnow()
    uow.insert_many([db.InboxEntry(id=name, type=delivery.subject[:200], consumer=consumer, applied_at=now)
                     for name, delivery in kept])
    return [delivery for _, delivery in kept]
