"""The kernel's gRPC clients: each service's own declared stub, the caller's token and trace and a
deadline on every call (through fake channels: no server)."""

from __future__ import annotations

import pytest

from copnet.kernel.clients import Clients, declared
from copnet.kernel.settings import SERVICE_NAMES, load_settings
from copnet.membership.client import MEMBERSHIP
from copnet.membership.v1 import membership_pb2
from tests.support.fake_grpc import FakeChannel

TRACEPARENT = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"


@pytest.fixture
def channels():
    return {}


@pytest.fixture
def clients(channels):
    def open_channel(spec, address):
        channels[spec.name] = FakeChannel(lambda call: membership_pb2.GetCommunityResponse(
            community=membership_pb2.Community(id=call.request.id)))
        return channels[spec.name]

    return Clients(load_settings(grpc_deadline_seconds=7.0), open_channel=open_channel)


@pytest.mark.parametrize("name", SERVICE_NAMES)
def test_every_service_declares_its_own_client_and_the_kernel_finds_it_by_name(name):
    spec = declared(name)
    assert spec.name == name
    assert spec.method_names()
    assert spec.full_name.startswith(f"copnet.{name}.v1.")


def test_a_stub_bound_to_a_caller_sends_its_token_and_trace_with_the_default_deadline(clients, channels):
    reply = clients.stub(MEMBERSHIP, token="t0k3n", traceparent=TRACEPARENT).GetCommunity(
        membership_pb2.GetCommunityRequest(id="plc"))

    assert reply.community.id == "plc"
    [call] = channels["membership"].calls
    assert (call.method, call.token, call.traceparent, call.timeout) == ("GetCommunity", "t0k3n", TRACEPARENT, 7.0)


def test_a_call_may_set_its_own_deadline_and_an_anonymous_caller_sends_no_token(clients, channels):
    clients.stub(MEMBERSHIP).GetCommunity(membership_pb2.GetCommunityRequest(id="plc"), timeout=1.5)

    [call] = channels["membership"].calls
    assert (call.token, call.traceparent, call.timeout) == (None, None, 1.5)


def test_each_service_gets_one_channel_made_at_first_use(clients, channels):
    assert channels == {}
    first, second = clients.of(MEMBERSHIP), clients["membership"]

    assert first is second
    assert list(channels) == ["membership"]
