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
from dataclasses import dataclass


@dataclass
class LoadResult:
    name: str
    requests: int
    concurrency: int
    seconds: float
    latencies_ms: list[float]
    statuses: dict[int, int]

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
    """POST every body once, `concurrency` clients at a time, each on its own keep-alive connection."""
    url = urllib.parse.urlparse(base_url)
    lock = threading.Lock()
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    next_index = iter(range(len(bodies)))
    all_headers = {"Content-Type": "application/json", **(headers or {})}

    def client() -> None:
        connection = http.client.HTTPConnection(url.hostname, url.port, timeout=60)
        try:
            while True:
                with lock:
                    index = next(next_index, None)
                if index is None:
                    return
                started = time.perf_counter()
                connection.request("POST", path, body=json.dumps(bodies[index]), headers=all_headers)
                response = connection.getresponse()
                response.read()
                elapsed = (time.perf_counter() - started) * 1000
                with lock:
                    latencies.append(elapsed)
                    statuses[response.status] = statuses.get(response.status, 0) + 1
        finally:
            connection.close()

    started = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        for future in [pool.submit(client) for _ in range(concurrency)]:
            future.result()
    return LoadResult(name, len(bodies), concurrency, time.perf_counter() - started, latencies, statuses)


def time_until(predicate: Callable[[], bool], timeout: float = 300) -> float:
    started = time.perf_counter()
    while not predicate():
        if time.perf_counter() - started > timeout:
            raise TimeoutError("condition not reached")
        time.sleep(0.05)
    return time.perf_counter() - started
