"""gRPC clients: channels made lazily (after any fork), a deadline on every call, and
retries only for UNAVAILABLE on idempotent methods (gRPC's own retry policy)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterable

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from copnet.kernel.settings import Settings


def _retry_config(service: str, idempotent_methods: Iterable[str]) -> str:
    return json.dumps({"methodConfig": [{
        "name": [{"service": service, "method": m} for m in idempotent_methods],
        "retryPolicy": {"maxAttempts": 4, "initialBackoff": "0.1s", "maxBackoff": "1s",
                        "backoffMultiplier": 2, "retryableStatusCodes": ["UNAVAILABLE"]},
    }]})


class ServiceClient:
    """One service's stub: `client.call("GetCommunity", request, token=...)`."""

    def __init__(self, address: str, stub_class, full_service_name: str, deadline_seconds: float):
        self.address = address
        self.deadline_seconds = deadline_seconds
        self.full_service_name = full_service_name
        methods = [name for name in _method_names(stub_class, full_service_name)
                   if name.startswith(("Get", "List"))]
        # round_robin: behind a headless Kubernetes Service, calls (not just connections) spread
        # over every replica (use a dns:/// address there).
        # Reconnection back-off capped at 2 s (gRPC's default grows to 120 s): a service that was
        # restarted (a deploy, a crash) is reached again within seconds, not minutes of 503s.
        options = [("grpc.enable_retries", 1), ("grpc.lb_policy_name", "round_robin"),
                   ("grpc.service_config", _retry_config(full_service_name, methods)),
                   ("grpc.initial_reconnect_backoff_ms", 250), ("grpc.min_reconnect_backoff_ms", 250),
                   ("grpc.max_reconnect_backoff_ms", 2000)]
        self.channel = grpc.insecure_channel(address, options=options)
        self.stub = stub_class(self.channel)
        self.health = health_pb2_grpc.HealthStub(self.channel)

    def call(self, method: str, request, *, token: str | None = None, traceparent: str | None = None,
             timeout: float | None = None):
        metadata = []
        if token:
            metadata.append(("authorization", f"Bearer {token}"))
        if traceparent:
            metadata.append(("traceparent", traceparent))
        return getattr(self.stub, method)(request, timeout=timeout or self.deadline_seconds, metadata=metadata)

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


def _method_names(stub_class, full_service_name: str) -> list[str]:
    from google.protobuf import descriptor_pool

    descriptor = descriptor_pool.Default().FindServiceByName(full_service_name)
    return [method.name for method in descriptor.methods]


def _registry() -> dict[str, tuple[str, object]]:
    # Imported here: generated modules are only needed by processes that call services.
    from copnet.membership.v1 import membership_pb2_grpc
    from copnet.plugins.v1 import plugins_pb2_grpc
    from copnet.reflection.v1 import reflection_pb2_grpc
    from copnet.resources.v1 import resources_pb2_grpc
    from copnet.scheduling.v1 import scheduling_pb2_grpc

    return {
        "membership": ("copnet.membership.v1.MembershipService", membership_pb2_grpc.MembershipServiceStub),
        "scheduling": ("copnet.scheduling.v1.SchedulingService", scheduling_pb2_grpc.SchedulingServiceStub),
        "resources": ("copnet.resources.v1.ResourcesService", resources_pb2_grpc.ResourcesServiceStub),
        "reflection": ("copnet.reflection.v1.ReflectionService", reflection_pb2_grpc.ReflectionServiceStub),
        "plugins": ("copnet.plugins.v1.PluginService", plugins_pb2_grpc.PluginServiceStub),
    }


def request_field_names(service: str, method: str) -> frozenset[str]:
    """The top-level fields of `service`'s `method` request message (empty when unknown)."""
    from google.protobuf import descriptor_pool

    try:
        full_name = _registry()[service][0]
        descriptor = descriptor_pool.Default().FindServiceByName(full_name).FindMethodByName(method)
    except KeyError:
        return frozenset()
    return frozenset(field.name for field in descriptor.input_type.fields) if descriptor else frozenset()


class Clients:
    """Every service's client for this process, each made on first use (so after any fork)."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self._clients: dict[str, ServiceClient] = {}
        self._lock = threading.Lock()

    def __getitem__(self, service: str) -> ServiceClient:
        with self._lock:
            if service not in self._clients:
                full_name, stub_class = _registry()[service]
                self._clients[service] = ServiceClient(self.settings.address_of(service), stub_class, full_name,
                                                       self.settings.grpc_deadline_seconds)
            return self._clients[service]

    def close(self) -> None:
        with self._lock:
            for client in self._clients.values():
                client.close()
            self._clients.clear()
