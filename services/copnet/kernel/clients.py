"""gRPC clients: channels made lazily (after any fork), a deadline on every call, the caller's
token and trace in every call's metadata, and retries only for UNAVAILABLE on idempotent methods
(gRPC's own retry policy).

The kernel knows no service: each declares how to call it in `copnet/<name>/client.py`, as a
`ServiceClientSpec` named after it in capitals (`copnet.membership.client.MEMBERSHIP`), and a
caller gets that service's generated stub bound to a caller:

    clients.stub(MEMBERSHIP, token=token).GetCommunity(request)          # default deadline
    clients.stub(MEMBERSHIP, token=token).GetCommunity(request, timeout=1.0)
"""

from __future__ import annotations

import importlib
import json
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from copnet.kernel import limits
from copnet.kernel.settings import Settings

Stub = TypeVar("Stub")


@dataclass(frozen=True)
class ServiceClientSpec(Generic[Stub]):
    """How to call one service: what its `copnet/<name>/client.py` declares."""

    name: str  # as in settings.SERVICE_NAMES: where its address is configured
    full_name: str  # the proto service, e.g. "copnet.membership.v1.MembershipService"
    stub_class: Callable[[grpc.Channel], Stub]
    # Set by the one service that stores every organization's plugin configuration: how the
    # others load it and report a plugin that keeps failing (a kernel.plugin_config_feed.ConfigAuthority).
    plugin_config_authority: object | None = None
    # Set by the one service that keeps the revoked token ids: how the others read them, given its
    # stub (called with their service token), as used by kernel.revocations.RevocationList.
    revoked_tokens: Callable[[Stub], Iterable[str]] | None = None

    def method_names(self) -> list[str]:
        from google.protobuf import descriptor_pool

        return [method.name for method in descriptor_pool.Default().FindServiceByName(self.full_name).methods]

    def request_field_names(self, method: str) -> frozenset[str]:
        """The top-level fields of `method`'s request message (empty when unknown)."""
        from google.protobuf import descriptor_pool

        try:
            descriptor = descriptor_pool.Default().FindServiceByName(self.full_name).FindMethodByName(method)
        except KeyError:
            return frozenset()
        return frozenset(field.name for field in descriptor.input_type.fields) if descriptor else frozenset()


def declared(name: str) -> ServiceClientSpec:
    """The client service `name` declares: `copnet.<name>.client.<NAME>` (imported on first use, so
    only processes that call services load generated code)."""
    spec = getattr(importlib.import_module(f"copnet.{name}.client"), name.upper())
    if not isinstance(spec, ServiceClientSpec) or spec.name != name:
        raise TypeError(f"copnet.{name}.client.{name.upper()} is not the ServiceClientSpec of {name!r}")
    return spec


def request_field_names(service: str, method: str) -> frozenset[str]:
    """The top-level fields of `service`'s `method` request message (empty when unknown)."""
    try:
        spec = declared(service)
    except (ImportError, AttributeError):
        return frozenset()
    return spec.request_field_names(method)


@dataclass(frozen=True)
class _CallDetails(grpc.ClientCallDetails):
    method: str
    timeout: float | None
    metadata: Sequence[tuple[str, str]] | None
    credentials: grpc.CallCredentials | None
    wait_for_ready: bool | None
    compression: grpc.Compression | None


# Where a call comes from on whose behalf a process calls without a token (the gateway: the HTTP
# client's address), so the services count anonymous callers apart (kernel.call_limits).
CLIENT_METADATA_KEY = "copnet-client"


class CallerInterceptor(grpc.UnaryUnaryClientInterceptor, grpc.StreamUnaryClientInterceptor):
    """Adds the caller's bearer token, W3C traceparent and (for a caller without a token) address to
    every call's metadata, and the default deadline to every call that sets none of its own (calls
    with one answer: unary, and client-streaming uploads)."""

    def __init__(self, deadline_seconds: float, token: str | None = None, traceparent: str | None = None,
                 client: str | None = None):
        self.deadline_seconds = deadline_seconds
        self.metadata = tuple(filter(None, [("authorization", f"Bearer {token}") if token else None,
                                            ("traceparent", traceparent) if traceparent else None,
                                            (CLIENT_METADATA_KEY, client) if client else None]))

    def intercept_unary_unary(self, continuation, client_call_details, request):
        return continuation(self._details(client_call_details), request)

    def intercept_stream_unary(self, continuation, client_call_details, request_iterator):
        return continuation(self._details(client_call_details), request_iterator)

    def _details(self, client_call_details) -> _CallDetails:
        return _CallDetails(
            method=client_call_details.method,
            timeout=self.deadline_seconds if client_call_details.timeout is None else client_call_details.timeout,
            metadata=[*(client_call_details.metadata or ()), *self.metadata],
            credentials=client_call_details.credentials,
            wait_for_ready=client_call_details.wait_for_ready,
            compression=client_call_details.compression)


