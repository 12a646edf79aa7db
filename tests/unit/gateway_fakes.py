"""Stand-ins for the gateway's gRPC clients: scripted replies and errors, every call recorded.

Only for the gateway's own logic (routing, validation, error mapping); the real services are
exercised by tests/integration/test_gateway_api.py.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import grpc
from grpc_status import rpc_status

from copnet.gateway.app import create_app
from copnet.kernel import auth
from copnet.kernel.errors import DomainError, to_rpc_status
from copnet.kernel.settings import load_settings

SECRET = "unit-tests-secret-0123456789abcdef0123"
PROBLEM_KEYS = {"type", "title", "status", "detail"}


class FakeRpcError(grpc.RpcError, grpc.Call):
    """What a failed unary call raises, with the rich status the kernel's interceptor attaches."""

    def __init__(self, code: grpc.StatusCode, message: str, trailing=()):
        self._code, self._message, self._trailing = code, message, tuple(trailing)

    @classmethod
    def of(cls, error: DomainError) -> "FakeRpcError":
        status = rpc_status.to_status(to_rpc_status(error))
        return cls(status.code, status.details, status.trailing_metadata)

    def code(self):
        return self._code

    def details(self):
        return self._message

    def trailing_metadata(self):
        return self._trailing

    # grpc.Call's remaining abstract methods: never used by the gateway.
    def initial_metadata(self):
        return ()

    def is_active(self):
        return False

    def time_remaining(self):
        return None

    def cancel(self):
        return False

    def add_callback(self, callback):
        return False


@dataclass
class Call:
    method: str
    request: object
    token: str | None
    traceparent: str | None


@dataclass
class FakeServiceClient:
    replies: dict = field(default_factory=dict)  # method -> reply message, or an exception to raise
    health: dict = field(default_factory=lambda: {"": "SERVING", "copnet.dependency.mongodb": "SERVING",
                                                  "copnet.dependency.nats": "SERVING"})
    calls: list[Call] = field(default_factory=list)

    def call(self, method, request, *, token=None, traceparent=None, timeout=None):
        self.calls.append(Call(method, request, token, traceparent))
        reply = self.replies[method]
        if isinstance(reply, BaseException):
            raise reply
        return reply

    def health_status(self, service="", timeout=1.0):
        return self.health.get(service, "SERVICE_UNKNOWN")


class FakeClients(dict):
    """`clients["membership"]` like copnet.kernel.clients.Clients, one fake per service."""

    def __init__(self):
        super().__init__({name: FakeServiceClient() for name in
                          ("membership", "scheduling", "resources", "reflection", "plugins")})

    def all_calls(self) -> list[Call]:
        return [call for client in self.values() for call in client.calls]


def make_app(clients: FakeClients | None = None):
    app = create_app(load_settings(secret=SECRET), clients=clients if clients is not None else FakeClients())
    app.testing = True
    return app


def token(role: str = "platform_admin", org: str = "", ttl_seconds: int = 3600) -> str:
    return auth.issue_token(SECRET, "tester", role, org, ttl_seconds=ttl_seconds)


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
