"""One caller cannot take every worker of a service: a real gRPC server (the kernel's, with its
interceptors and thread pool) serving a method that holds until the test releases it."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from copnet.gateway.backend import ServiceCallFailed
from copnet.gateway.problems import from_service_call
from copnet.kernel.call_limits import CallAllowance
from copnet.kernel.clients import CLIENT_METADATA_KEY
from copnet.kernel.errors import details_of
from copnet.kernel.grpcserver import GrpcServer
from tests.support import tokens

METHOD = "/copnet.test.Hold/Call"
HOLD, QUICK = b"hold", b"quick"
WAIT = 30.0  # generous bound on waiting for the server; never what a test asserts


@dataclass
class Held:
    """The server side: how many holding calls are inside the method, and the gate that lets them out."""

    entered: threading.Semaphore
    release: threading.Event


def serve(held: Held, **limits) -> GrpcServer:
    def call(request: bytes, _context) -> bytes:
        if request == HOLD:
            held.entered.release()
            held.release.wait(WAIT)
        return b"ok"

    server = GrpcServer(service_name="hold", full_service_names=["copnet.test.Hold"], host="127.0.0.1", port=0,
                        verifier=tokens.verifier(), **limits)
    server.server.add_generic_rpc_handlers([grpc.method_handlers_generic_handler(
        "copnet.test.Hold", {"Call": grpc.unary_unary_rpc_method_handler(call)})])
    server.start()
    server.set_serving(True)
    return server


@pytest.fixture
def held() -> Iterator[Held]:
    state = Held(threading.Semaphore(0), threading.Event())
    yield state
    state.release.set()


def running(held: Held, *, workers=6, per_caller=2, per_service=3, queued_calls=16) -> GrpcServer:
    return serve(held, workers=workers, queued_calls=queued_calls,
                 allowance=CallAllowance(per_caller=per_caller, per_service=per_service))


@pytest.fixture
def server(held) -> Iterator[GrpcServer]:
    started = running(held)
    yield started
    held.release.set()
    started.stop(0)


def connection(server: GrpcServer) -> grpc.Channel:
    """A channel on a connection of its own (not shared with the process's other channels)."""
    return grpc.insecure_channel(f"127.0.0.1:{server.port}", options=[("grpc.use_local_subchannel_pool", 1)])


def caller(channel: grpc.Channel, token: str | None, client: str | None = None):
    method = channel.unary_unary(METHOD)
    metadata = [("authorization", f"Bearer {token}")] if token else []
    metadata += [(CLIENT_METADATA_KEY, client)] if client else []
    return lambda request, **kwargs: method.future(request, metadata=metadata, timeout=WAIT, **kwargs)


def hold(held: Held, call, count: int) -> list:
    """`count` calls inside the method, holding their workers until released."""
    futures = [call(HOLD) for _ in range(count)]
    for _ in range(count):
        assert held.entered.acquire(timeout=WAIT), "a holding call never reached the method"
    return futures


def refusal(future) -> grpc.RpcError:
    with pytest.raises(grpc.RpcError) as raised:
        future.result()
    return raised.value


def test_a_caller_over_its_allowance_is_refused_while_another_caller_is_served(server, held):
    channel = connection(server)
    alice = caller(channel, tokens.person_token("member", "school-1", person="alice"))
    bob = caller(channel, tokens.person_token("member", "school-1", person="bob"))
    holding = hold(held, alice, 2)

    refused = refusal(alice(QUICK))
    assert refused.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert details_of(refused).reason == "TOO_MANY_CONCURRENT_CALLS"
    assert bob(QUICK).result() == b"ok"
    # Readiness is never counted against anybody.
    health = health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(service=""), timeout=WAIT)
    assert health.status == health_pb2.HealthCheckResponse.SERVING

    held.release.set()
    assert [future.result() for future in holding] == [b"ok", b"ok"]
    assert alice(QUICK).result() == b"ok"  # her allowance is back once her calls have finished


def test_the_refusal_is_a_429_problem_at_the_gateway(server, held):
    alice = caller(connection(server), tokens.person_token("member", "school-1", person="alice"))
    hold(held, alice, 2)
    response = from_service_call(ServiceCallFailed("scheduling", "CreateSession", refusal(alice(QUICK))))
    assert response.status_code == 429 and response.mimetype == "application/problem+json"
    assert response.json["reason"] == "TOO_MANY_CONCURRENT_CALLS"
    assert response.headers["Retry-After"] == "1"


def test_a_service_on_its_own_account_has_its_larger_allowance(server, held):
    scheduling = caller(connection(server), tokens.service_token("scheduling"))
    hold(held, scheduling, 3)
    assert refusal(scheduling(QUICK)).code() == grpc.StatusCode.RESOURCE_EXHAUSTED


def test_calls_without_a_token_are_counted_per_connection(server, held):
    first, second = caller(connection(server), None), caller(connection(server), None)
    hold(held, first, 2)
    assert refusal(first(QUICK)).code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert second(QUICK).result() == b"ok"


def test_anonymous_clients_the_gateway_names_on_one_connection_are_counted_apart(server, held):
    channel = connection(server)  # the gateway's one connection, serving everybody's public reads
    first, second = caller(channel, None, client="198.51.100.7"), caller(channel, None, client="203.0.113.9")
    hold(held, first, 2)
    assert refusal(first(QUICK)).code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert second(QUICK).result() == b"ok"


def test_calls_beyond_the_workers_and_the_queue_are_refused_at_once(held):
    server = running(held, workers=2, queued_calls=0)
    try:
        channel = connection(server)
        hold(held, caller(channel, tokens.person_token("member", "s", person="alice")), 1)
        hold(held, caller(channel, tokens.person_token("member", "s", person="bob")), 1)
        refused = refusal(caller(channel, tokens.person_token("member", "s", person="carol"))(QUICK))
        assert refused.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    finally:
        held.release.set()
        server.stop(0)
