"""The bus's consumers of another stream than the region's, handed raw deliveries (pure parts)."""

from __future__ import annotations

from copnet.kernel.bus import Delivery, Subscription
from copnet.kernel.events import stream_name


def delivery(subject: str = "copnet-share.north.measures", headers: dict | None = None, sequence: int = 7) -> Delivery:
    return Delivery(stream="copnet-statewide", subject=subject, headers=headers or {}, body=b"{}",
                    stream_sequence=sequence, num_delivered=1)


def test_a_raw_subscription_reads_its_own_stream_filtered_by_plain_subjects():
    subscription = Subscription.of_stream("ingest", "copnet-statewide", lambda uow, d: None,
                                          subjects=["copnet-share.*.measures"])
    assert subscription.raw
    assert subscription.stream_of("hub") == "copnet-statewide"
    assert subscription.filter_subjects("hub") == ["copnet-share.*.measures"]
    assert Subscription.of_stream("all", "s", lambda uow, d: None).filter_subjects("hub") == []


def test_an_event_subscription_still_reads_the_regions_event_stream():
    subscription = Subscription("reactions", ("copnet.membership.>",), lambda uow, e: None)
    assert not subscription.raw
    assert subscription.stream_of("north") == stream_name("north")
    assert subscription.filter_subjects("north") == ["copnet.north.membership.>"]


def test_the_inbox_names_a_delivery_by_its_message_id_on_its_subject():
    first = delivery(headers={"Nats-Msg-Id": "abc"}, sequence=1)
    assert first.message_id() == delivery(headers={"Nats-Msg-Id": "abc"}, sequence=9).message_id()
    # Another subject (another region's) with the same id is another message.
    assert first.message_id() != delivery("copnet-share.south.measures", {"Nats-Msg-Id": "abc"}).message_id()
    assert delivery(headers={"ce-id": "e1"}).message_id() == "copnet-share.north.measures e1"


def test_without_an_id_the_place_in_the_stream_names_it():
    assert delivery(sequence=5).message_id() != delivery(sequence=6).message_id()


def test_a_long_id_is_hashed_to_a_bounded_length():
    name = delivery(headers={"Nats-Msg-Id": "x" * 5000}).message_id()
    assert name.startswith("sha256:") and len(name) < 80
