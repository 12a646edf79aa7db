"""Stand-ins for the gateway's gRPC clients: scripted replies and errors, every call recorded.

Only for the gateway's own logic (routing, validation, error mapping); the real services are
exercised by tests/integration/test_gateway_api.py.
"""

from __future__ import annotations

import grpc

from grpc_health.v1 import health_pb2

from copnet.gateway.app import create_app
from copnet.kernel.clients import Clients, ServiceClient, declared
from copnet.kernel.settings import SERVICE_NAMES
from tests.support import tokens
from tests.support.fake_grpc import FakeChannel, FakeRpcError, RecordedCall

PROBLEM_KEYS = {"type", "title", "status", "detail"}
DEADLINE_SECONDS = 5.0
HEALTH_SERVICE = "grpc.health.v1.Health"


class FakeServiceClient(ServiceClient):
    """A service's real client (the kernel's interceptors run) on a channel answering in-process."""

    def __init__(self, name: str):
        self.replies: dict = {}  # method -> reply message, or an exception to raise
        self.health_states = {"": "SERVING", "copnet.dependency.mongodb": "SERVING", "copnet.dependency.nats": "SERVING"}
        self.calls: list[RecordedCall] = []  # the service's own RPCs (health checks left out)
        super().__init__(declared(name), f"fake-{name}:0", FakeChannel(self.answer), DEADLINE_SECONDS)

    def answer(self, call: RecordedCall):
        if call.service == HEALTH_SERVICE:
            state = self.health_states.get(call.request.service)
            if state is None:
                raise FakeRpcError(grpc.StatusCode.NOT_FOUND, "unknown service")
            if state == "UNREACHABLE":
                raise FakeRpcError(grpc.StatusCode.UNAVAILABLE, "connection refused")
            return health_pb2.HealthCheckResponse(status=health_pb2.HealthCheckResponse.ServingStatus.Value(state))
        self.calls.append(call)
        reply = self.replies[call.method]
        if isinstance(reply, BaseException):
            raise reply
        return reply


class FakeClients(Clients):
    """`copnet.kernel.clients.Clients` with every service answered by a `FakeServiceClient`
    (`clients["membership"].replies`, `.calls`, `.health_states`)."""

    def __init__(self):
        super().__init__(tokens.settings(grpc_deadline_seconds=DEADLINE_SECONDS))
        self.fakes = {name: FakeServiceClient(name) for name in SERVICE_NAMES}

    def of(self, spec):
        return self.fakes[spec.name]

    def all_calls(self) -> list[RecordedCall]:
        return [call for client in self.fakes.values() for call in client.calls]


def make_app(clients: FakeClients | None = None):
    app = create_app(tokens.settings(), clients=clients if clients is not None else FakeClients())
    app.testing = True
    return app


def token(role: str = "platform_admin", org: str = "", ttl_seconds: int = 3600) -> str:
    return tokens.person_token(role, org, ttl_seconds=ttl_seconds)


def bearer(role: str = "platform_admin", org: str = "") -> dict[str, str]:
    return {"Authorization": f"Bearer {token(role, org)}"}


def assert_problem(response, status: int, reason: str | None = None) -> dict:
    """`response` is an RFC 9457 problem with this status (and reason, or about:blank without one)."""
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    body = response.get_json(force=True)
    assert PROBLEM_KEYS <= body.keys()
    assert body["status"] == status
    if reason is None:
        assert body["type"] == "about:blank"
    else:
        assert body["reason"] == reason
        assert body["type"] == "urn:copnet:problem:" + reason.lower().replace("_", "-")
    return body
