"""The hub's ingest in batches, on the real embedded MongoDB-wire server and a real nats-server:
the inbox of a batch, a batch's outcomes (each as one message after another would give it:
several versions of one key applied once each, in order, the newest kept; stale and refused ones
changing nothing), and the bus's batch consumer (many messages in one transaction, acknowledged
after it; one message that cannot be applied retried and dead-lettered alone while the others of
its batch are applied)."""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path

import mongoengine
import nats
import pytest
from nats.js.api import StreamConfig

from copnet import stack as stacklib
from copnet.kernel import db
from copnet.kernel.bus import Delivery, EventBus, Subscription, mark_delivered_many
from copnet.kernel.events import dead_letter_stream_name
from copnet.kernel.settings import load_settings
from copnet.statewide import models, projections
from copnet.statewide.ingest import apply
from copnet.statewide.ingest.apply import Outcome
from copnet.statewide.views.models import MeasureCellView
from tests.support.processes import ManagedProcess
from tests.unit.test_statewide_ingest_validation import LINKED, measures_record, message, region_record

pytestmark = pytest.mark.integration

REGION = "batchtest"
SERVICE = "probe"
STREAM = "probe-batches"
CONSUMER = "probe-batches"
GOOD, POISON = 40, 17


class Applied(mongoengine.Document):
    """What the probe's batch handler applied, and how many deliveries its transaction held."""

    id = mongoengine.StringField(primary_key=True)
    batch_size = mongoengine.IntField()
    meta = {"collection": "applied"}


def apply_probe_batch(uow: db.UnitOfWork, deliveries: list[Delivery]) -> None:
    for delivery in deliveries:
        if delivery.body == b"poison":
            raise RuntimeError("this message cannot be applied")
    uow.insert_many([Applied(id=delivery.body.decode(), batch_size=len(deliveries)) for delivery in deliveries])


@pytest.fixture(scope="module")
def servers(tmp_path_factory):
    """A nats-server holding GOOD good messages and one poison message (the GOOD-th) before the
    bus starts, so they are fetched together, and the MongoDB-wire server."""
    root: Path = tmp_path_factory.mktemp("ingest-batches")
    nats_port, monitor = stacklib.free_port(), stacklib.free_port()
    settings = load_settings(region=REGION, data_dir=root / "data", embedded_mongodb_port=stacklib.free_port(),
                             nats_url=f"nats://127.0.0.1:{nats_port}", max_deliver=2, ack_wait_seconds=10.0)
    mongodb, mongodb_uri = stacklib.mongodb_spec(settings)
    nats_server = stacklib.ProcessSpec(
        "nats", [stacklib.executable("nats-server"), "--jetstream", "--store_dir", str(root / "js"), "--addr",
                 "127.0.0.1", "--port", str(nats_port), "--http_port", str(monitor)],
        probe=lambda: stacklib.http_ok(f"http://127.0.0.1:{monitor}/healthz?js-enabled-only=true"))
    with contextlib.ExitStack() as cleanup:
        for spec in (mongodb, nats_server):
            process = ManagedProcess(spec, root).start()
            cleanup.callback(process.stop)
        db.connect(mongodb_uri, "copnet_ingest_batch_tests")
        cleanup.callback(mongoengine.disconnect)
        db.ensure_indexes(db.InboxEntry, Applied, *models.DOCUMENTS, *projections.PROJECTION_DOCUMENTS)
        yield settings


@pytest.fixture(scope="module")
def bus(servers):
    async def publish_all() -> None:
        connection = await nats.connect(servers.nats_url)
        try:
            js = connection.jetstream()
            await js.add_stream(StreamConfig(name=STREAM, subjects=["probe.>"]))
            for n in range(GOOD + 1):
                await js.publish("probe.x", b"poison" if n == POISON else f"good-{n}".encode(), timeout=5)
        finally:
            await connection.close()

    asyncio.run(publish_all())
    running = EventBus(servers, SERVICE, [Subscription.of_stream_in_batches("batches", STREAM, apply_probe_batch)],
                       streams=[StreamConfig(name=STREAM, subjects=["probe.>"])])
    running.start()
    try:
        assert running.ready.wait(30), "the bus did not connect"
        yield running
    finally:
        running.stop()


def delivery(record=None, *, sequence: int, message_id: str = "", region: str = "north", **kwargs) -> Delivery:
    subject, headers, body = message(record, region=region, **kwargs) if record is not None else ("probe.x", {}, b"")
    if message_id:
        headers = {**headers, "Nats-Msg-Id": message_id}
    return Delivery(stream="copnet-statewide", subject=subject, headers=headers, body=body, stream_sequence=sequence,
                    num_delivered=1)


