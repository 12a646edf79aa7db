"""The bus's batch consumer of raw deliveries (pure parts: the transaction is a fake that fails on
a poison message) and the statewide ingest's use of it."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace

import pytest

from copnet.kernel import bus as bus_module
from copnet.kernel.bus import RAW_BATCH, Delivery, EventBus, Subscription, batches_by_size
from copnet.kernel.federation import STATEWIDE_STREAM
from copnet.kernel.settings import load_settings
from copnet.statewide import ingest


class FakeMessage:
    """A JetStream message as the bus sees it: what was done with it is recorded."""

    def __init__(self, sequence: int, body: bytes):
        self.subject, self.headers, self.data = "probe.x", {}, body
        self.metadata = SimpleNamespace(sequence=SimpleNamespace(stream=sequence), num_delivered=1)
        self.done: list[str] = []

    async def ack(self):
        self.done.append("ack")

    async def nak(self, delay=None):
        self.done.append("nak")

    async def term(self):
        self.done.append("term")

    async def in_progress(self):
        self.done.append("in_progress")


@pytest.fixture
def consumer(tmp_path, monkeypatch):
    """An EventBus (not started) whose transactions are recorded; one holding a poison delivery fails."""
    transactions: list[list[int]] = []

    def apply(subscription, consumer, items):
        if any(item.body == b"poison" for item in items):
            raise RuntimeError("cannot be applied")
        transactions.append([item.stream_sequence for item in items])

    subscription = Subscription.of_stream_in_batches("batches", "probe-stream", lambda uow, deliveries: None)
    running = EventBus(load_settings(region="unit", data_dir=tmp_path, max_deliver=3), "probe", [subscription])
    monkeypatch.setattr(running, "_apply", apply)
    return SimpleNamespace(bus=running, subscription=subscription, transactions=transactions)


def test_a_batch_is_applied_in_one_transaction_then_every_message_acknowledged(consumer):
    messages = [FakeMessage(n, b"good") for n in range(1, 11)]
    asyncio.run(consumer.bus._handle_batch(consumer.subscription, messages))
    assert consumer.transactions == [list(range(1, 11))]
    assert all(message.done == ["ack"] for message in messages)


def test_a_poison_message_fails_alone_and_the_rest_of_its_batch_is_applied_in_few_transactions(consumer):
    messages = [FakeMessage(n, b"poison" if n == 6 else b"good") for n in range(1, 17)]
    asyncio.run(consumer.bus._handle_batch(consumer.subscription, messages))
    applied = [sequence for transaction in consumer.transactions for sequence in transaction]
    assert applied == [n for n in range(1, 17) if n != 6]
    # Halves: 9-16, 1-4, 7-8 and 5 alone, not fifteen transactions of one.
    assert len(consumer.transactions) <= 5
    assert messages[5].done == ["nak"]
    assert all(message.done == ["ack"] for n, message in enumerate(messages, 1) if n != 6)


def test_a_batch_subscription_is_raw_and_bounded():
    subscription = Subscription.of_stream_in_batches("ingest", "s", lambda uow, d: None, subjects=["a.>"], batch=8)
    assert (subscription.raw, subscription.batch, subscription.filter_subjects("hub")) == (True, 8, ["a.>"])
    assert Subscription.of_stream("one", "s", lambda uow, d: None).batch == 0
    with pytest.raises(ValueError, match="at least one"):
        Subscription.of_stream_in_batches("ingest", "s", lambda uow, d: None, batch=0)


def test_the_statewide_ingest_reads_its_stream_in_batches():
    context = SimpleNamespace(settings=SimpleNamespace(linked_regions=("north",)))
    [subscription] = ingest.subscriptions(context)
    assert (subscription.stream, subscription.raw, subscription.batch) == (STATEWIDE_STREAM, True, RAW_BATCH)


def test_a_batch_of_one_goes_through_the_inbox_of_many(monkeypatch):
    """A single message of a batch subscription is handed over as a list of one (what the
    handler of a batch subscription always gets)."""
    seen = []
    marked = []
    monkeypatch.setattr(bus_module, "mark_delivered_many", lambda uow, items, consumer: marked.append(items) or items)
    monkeypatch.setattr(bus_module.db, "run_in_transaction", lambda work, region: work(None))
    subscription = Subscription.of_stream_in_batches("b", "s", lambda uow, deliveries: seen.append(deliveries))
    running = EventBus(load_settings(region="unit"), "probe", [subscription])
    delivery = Delivery(stream="s", subject="probe.x", headers={}, body=b"", stream_sequence=1, num_delivered=1)
    running._apply(subscription, "probe-b", [delivery])
    assert seen == [[delivery]] and marked == [[delivery]]


def test_a_fetch_is_split_into_batches_of_bounded_bytes_in_order():
    messages = [FakeMessage(n, b"x" * size) for n, size in enumerate((40, 50, 20, 200, 30, 30, 30), 1)]
    batches = batches_by_size(messages, 100)
    assert [[m.metadata.sequence.stream for m in batch] for batch in batches] == [[1, 2], [3], [4], [5, 6, 7]]
