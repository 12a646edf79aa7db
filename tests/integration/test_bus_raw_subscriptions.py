"""The bus's consumer of a service's own stream, handed raw deliveries: real nats-server, real
MongoDB-wire server, the real EventBus thread. The stream is ensured at connect; a message is
acknowledged once the handler's transaction committed; the inbox recognises one already applied;
a handler that keeps failing is retried with back-off and dead-lettered."""

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
from copnet.kernel.bus import Delivery, EventBus, Subscription
from copnet.kernel.events import dead_letter_stream_name, dead_letter_subject
from copnet.kernel.settings import load_settings

from tests.support.processes import ManagedProcess

pytestmark = pytest.mark.integration

REGION = "bustest"
SERVICE = "probe"
STREAM = "probe-raw"
DATABASE = "copnet_bus_raw_tests"


class Seen(mongoengine.Document):
    id = mongoengine.StringField(primary_key=True)
    subject = mongoengine.StringField()
    header = mongoengine.StringField()
    body = mongoengine.StringField()
    num_delivered = mongoengine.IntField()
    meta = {"collection": "seen"}


def handle(uow: db.UnitOfWork, delivery: Delivery) -> None:
    if delivery.body == b"fail":
        raise RuntimeError("the handler broke")
    uow.insert(Seen(id=str(delivery.stream_sequence), subject=delivery.subject,
                    header=delivery.headers.get("x-probe", ""), body=delivery.body.decode(),
                    num_delivered=delivery.num_delivered))


@pytest.fixture(scope="module")
def bus(tmp_path_factory):
    root: Path = tmp_path_factory.mktemp("bus-raw")
    nats_port, monitor = stacklib.free_port(), stacklib.free_port()
    settings = load_settings(region=REGION, data_dir=root / "data", embedded_mongodb_port=stacklib.free_port(),
                             nats_url=f"nats://127.0.0.1:{nats_port}", max_deliver=3, ack_wait_seconds=5.0)
    mongodb, mongodb_uri = stacklib.mongodb_spec(settings)
    nats_server = stacklib.ProcessSpec(
        "nats", [stacklib.executable("nats-server"), "--jetstream", "--store_dir", str(root / "js"), "--addr",
                 "127.0.0.1", "--port", str(nats_port), "--http_port", str(monitor)],
        probe=lambda: stacklib.http_ok(f"http://127.0.0.1:{monitor}/healthz?js-enabled-only=true"))
    processes = []
    running = None
    with contextlib.ExitStack() as cleanup:
        for spec in (mongodb, nats_server):
            processes.append(ManagedProcess(spec, root).start())
            cleanup.callback(processes[-1].stop)
        db.connect(mongodb_uri, DATABASE)
        cleanup.callback(mongoengine.disconnect)
        db.ensure_indexes(db.InboxEntry, Seen)
        running = EventBus(settings, SERVICE, [Subscription.of_stream("raw", STREAM, handle, subjects=["probe.a",
                                                                                                        "probe.b"])],
                           streams=[StreamConfig(name=STREAM, subjects=["probe.>"])])
        running.start()
        cleanup.callback(running.stop)
        assert running.ready.wait(30), "the bus did not connect"
        yield running


def publish(bus: EventBus, subject: str, body: bytes, headers: dict) -> int:
    async def go() -> int:
        connection = await nats.connect(bus.settings.nats_url)
        try:
            return (await connection.jetstream().publish(subject, body, headers=headers, timeout=5)).seq
        finally:
            await connection.close()

    return asyncio.run(go())


def wait_for(predicate, what: str, timeout: float = 30) -> None:
    stacklib.wait_until(lambda: bool(predicate()), timeout, what, interval=0.1)


def test_the_services_own_stream_is_ensured_at_connect(bus):
    async def subjects() -> list[str]:
        connection = await nats.connect(bus.settings.nats_url)
        try:
            return (await connection.jetstream().stream_info(STREAM)).config.subjects
        finally:
            await connection.close()

    assert asyncio.run(subjects()) == ["probe.>"]


def test_a_raw_delivery_reaches_the_handler_whole_and_is_applied_once(bus):
    sequence = publish(bus, "probe.a", b"hello", {"x-probe": "1", "Nats-Msg-Id": "m1"})
    wait_for(lambda: Seen.objects(id=str(sequence)).first(), "the delivery applied")
    seen = Seen.objects.get(id=str(sequence))
    assert (seen.subject, seen.header, seen.body, seen.num_delivered) == ("probe.a", "1", "hello", 1)
    assert db.InboxEntry.objects(id=f"{SERVICE}-raw probe.a m1").count() == 1


def test_only_the_subscriptions_subjects_are_delivered(bus):
    other = publish(bus, "probe.c", b"not mine", {})
    marker = publish(bus, "probe.a", b"marker", {})
    wait_for(lambda: Seen.objects(id=str(marker)).first(), "the marker")
    assert Seen.objects(id=str(other)).first() is None


def test_a_message_the_inbox_has_is_acknowledged_without_running_the_handler(bus):
    db.InboxEntry(id=f"{SERVICE}-raw probe.a m9", type="probe.a", consumer=f"{SERVICE}-raw",
                  applied_at=db.utcnow()).save()
    repeated = publish(bus, "probe.a", b"again", {"Nats-Msg-Id": "m9"})
    marker = publish(bus, "probe.a", b"marker", {})
    wait_for(lambda: Seen.objects(id=str(marker)).first(), "the marker")
    assert Seen.objects(id=str(repeated)).first() is None


def test_a_handler_that_keeps_failing_is_retried_then_dead_lettered(bus):
    # A sender's JetStream header does not keep the copy out of the dead-letter stream.
    sequence = publish(bus, "probe.b", b"fail", {"x-probe": "2", "Nats-Expected-Stream": STREAM})

    async def dead_letters() -> list:
        connection = await nats.connect(bus.settings.nats_url)
        try:
            js = connection.jetstream()
            info = await js.stream_info(dead_letter_stream_name(REGION))
            return [await js.get_msg(dead_letter_stream_name(REGION), seq)
                    for seq in range(info.state.first_seq, info.state.last_seq + 1)] if info.state.messages else []
        finally:
            await connection.close()

    # max_deliver 3, naks after 2 s and 4 s: dead-lettered after the third delivery.
    wait_for(lambda: asyncio.run(dead_letters()), "the dead letter", timeout=60)
    [letter] = asyncio.run(dead_letters())
    assert letter.subject == dead_letter_subject(REGION, SERVICE, "raw")
    assert letter.data == b"fail"
    assert letter.headers["copnet-original-subject"] == "probe.b"
    assert letter.headers["x-probe"] == "2" and "Nats-Expected-Stream" not in letter.headers
    assert "the handler broke" in letter.headers["copnet-error"]
    assert Seen.objects(id=str(sequence)).first() is None