def test_the_inbox_of_a_batch_passes_on_only_what_was_not_applied_once_each_in_order(servers):
    def batch(uow):
        return mark_delivered_many(uow, [delivery(sequence=s, message_id=m) for s, m in
                                         ((3, "c"), (1, "a"), (2, "b"), (4, "a"), (5, "d"))], CONSUMER)

    db.InboxEntry(id=f"{CONSUMER} probe.x b", type="probe.x", consumer=CONSUMER, applied_at=db.utcnow()).save()
    fresh = db.run_in_transaction(batch, REGION)
    # b was applied before; a second "a" is the same message.
    assert [d.stream_sequence for d in fresh] == [1, 3, 5]
    assert {e.id for e in db.InboxEntry.objects(consumer=CONSUMER)} == {f"{CONSUMER} probe.x {m}" for m in "abcd"}
    assert db.run_in_transaction(batch, REGION) == []


def test_a_batch_applies_each_version_once_in_order_and_keeps_the_newest(servers):
    key = "d9|caaspp-ela|2025-26|spring"
    versions = (1, 3, 2, 4)
    batch = [delivery(measures_record(key=key, version=v), sequence=10 + n) for n, v in enumerate(versions)]
    batch.insert(2, delivery(measures_record("elsewhere", key=key, version=9), region="elsewhere", sequence=99))
    batch.append(delivery(region_record(), kind="directory", sequence=20))
    batch.append(delivery(measures_record(key=key, version=4), sequence=21))
    outcomes = db.run_in_transaction(lambda uow: apply.handle_batch(uow, batch, LINKED), REGION)
    assert outcomes == [Outcome.APPLIED, Outcome.APPLIED, Outcome.REFUSED, Outcome.STALE, Outcome.APPLIED,
                        Outcome.APPLIED, Outcome.STALE]
    state = models.SharedState.objects.get(id=models.state_id("north", "measures", key))
    assert (state.version, state.stream_sequence) == (4, 13)
    history = models.SharedHistory.objects(region="north", kind="measures", key=key).order_by("version")
    assert [(h.version, h.stream_sequence) for h in history] == [(1, 10), (3, 11), (4, 13)]
    # The views' rows are the newest version's.
    assert {row.version for row in MeasureCellView.objects(region="north", entity=key)} == {4}
    link = models.RegionLinkState.objects.get(id="north")
    assert (link.records_applied, link.public_url) == (4, "https://north.example.org")
    [rejection] = models.Rejection.objects(stream_sequence=99)
    assert rejection.reason == "UNKNOWN_REGION"
    # The next batch sees what this one stored: an old version changes nothing.
    again = [delivery(measures_record(key=key, version=3), sequence=30)]
    assert db.run_in_transaction(lambda uow: apply.handle_batch(uow, again, LINKED), REGION) == [Outcome.STALE]
    assert models.SharedHistory.objects(region="north", kind="measures", key=key).count() == 3


def test_one_poison_message_is_dead_lettered_alone_and_the_rest_of_its_batch_applied(servers, bus):
    stacklib.wait_until(lambda: Applied.objects.count() == GOOD, 60, "the good messages applied", interval=0.2)

    async def dead_letters() -> list[bytes]:
        connection = await nats.connect(servers.nats_url)
        try:
            js = connection.jetstream()
            info = await js.stream_info(dead_letter_stream_name(REGION))
            return [(await js.get_msg(dead_letter_stream_name(REGION), seq)).data
                    for seq in range(info.state.first_seq, info.state.last_seq + 1)] if info.state.messages else []
        finally:
            await connection.close()

    # max_deliver 2: the poison message is dead-lettered at its second delivery.
    stacklib.wait_until(lambda: asyncio.run(dead_letters()), 60, "the poison message dead-lettered", interval=0.2)
    assert asyncio.run(dead_letters()) == [b"poison"]
    assert {a.id for a in Applied.objects} == {f"good-{n}" for n in range(GOOD + 1) if n != POISON}
    # The messages fetched before the poison one were applied many to a transaction.
    assert max(a.batch_size for a in Applied.objects) > 1
    # Each applied message was acknowledged: nothing is pending on the consumer.

    async def pending() -> tuple[int, int]:
        connection = await nats.connect(servers.nats_url)
        try:
            info = await connection.jetstream().consumer_info(STREAM, f"{SERVICE}-batches")
            return info.num_ack_pending, info.num_pending
        finally:
            await connection.close()

    stacklib.wait_until(lambda: asyncio.run(pending()) == (0, 0), 30, "every message acknowledged", interval=0.2)
