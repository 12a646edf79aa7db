"""The gateway's only way to the services: one `Clients` per process, made at the first request,
and each service's generated stub on behalf of the current HTTP caller:

    reply = membership().GetCommunity(membership_pb2.GetCommunityRequest(id=path.id))

Made lazily because gunicorn forks its workers after loading the app and a gRPC channel must not
cross a fork; kept in `app.extensions` so every request (and thread) of a worker shares it.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import grpc
from flask import Flask, current_app, g, request

from copnet.kernel.clients import Clients, ServiceClientSpec, Stub
from copnet.membership.client import MEMBERSHIP
from copnet.membership.v1.membership_pb2_grpc import MembershipServiceStub
from copnet.plugins.client import PLUGINS
from copnet.plugins.v1.plugins_pb2_grpc import PluginServiceStub
from copnet.reflection.client import REFLECTION
from copnet.reflection.v1.reflection_pb2_grpc import ReflectionServiceStub
from copnet.resources.client import RESOURCES
from copnet.resources.v1.resources_pb2_grpc import ResourcesServiceStub
from copnet.scheduling.client import SCHEDULING
from copnet.scheduling.v1.scheduling_pb2_grpc import SchedulingServiceStub

EXTENSION = "copnet.backend"
# Enough for readyz's 3 health checks per service at once, and a community read's lookups.
POOL_THREADS = 16


class ServiceCallFailed(Exception):
    """A gRPC call from the gateway failed; turned into problem+json by `problems`."""

    def __init__(self, service: str, method: str, error: grpc.RpcError):
        super().__init__(f"{service}.{method}: {error.code().name}")
        self.service = service
        self.method = method
        self.error = error


class NameFailures(grpc.UnaryUnaryClientInterceptor, grpc.StreamUnaryClientInterceptor):
    """Raises a failed call as `ServiceCallFailed`, naming its service and method for `problems`
    (unary calls, and client-streaming uploads such as reflection's ImportDataSet)."""

    def __init__(self, service: str):
        self.service = service

    def intercept_unary_unary(self, continuation, client_call_details, request):
        return self._named(client_call_details, continuation(client_call_details, request))

    def intercept_stream_unary(self, continuation, client_call_details, request_iterator):
        return self._named(client_call_details, continuation(client_call_details, request_iterator))

    def _named(self, client_call_details, outcome):
        if isinstance(outcome, grpc.RpcError):
            raise ServiceCallFailed(self.service, client_call_details.method.rsplit("/", 1)[-1], outcome)
        return outcome


class Backend:
    def __init__(self, make_clients):
        self._make_clients = make_clients
        self._clients = None
        self._pool: ThreadPoolExecutor | None = None
        self._lock = threading.Lock()

    @property
    def clients(self) -> Clients:
        with self._lock:
            if self._clients is None:
                self._clients = self._make_clients()
            return self._clients

    @property
    def pool(self) -> ThreadPoolExecutor:
        with self._lock:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(POOL_THREADS, thread_name_prefix="gateway-calls")
            return self._pool

    @property
    def started(self) -> bool:
        return self._clients is not None

    def stub(self, service: ServiceClientSpec[Stub], *, token: str | None, traceparent: str | None,
             client: str | None = None) -> Stub:
        """`service`'s stub for this caller: its failures raise `ServiceCallFailed`."""
        return self.clients.stub(service, token=token, traceparent=traceparent, client=client,
                                 interceptors=[NameFailures(service.name)])


def install(app: Flask, make_clients) -> None:
    app.extensions[EXTENSION] = Backend(make_clients)


def backend() -> Backend:
    return current_app.extensions[EXTENSION]


def on_behalf(service: ServiceClientSpec[Stub]) -> Stub:
    """`service`'s stub on behalf of the current HTTP caller (token and trace forwarded)."""
    return backend().stub(service, **caller())


def membership() -> MembershipServiceStub:
    return on_behalf(MEMBERSHIP)


def scheduling() -> SchedulingServiceStub:
    return on_behalf(SCHEDULING)


def resources() -> ResourcesServiceStub:
    return on_behalf(RESOURCES)


def reflection() -> ReflectionServiceStub:
    return on_behalf(REFLECTION)


def plugins() -> PluginServiceStub:
    return on_behalf(PLUGINS)


def caller() -> dict[str, str | None]:
    """The current request's bearer token, traceparent and, without a token, the client's address
    (what services count an anonymous caller's calls by), to pass along from other threads too."""
    token = g.get("bearer_token")
    return {"token": token, "traceparent": request.headers.get("traceparent"),
            "client": None if token else request.remote_addr}
