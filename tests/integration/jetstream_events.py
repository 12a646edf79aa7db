"""Reading the events services published, straight from the JetStream streams (what consumers see)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import nats
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
from nats.js.errors import NotFoundError

from copnet.kernel.events import CloudEvent, MalformedEvent, stream_name

FETCH_BATCH = 500


def published(services, event_type_pattern: str) -> list[CloudEvent]:
    """Every event on the stream whose type matches `event_type_pattern` (NATS wildcards after the
    service, e.g. "membership.community.*"), oldest first."""
    region = services.settings.region

    async def go() -> list[CloudEvent]:
        connection = await connect(services)
        try:
            js = connection.jetstream()
            subscription = await js.pull_subscribe(
                f"copnet.{region}.{event_type_pattern}", stream=stream_name(region),
                config=ConsumerConfig(ack_policy=AckPolicy.NONE, deliver_policy=DeliverPolicy.ALL,
                                      inactive_threshold=30.0))
            remaining = (await subscription.consumer_info()).num_pending
            found: list[CloudEvent] = []
            while remaining > 0:
                try:
                    messages = await subscription.fetch(min(remaining, FETCH_BATCH), timeout=5)
                except (nats.errors.TimeoutError, asyncio.TimeoutError):
                    break  # fewer left than counted (e.g. removed by the stream's limits): what was read stands
                found += [event for event in map(readable, messages) if event is not None]
                remaining -= len(messages)
            await subscription.unsubscribe()
            return found
        finally:
            await connection.close()

    return asyncio.run(go())


async def connect(services) -> nats.NATS:
    """A connection to the stack's NATS server, as the test stack reaches it (`nats_url` carries
    whatever credentials reading every stream takes)."""
    return await nats.connect(services.nats_url)


@dataclass(frozen=True)
class StoredMessage:
    stream: str
    sequence: int
    subject: str
    headers: dict[str, str]
    data: bytes


def every_stored_message(services) -> list[StoredMessage]:
    """Every message every stream of the instance keeps (events, dead letters, anything else), each
    read by its sequence number: what anyone who may read the streams can read."""

    async def go() -> list[StoredMessage]:
        connection = await connect(services)
        try:
            js = connection.jetstream()
            found: list[StoredMessage] = []
            for stream in await js.streams_info():
                name = stream.config.name
                if not stream.state.messages:
                    continue  # an empty stream's sequence numbers are 0, which no message has
                for sequence in range(stream.state.first_seq, stream.state.last_seq + 1):
                    try:
                        message = await js.get_msg(name, sequence)
                    except NotFoundError:
                        continue  # deleted (e.g. by the stream's limits)
                    found.append(StoredMessage(name, sequence, message.subject, dict(message.headers or {}),
                                               message.data or b""))
            return found
        finally:
            await connection.close()

    return asyncio.run(go())


def readable(message) -> CloudEvent | None:
    """The event, or None for what other tests publish on purpose that is not one (poison messages)."""
    try:
        return CloudEvent.from_nats(message.headers, message.data)
    except MalformedEvent:
        return None


def about(services, event_type_pattern: str, subject: str) -> list[CloudEvent]:
    """The events of those types about one entity (its id is the CloudEvent subject)."""
    return [event for event in published(services, event_type_pattern) if event.subject == subject]


def wait_for_types(services, event_type_pattern: str, subject: str, expected: list[str]) -> list[CloudEvent]:
    """Waits until the entity's events of those types are exactly `expected` (in order), and returns them."""
    seen: list[CloudEvent] = []

    def arrived() -> bool:
        seen[:] = about(services, event_type_pattern, subject)
        return [event.type for event in seen] == expected

    try:
        services.wait_for(arrived, timeout=20, what=f"events {expected} about {subject}")
    except TimeoutError:
        raise AssertionError(f"events about {subject}: {[event.type for event in seen]}, expected {expected}") from None
    return seen
