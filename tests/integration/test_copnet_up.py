"""`copnet up --seed demo` for real: the whole stack comes up, answers, stops without leaving a
process behind, and comes back on the same data directory with its data."""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import psutil
import pytest

from copnet import seed, stack
from copnet.kernel.settings import SERVICE_NAMES

pytestmark = pytest.mark.integration

PORT_VARIABLES = ("COPNET_GATEWAY_PORT", "COPNET_MEMBERSHIP_PORT", "COPNET_SCHEDULING_PORT",
                  "COPNET_RESOURCES_PORT", "COPNET_REFLECTION_PORT", "COPNET_EMBEDDED_MONGODB_PORT",
                  "COPNET_EMBEDDED_NATS_PORT", "COPNET_EMBEDDED_NATS_MONITOR_PORT")
UP_TIMEOUT_SECONDS = 120
STOP_TIMEOUT_SECONDS = 15
READY_LINE = "copnet is up:"


def cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "copnet.cli", *args]


class CopnetUp:
    """`copnet up` as a child process; its output read continuously (a full pipe would stall it)."""

    def __init__(self, env: dict[str, str], *args: str):
        self.popen = subprocess.Popen(cli("up", *args), env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                      text=True, bufsize=1)
        self.lines: list[str] = []
        self._queue: queue.Queue[str | None] = queue.Queue()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        self.tree: list[psutil.Process] = []

    def _read(self) -> None:
        for line in self.popen.stdout:
            self.lines.append(line.rstrip("\n"))
            self._queue.put(line.rstrip("\n"))
        self._queue.put(None)

    def output(self, last: int = 80) -> str:
        return "\n".join(self.lines[-last:])

    def wait_for_line(self, prefix: str, timeout: float) -> str:
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"no {prefix!r} line within {timeout}s; output:\n{self.output()}")
            try:
                line = self._queue.get(timeout=remaining)
            except queue.Empty:
                continue
            if line is None:
                raise AssertionError(f"copnet up exited ({self.popen.wait()}) before {prefix!r}:\n{self.output()}")
            if line.startswith(prefix):
                return line

    def descendants(self) -> list[psutil.Process]:
        self.tree = psutil.Process(self.popen.pid).children(recursive=True)
        return self.tree

    def stop(self) -> int:
        """SIGTERM, as Ctrl-C or a service manager would; returns the exit code."""
        self.popen.send_signal(signal.SIGTERM)
        return self.popen.wait(STOP_TIMEOUT_SECONDS + 15)

    def cleanup(self) -> None:
        """Whatever happened in the test, leave nothing running."""
        if self.popen.poll() is None:
            self.popen.send_signal(signal.SIGTERM)
            try:
                self.popen.wait(30)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait(5)
        for process in self.tree:
            try:
                process.kill()
            except psutil.NoSuchProcess:
                pass


def still_running(processes: list[psutil.Process]) -> list[psutil.Process]:
    """Those not gone within the stop timeout (a zombie has exited: only its parent has not reaped it)."""
    _, alive = psutil.wait_procs(processes, timeout=STOP_TIMEOUT_SECONDS)
    left = []
    for process in alive:
        try:
            if process.status() != psutil.STATUS_ZOMBIE:
                left.append(process)
        except psutil.NoSuchProcess:
            pass
    return left


def get_json(url: str) -> tuple[int, dict]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}")


def community_ids(gateway_url: str) -> set[str]:
    status, body = get_json(f"{gateway_url}/api/v1/communities?page_size=1000")
    assert status == 200, body
    return {item["id"] for item in body["items"]}


def organization_ids(gateway_url: str) -> set[str]:
    status, body = get_json(f"{gateway_url}/api/v1/orgs?page_size=1000")
    assert status == 200, body
    return {item["id"] for item in body["items"]}


@pytest.fixture
def up_env(tmp_path) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("COPNET_")}
    env["COPNET_DATA_DIR"] = str(tmp_path / "data")
    env.update({name: str(stack.free_port()) for name in PORT_VARIABLES})
    return env


def stop_and_check_nothing_is_left(up: CopnetUp, env: dict[str, str]) -> None:
    tree = up.descendants()  # before the signal: afterwards the tree comes apart
    names = " ".join(" ".join(p.cmdline()) for p in tree)
    assert "gunicorn" in names and "secantusd" in names and "nats-server" in names
    gunicorn = [p for p in tree if "gunicorn" in " ".join(p.cmdline())]
    assert len(gunicorn) >= 2, "the gateway's master and at least one worker"
    code = up.stop()
    assert code == 0, up.output()
    left = still_running(tree)
    assert left == [], f"left running: {[(p.pid, p.cmdline()) for p in left]}\n{up.output()}"
    busy = [name for name in PORT_VARIABLES if not stack.port_is_free("127.0.0.1", int(env[name]))]
    assert busy == []


def test_up_seed_stop_restart(up_env):
    gateway_url = f"http://127.0.0.1:{up_env['COPNET_GATEWAY_PORT']}"
    demo_communities = {c.id for c in seed.DEMO_COMMUNITIES}
    demo_organizations = {o.id for o in seed.DEMO_ORGANIZATIONS}

    first = CopnetUp(up_env, "--seed", "demo")
    try:
        line = first.wait_for_line(READY_LINE, UP_TIMEOUT_SECONDS)
        assert line == f"copnet is up: {gateway_url}  (API docs: {gateway_url}/api/v1/swagger)"
        assert any(l.startswith("copnet up: demo network loaded") for l in first.lines)

        status, ready = get_json(f"{gateway_url}/readyz")
        assert status == 200, ready
        assert all(ready["checks"][name] == "SERVING" for name in SERVICE_NAMES), ready
        assert demo_communities <= community_ids(gateway_url)
        assert demo_organizations <= organization_ids(gateway_url)

        status_run = subprocess.run(cli("status"), env=up_env, capture_output=True, text=True, timeout=60)
        assert status_run.returncode == 0, status_run.stdout + status_run.stderr
        for name in SERVICE_NAMES:
            assert name in status_run.stdout

        stop_and_check_nothing_is_left(first, up_env)
    finally:
        first.cleanup()

    assert (Path(up_env["COPNET_DATA_DIR"]) / "secret").exists()

    # Same data directory, no seeding: what is there was kept on disk.
    second = CopnetUp(up_env)
    try:
        second.wait_for_line(READY_LINE, UP_TIMEOUT_SECONDS)
        assert demo_communities <= community_ids(gateway_url)
        assert demo_organizations <= organization_ids(gateway_url)

        # Seeding again is harmless: everything is already there.
        again = subprocess.run(cli("seed", "demo", "--gateway", gateway_url), env=up_env, capture_output=True,
                               text=True, timeout=120)
        assert again.returncode == 0, again.stdout + again.stderr
        assert f"0 created, {len(seed.demo_items())} already there" in again.stdout

        stop_and_check_nothing_is_left(second, up_env)
    finally:
        second.cleanup()
