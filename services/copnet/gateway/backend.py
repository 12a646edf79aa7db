"""The gateway's only way to the services: one `Clients` per process, made at the first request.

Made lazily because gunicorn forks its workers after loading the app and a gRPC channel must not
cross a fork; kept in `app.extensions` so every request (and thread) of a worker shares it.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import grpc
from flask import Flask, current_app, g, request

from copnet.kernel.clients import Clients

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

    def call(self, service: str, method: str, message, *, token: str | None, traceparent: str | None,
             timeout: float | None = None):
        try:
            return self.clients[service].call(method, message, token=token, traceparent=traceparent,
                                              timeout=timeout)
        except grpc.RpcError as error:
            raise ServiceCallFailed(service, method, error) from None


def install(app: Flask, make_clients) -> None:
    app.extensions[EXTENSION] = Backend(make_clients)


def backend() -> Backend:
    return current_app.extensions[EXTENSION]


def call(service: str, method: str, message, *, timeout: float | None = None):
    """`service.method(message)` on behalf of the current HTTP caller (token and trace forwarded)."""
    return backend().call(service, method, message, timeout=timeout, **caller())


def caller() -> dict[str, str | None]:
    """The current request's bearer token and traceparent, to pass along from other threads too."""
    return {"token": g.get("bearer_token"), "traceparent": request.headers.get("traceparent")}
