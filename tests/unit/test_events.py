import datetime as dt

import pytest

from copnet.events.v1 import events_pb2
from copnet.kernel import tracing
from copnet.kernel.events import CloudEvent, MalformedEvent, subject_for


def sample() -> CloudEvent:
    return CloudEvent.of("copnet.membership.community.created", "copnet/bay/membership", "c-1",
                         events_pb2.CommunityCreated(community_id="c-1", name="PLC", kind="plc",
                                                     county_office_id="alameda"))


def test_subject_puts_the_region_after_the_prefix():
    assert subject_for("bay", "copnet.membership.community.created") == "copnet.bay.membership.community.created"


@pytest.mark.parametrize("bad", ["membership.community.created", "copnet.membership.created",
                                 "copnet.membership.community.created.extra", "copnet.member ship.x.y"])
def test_event_types_must_have_four_parts(bad):
    with pytest.raises(ValueError):
        subject_for("bay", bad)


def test_binary_mode_round_trip_over_nats_headers():
    event = sample()
    headers = event.headers()
    assert headers["Nats-Msg-Id"] == event.id == headers["ce-id"]
    assert headers["ce-time"].endswith("Z")
    again = CloudEvent.from_nats(headers, event.body())
    assert again == event
    assert again.payload(events_pb2.CommunityCreated).county_office_id == "alameda"


def test_document_round_trip_keeps_the_time_zone():
    event = sample()
    stored = event.to_document()
    stored["time"] = stored["time"].replace(tzinfo=None)   # as a naive-datetime driver would return it
    assert CloudEvent.from_document(stored).time == event.time
    assert event.time.tzinfo == dt.UTC


def test_payload_ignores_fields_a_newer_producer_added():
    event = sample()
    newer = CloudEvent(**{**event.__dict__, "data": {**event.data, "added_later": 1}})
    assert newer.payload(events_pb2.CommunityCreated).community_id == "c-1"


@pytest.mark.parametrize(("headers", "body"), [
    ({}, b"{}"),
    ({"ce-specversion": "0.3", "ce-id": "1", "ce-source": "s", "ce-type": "t", "ce-subject": "x",
      "ce-time": "2026-01-01T00:00:00Z"}, b"{}"),
    ({"ce-specversion": "1.0", "ce-id": "1", "ce-source": "s", "ce-type": "t", "ce-subject": "x",
      "ce-time": "2026-01-01T00:00:00Z"}, b"not json"),
    ({"ce-specversion": "1.0", "ce-id": "1", "ce-source": "s", "ce-type": "t", "ce-subject": "x",
      "ce-time": "2026-01-01T00:00:00Z"}, b"[1, 2]"),
])
def test_malformed_messages_are_recognised(headers, body):
    with pytest.raises(MalformedEvent):
        CloudEvent.from_nats(headers, body)


def test_trace_context_of_the_request_is_captured_into_the_event():
    traceparent = tracing.new_traceparent()
    token = tracing.set_traceparent(traceparent)
    try:
        event = sample()
    finally:
        tracing.reset_traceparent(token)
    assert event.traceparent == traceparent
    assert event.headers()["traceparent"] == traceparent
    assert sample().traceparent is None
