"""A small closed-loop HTTP load generator: N requests from C concurrent keep-alive clients."""

from __future__ import annotations

import http.client
import json
import statistics
import threading
import time
import urllib.parse
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Call:
    """One request: its path, JSON body (None: no body) and headers of its own (e.g. the caller's
    bearer token), sent with `method`."""

    path: str
    body: dict | None
    headers: dict[str, str] = field(default_factory=dict)
    method: str = "POST"


@dataclass
class Answer:
    """What one call got back, and which client sent it as its how-many-th request."""

    status: int
    body: bytes
    client: int
    turn: int

    def json(self):
        return json.loads(self.body) if self.body else None


@dataclass
class LoadResult:
    name: str
    requests: int
    concurrency: int
    seconds: float
    latencies_ms: list[float]
    statuses: dict[int, int]
    # One per call, in the calls' order; only when asked for (keeping 10,000 bodies costs memory).
    answers: list[Answer | None] | None = None

    @property
    def throughput(self) -> float:
        return self.requests / self.seconds

    def percentile(self, p: float) -> float:
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]

    def row(self) -> str:
        statuses = " ".join(f"{code}x{n}" for code, n in sorted(self.statuses.items()))
        return (f"{self.name:<34} {self.requests:>6} {self.concurrency:>4} {self.throughput:>9.1f} "
                f"{statistics.median(self.latencies_ms):>8.1f} {self.percentile(99):>8.1f}  {statuses}")


HEADER = f"{'scenario':<34} {'reqs':>6} {'conc':>4} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8}  statuses"


def post_burst(name: str, base_url: str, path: str, bodies: list[dict], concurrency: int,
               headers: dict[str, str] | None = None) -> LoadResult:
    """POST every body once to `path` with the same headers, `concurrency` clients at a time."""
    return burst(name, base_url, [Call(path, body, headers or {}) for body in bodies], concurrency)


def get_burst(name: str, base_url: str, path: str, requests: int, concurrency: int,
              headers: dict[str, str] | None = None) -> LoadResult:
    """GET `path` `requests` times with the same headers, `concurrency` clients at a time."""
    return burst(name, base_url, [Call(path, None, headers or {}, method="GET")] * requests, concurrency)


def burst(name: str, base_url: str, calls: list[Call], concurrency: int, keep_answers: bool = False) -> LoadResult:
    """Make every call once, `concurrency` clients at a time, each on its own keep-alive connection.

    A client takes the next call as soon as it has its previous answer (closed loop), so the
    calls are started in list order.
    """
    url = urllib.parse.urlparse(base_url)
    lock = threading.Lock()
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    answers: list[Answer | None] = [None] * len(calls)
    next_index = iter(range(len(calls)))

    def client(number: int) -> None:
        connection = http.client.HTTPConnection(url.hostname, url.port, timeout=60)
        turn = 0
        try:
            while True:
                with lock:
                    index = next(next_index, None)
                if index is None:
                    return
                call = calls[index]
                body = None if call.body is None else json.dumps(call.body)
                headers = {**({} if body is None else {"Content-Type": "application/json"}), **call.headers}
                started = time.perf_counter()
                status, raw = _send(connection, call.method, call.path, body, headers)
                elapsed = (time.perf_counter() - started) * 1000
                with lock:
                    latencies.append(elapsed)
                    statuses[status] = statuses.get(status, 0) + 1
                if keep_answers:
                    answers[index] = Answer(status, raw, number, turn)
                turn += 1
        finally:
            connection.close()

    started = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        for future in [pool.submit(client, number) for number in range(concurrency)]:
            future.result()
    return LoadResult(name, len(calls), concurrency, time.perf_counter() - started, latencies, statuses,
                      answers if keep_answers else None)


def _send(connection: http.client.HTTPConnection, method: str, path: str, body: str | None,
          headers: dict) -> tuple[int, bytes]:
    try:
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
    except http.client.RemoteDisconnected:
        # Nothing came back: the server closed the keep-alive connection as the request went out
        # (its idle timeout), so it never handled it. Sent again once on a new connection; were
        # a POST handled after all, the second answer would say so (409 already registered).
        connection.close()
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
    return response.status, response.read()


def time_until(predicate: Callable[[], bool], timeout: float = 300) -> float:
    started = time.perf_counter()
    while not predicate():
        if time.perf_counter() - started > timeout:
            raise TimeoutError("condition not reached")
        time.sleep(0.05)
    return time.perf_counter() - started
