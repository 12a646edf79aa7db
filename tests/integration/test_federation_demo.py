"""`copnet federation-demo` for real: a hub and two regional instances come up under one command,
each region gets its own part of the demo network, the hub receives what both regions share, and
Ctrl-C leaves no process behind (the split itself: tests/unit/test_federation_demo.py)."""

from __future__ import annotations

import json
import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request

import psutil
import pytest

from copnet import seed, stack
from copnet.cli.federation_demo import HUB_LINE, READY_LINE
from copnet.kernel import auth, token_keys
from copnet.kernel.settings import load_settings

pytestmark = pytest.mark.integration

# Three stacks on a shared two-core machine, then each region's demo network with its synthetic
# assessment imports.
UP_TIMEOUT_SECONDS = 300
SEEDED_TIMEOUT_SECONDS = 600
ARRIVAL_TIMEOUT_SECONDS = 120
STOP_TIMEOUT_SECONDS = 30
URL = re.compile(r"http://[0-9.]+:\d+")


class Demo:
    """`copnet federation-demo` as a child process; its output read continuously (a full pipe would
    stall it)."""

    def __init__(self, env: dict[str, str]):
        self.popen = subprocess.Popen([sys.executable, "-m", "copnet.cli", "federation-demo", "--free-ports"],
                                      env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1)
        self.lines: list[str] = []
        self._queue: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()
        self.tree: list[psutil.Process] = []

    def _read(self) -> None:
        for line in self.popen.stdout:
            self.lines.append(line.rstrip("\n"))
            self._queue.put(line.rstrip("\n"))
        self._queue.put(None)

    def output(self, last: int = 60) -> str:
        """The demo's own lines, what failed or exited, and the last `last` lines."""
        notable = [line for line in self.lines[:-last]
                   if line.startswith(("copnet", "federation")) or re.search(r"Traceback|Error|stopped \(rc=[^0]", line)]
        return "\n".join([*notable[-40:], "...", *self.lines[-last:]])

    def wait_for_line(self, prefix: str, timeout: float) -> str:
        deadline = time.monotonic() + timeout
        while (remaining := deadline - time.monotonic()) > 0:
            try:
                line = self._queue.get(timeout=remaining)
            except queue.Empty:
                continue
            if line is None:
                raise AssertionError(f"the demo exited ({self.popen.wait()}) before {prefix!r}:\n{self.output()}")
            if line.startswith(prefix):
                return line
        raise AssertionError(f"no {prefix!r} line within {timeout}s; output:\n{self.output()}")

    def cleanup(self) -> None:
        """Whatever happened in the test, leave nothing running."""
        if self.popen.poll() is None:
            self.popen.send_signal(signal.SIGTERM)
            try:
                self.popen.wait(60)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait(5)
        for process in self.tree:
            try:
                process.kill()
            except psutil.NoSuchProcess:
                pass


def get_json(url: str, token: str | None = None) -> tuple[int, dict]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}")


def organization_ids(gateway_url: str) -> set[str]:
    status, body = get_json(f"{gateway_url}/api/v1/orgs?page_size=1000")
    assert status == 200, body
    return {item["id"] for item in body["items"]}


def records_applied(hub_url: str, token: str) -> dict[str, int]:
    status, body = get_json(f"{hub_url}/api/v1/statewide/regions", token)
    assert status == 200, body
    return {link["region"]: link["records_applied"] for link in body["items"]}


def catalog(hub_url: str) -> dict[str, set[str]]:
    """The hub's public catalog (no token): community ids by owning region."""
    status, body = get_json(f"{hub_url}/api/v1/statewide/catalog?page_size=100")
    assert status == 200, body
    found: dict[str, set[str]] = {}
    for entry in body["items"]:
        found.setdefault(entry["region"], set()).add(entry["id"])
    return found


def wait_until(predicate, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {timeout}s")
        time.sleep(1)


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


def subtree(root: str) -> set[str]:
    found = {root}
    for org in seed.DEMO_ORGANIZATIONS:
        if org.parent_id in found:
            found.add(org.id)
    return found


def test_the_federation_demo_runs_a_hub_fed_by_two_seeded_regions_and_stops_clean(tmp_path):
    env = {key: value for key, value in os.environ.items() if not key.startswith("COPNET_")}
    env["COPNET_DATA_DIR"] = str(tmp_path / "data")
    demo = Demo(env)
    try:
        hub_url = URL.search(demo.wait_for_line(HUB_LINE, UP_TIMEOUT_SECONDS)).group()
        status, ready = get_json(f"{hub_url}/readyz")
        assert status == 200 and ready["checks"]["statewide"] == "SERVING", ready

        demo.wait_for_line(READY_LINE, SEEDED_TIMEOUT_SECONDS)
        regions = {match[1]: match[2] for line in demo.lines
                   if (match := re.match(r"federation demo: region (\S+) (http://\S+)$", line))}
        assert set(regions) == set(seed.DEMO_REGION_ORGANIZATIONS), demo.output()
        for region, org_id in seed.DEMO_REGION_ORGANIZATIONS.items():
            others = set().union(*(subtree(o) for o in seed.DEMO_REGION_ORGANIZATIONS.values() if o != org_id))
            found = organization_ids(regions[region])
            assert subtree(org_id) | {seed.DEMO_STATE_ID} <= found
            assert not found & others, (region, found & others)

        # What each region shares crosses its leaf link and is applied at the hub.
        hub_settings = load_settings(data_dir=tmp_path / "data" / "federation-demo" / "hub", instance="hub",
                                     region="hub")
        token = auth.issue_token(token_keys.issuer(hub_settings), "tester", "platform_admin", "")
        wait_until(lambda: all(records_applied(hub_url, token).get(region, 0) > 0 for region in regions),
                   ARRIVAL_TIMEOUT_SECONDS, "records from both regions applied at the hub")
        # The public statewide catalog lists each region's open communities under the owning region.
        opened = {region: {item.community_id for item in seed.demo_region_items(region)
                           if isinstance(item, seed.Opening)} for region in regions}
        assert all(opened.values())
        wait_until(lambda: catalog(hub_url) == opened, ARRIVAL_TIMEOUT_SECONDS,
                   f"the hub's catalog listing {opened}")

        demo.tree = psutil.Process(demo.popen.pid).children(recursive=True)  # before the signal
        commands = [" ".join(process.cmdline()) for process in demo.tree]
        assert sum("nats-server" in command for command in commands) == 3
        assert sum("secantusd" in command for command in commands) == 3
        demo.popen.send_signal(signal.SIGINT)
        assert demo.popen.wait(STOP_TIMEOUT_SECONDS + 30) == 0, demo.output()
        left = still_running(demo.tree)
        assert left == [], f"left running: {[(p.pid, p.cmdline()) for p in left]}\n{demo.output()}"
        for url in (hub_url, *regions.values()):
            assert stack.port_is_free("127.0.0.1", int(url.rsplit(":", 1)[1])), url
    finally:
        demo.cleanup()