def _retry_config(service: str, idempotent_methods: Iterable[str]) -> str:
    return json.dumps({"methodConfig": [{
        "name": [{"service": service, "method": m} for m in idempotent_methods],
        "retryPolicy": {"maxAttempts": 4, "initialBackoff": "0.1s", "maxBackoff": "1s",
                        "backoffMultiplier": 2, "retryableStatusCodes": ["UNAVAILABLE"]},
    }]})


def open_channel(spec: ServiceClientSpec, address: str) -> grpc.Channel:
    """The channel to `spec`'s service at `address`: Get*/List* retried on UNAVAILABLE."""
    idempotent = [name for name in spec.method_names() if name.startswith(("Get", "List"))]
    # round_robin: behind a headless Kubernetes Service, calls (not just connections) spread
    # over every replica (use a dns:/// address there).
    # Reconnection back-off capped at 2 s (gRPC's default grows to 120 s): a service that was
    # restarted (a deploy, a crash) is reached again within seconds, not minutes of 503s.
    options = [("grpc.enable_retries", 1), ("grpc.lb_policy_name", "round_robin"),
               ("grpc.service_config", _retry_config(spec.full_name, idempotent)), *limits.GRPC_MESSAGE_OPTIONS,
               ("grpc.initial_reconnect_backoff_ms", 250), ("grpc.min_reconnect_backoff_ms", 250),
               ("grpc.max_reconnect_backoff_ms", 2000)]
    return grpc.insecure_channel(address, options=options)


class ServiceClient(Generic[Stub]):
    """One service's channel, its health, and its stub bound to a caller (`as_caller`)."""

    def __init__(self, spec: ServiceClientSpec[Stub], address: str, channel: grpc.Channel, deadline_seconds: float):
        self.spec = spec
        self.address = address
        self.channel = channel
        self.deadline_seconds = deadline_seconds
        self.health = health_pb2_grpc.HealthStub(channel)

    def as_caller(self, token: str | None = None, traceparent: str | None = None, *, client: str | None = None,
                  interceptors: Sequence[grpc.UnaryUnaryClientInterceptor] = ()) -> Stub:
        """The generated stub, every call carrying `token` and `traceparent` and the default deadline
        (a call's own `timeout=` overrides it); `interceptors` run around the call, outermost first."""
        caller = CallerInterceptor(self.deadline_seconds, token, traceparent, client)
        return self.spec.stub_class(grpc.intercept_channel(self.channel, *interceptors, caller))

    def health_status(self, service: str = "", timeout: float = 1.0) -> str:
        """SERVING / NOT_SERVING / SERVICE_UNKNOWN, or UNREACHABLE when the call itself fails."""
        try:
            reply = self.health.Check(health_pb2.HealthCheckRequest(service=service), timeout=timeout)
        except grpc.RpcError as error:
            if error.code() == grpc.StatusCode.NOT_FOUND:
                return "SERVICE_UNKNOWN"
            return "UNREACHABLE"
        return health_pb2.HealthCheckResponse.ServingStatus.Name(reply.status)

    def close(self) -> None:
        self.channel.close()


class Clients:
    """Every service's client for this process, each made on first use (so after any fork).

    `open_channel` replaces how a channel is made (tests pass in-process fakes)."""

    def __init__(self, settings: Settings,
                 open_channel: Callable[[ServiceClientSpec, str], grpc.Channel] = open_channel):
        self.settings = settings
        self._open_channel = open_channel
        self._clients: dict[str, ServiceClient] = {}
        self._lock = threading.Lock()

    def of(self, spec: ServiceClientSpec[Stub]) -> ServiceClient[Stub]:
        with self._lock:
            if spec.name not in self._clients:
                address = self.settings.address_of(spec.name)
                self._clients[spec.name] = ServiceClient(spec, address, self._open_channel(spec, address),
                                                         self.settings.grpc_deadline_seconds)
            return self._clients[spec.name]

    def __getitem__(self, service: str) -> ServiceClient:
        """The client of the service named `service` (its channel and health)."""
        return self.of(declared(service))

    def stub(self, spec: ServiceClientSpec[Stub], *, token: str | None = None, traceparent: str | None = None,
             client: str | None = None, interceptors: Sequence[grpc.UnaryUnaryClientInterceptor] = ()) -> Stub:
        """`spec`'s generated stub on behalf of the caller holding `token` (see `ServiceClient.as_caller`)."""
        return self.of(spec).as_caller(token, traceparent, client=client, interceptors=interceptors)

    def close(self) -> None:
        with self._lock:
            for client in self._clients.values():
                client.close()
            self._clients.clear()
