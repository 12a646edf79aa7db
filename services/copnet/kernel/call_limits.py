"""How many calls one caller may have in flight in a service process at once.

A service serves its gRPC calls on a fixed pool of threads (COPNET_GRPC_WORKERS). Without a
limit, one caller sending slow requests side by side takes every thread, and everybody else's
calls wait behind them until they time out (sixteen costly recurrence rules at once made
scheduling unreachable for a minute). So each caller gets an allowance of calls in flight:

- a person: COPNET_GRPC_CALLS_PER_CALLER, counted by the token's subject (the gateway forwards
  each person's own token, so this holds however many gateway processes their requests cross);
- a service acting on its own account (subject `service:<name>`): COPNET_GRPC_CALLS_PER_SERVICE,
  higher, since a service asks others on behalf of every request it serves;
- a call without a token: COPNET_GRPC_CALLS_PER_CALLER per connection (the peer) and client
  address the caller names (`copnet-client` metadata): the gateway makes the public reads and
  calendar feeds of everybody on its own connection and names each HTTP client's address, so
  one anonymous client cannot take the allowance of all the others.

A call beyond its caller's allowance is refused at once with RESOURCE_EXHAUSTED
(`TOO_MANY_CONCURRENT_CALLS`; the gateway answers 429): the refusal holds a thread for
microseconds, and the caller may send it again when one of its calls has finished. Health
checks are never counted, so readiness is answered under any load.
"""

from __future__ import annotations

import collections
import contextlib
import logging
import threading
from collections.abc import Iterator
from dataclasses import dataclass

import grpc

from copnet.kernel import auth
from copnet.kernel.errors import DomainError

log = logging.getLogger(__name__)

REASON = "TOO_MANY_CONCURRENT_CALLS"
# Method prefixes never counted: answering them must not depend on who else is calling.
UNCOUNTED_PREFIXES = ("/grpc.health.v1.Health/",)


class TooManyConcurrentCalls(DomainError):
    code = grpc.StatusCode.RESOURCE_EXHAUSTED
    default_reason = REASON


@dataclass(frozen=True)
class CallAllowance:
    """Calls in flight at once: per person (and per connection without a token), per service."""

    per_caller: int
    per_service: int


class CallLimiter:
    """Counts each caller's calls in flight and refuses one over its allowance (thread-safe)."""

    def __init__(self, allowance: CallAllowance):
        self.allowance = allowance
        self._lock = threading.Lock()
        self._in_flight: collections.Counter[str] = collections.Counter()

    @staticmethod
    def caller_of(identity: auth.Identity | None, peer: str, client: str | None = None) -> tuple[str, bool]:
        """(the key a caller's calls are counted under, whether it is a service). A call without a
        token counts under its connection and the client the caller names (the gateway: the HTTP
        client's address): naming another client gains nothing a new connection would not."""
        if identity is None:
            return f"connection {peer} client {client or '-'}", False
        return f"caller {identity.person_id}", auth.is_service(identity)

    @contextlib.contextmanager
    def admitted(self, key: str, *, service: bool = False) -> Iterator[None]:
        """Holds one of `key`'s calls in flight for the block; TooManyConcurrentCalls when its
        allowance is already taken."""
        limit = self.allowance.per_service if service else self.allowance.per_caller
        with self._lock:
            if self._in_flight[key] >= limit:
                refused = True
            else:
                refused = False
                self._in_flight[key] += 1
        if refused:
            log.warning("%s already has %d calls in flight here: one more refused", key, limit)
            raise TooManyConcurrentCalls(
                f"too many calls at once from this caller (at most {limit} in flight); "
                "send it again when an earlier one has finished")
        try:
            yield
        finally:
            with self._lock:
                self._in_flight[key] -= 1
                if self._in_flight[key] <= 0:
                    del self._in_flight[key]

    def in_flight(self, key: str) -> int:
        with self._lock:
            return self._in_flight[key]
