"""`copnet up`: every process of the stack under honcho, a readiness watcher, and a clean stop.

honcho's Manager starts each command in its own process group (its own session), prefixes and
multiplexes their output, and when it gets SIGINT/SIGTERM or any child exits it sends SIGTERM to
every group, then SIGKILL to what is left after a grace period. We add three things around it:
a watcher thread that waits for the gateway's /readyz (and seeds, and says "copnet is up"), an
exit code that tells a requested stop from a crash, and a last SIGKILL sweep of the process
groups after honcho returns, for any grandchild that outlived its group leader.
"""

from __future__ import annotations

import os
import shlex
import signal
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from honcho.manager import Manager
from honcho.printer import Printer

from copnet.stack import ProcessSpec, http_get

READY_TIMEOUT_SECONDS = 90.0
READY_POLL_SECONDS = 0.5
# After the first SIGTERM, how long every process gets before SIGKILL. honcho's own deadline is
# 5 s; a service may need its gRPC grace (5 s) plus its event bus shutdown, so we allow more.
STOP_GRACE_SECONDS = 10.0
# How much of that grace the embedded database and NATS wait for the services to exit before
# their own SIGTERM, so they still get a clean stop.
INFRASTRUCTURE_STOP_SHARE = 0.7


class LockedPrinter(Printer):
    """honcho's printer, plus unprefixed lines of our own; one lock so lines never interleave.

    Re-entrant: honcho's signal handler prints from the main thread, possibly mid-write.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.lock = threading.RLock()

    def write(self, message) -> None:
        with self.lock:
            super().write(message)

    def announce(self, text: str) -> None:
        with self.lock:
            print(text, file=self.output, flush=True)


class StackManager(Manager):
    """honcho's Manager with hooks for what `copnet up` adds.

    `on_started` runs (in a new thread) only once every child has been forked, so no fork ever
    copies a thread of ours mid-request. `stopping` is set as soon as the stack starts to stop,
    and `signalled` says whether that was because we were asked to (SIGINT/SIGTERM).

    Stopping is ordered: the gateway and services get SIGTERM first and the `infrastructure`
    processes (the embedded database and NATS) only once those have exited, so a service can
    finish its work against a live database and broker. honcho's SIGKILL deadline still holds
    for everything, extended to STOP_GRACE_SECONDS. This overrides honcho 2.x internals
    (`_killall`, `_processes`), which is why pyproject pins honcho below 3.
    """

    def __init__(self, printer: LockedPrinter, on_started: Callable[[], None] | None = None,
                 infrastructure: set[str] | None = None, stop_grace: float = STOP_GRACE_SECONDS):
        super().__init__(printer=printer)
        self.printer = printer
        self.on_started = on_started
        self.infrastructure = set(infrastructure or ())
        self.stop_grace = stop_grace
        self.stopping = threading.Event()
        self.signalled: int | None = None
        self._kill_after: float | None = None

    def _start(self) -> None:
        # loop() has just installed honcho's handlers: wrap them to remember the signal.
        for signum in (signal.SIGINT, signal.SIGTERM):
            honcho_handler = signal.getsignal(signum)

            def handler(received, frame, honcho_handler=honcho_handler):
                if self.signalled is None:
                    self.signalled = received
                honcho_handler(received, frame)

            signal.signal(signum, handler)
        super()._start()
        if self.on_started is not None:
            threading.Thread(target=self.on_started, name="copnet-readiness", daemon=True).start()

    def terminate(self) -> None:
        if self._kill_after is None:
            self._kill_after = time.monotonic() + self.stop_grace
            # honcho starts its SIGKILL clock only when some child has exited; if none does
            # (every one ignores SIGTERM), this timer still ends them.
            timer = threading.Timer(self.stop_grace, self.kill)
            timer.daemon = True
            timer.start()
        self.stopping.set()
        super().terminate()

    def kill(self) -> None:
        # honcho's loop calls this every 0.1 s once its own 5 s deadline has passed: hold off
        # until our grace period is over.
        if self._kill_after is not None and time.monotonic() < self._kill_after:
            return
        super().kill()

    def _killall(self, force: bool = False) -> None:
        if force:
            super()._killall(force=True)
            return
        threading.Thread(target=self._stop_in_order, name="copnet-stop", daemon=True).start()

    def _stop_in_order(self) -> None:
        """SIGTERM to the gateway and services, then (once they have exited) to the infrastructure.

        A process whose start honcho has not reported yet (Ctrl-C during start-up) is signalled
        as soon as its pid is known.
        """
        signalled: set[str] = set()
        apps = lambda name: name not in self.infrastructure  # noqa: E731
        infra_after = time.monotonic() + self.stop_grace * INFRASTRUCTURE_STOP_SHARE
        while time.monotonic() < self._kill_after:
            self._signal_running(apps, signalled)
            if time.monotonic() >= infra_after or self._stopped(apps):
                self._signal_running(lambda name: not apps(name), signalled)
            if self._stopped(lambda name: name not in signalled):
                return
            time.sleep(0.05)

    def _stopped(self, which: Callable[[str], bool]) -> bool:
        return all("returncode" in entry for name, entry in self._processes.items() if which(name))

    def _signal_running(self, which: Callable[[str], bool], signalled: set[str]) -> None:
        for name, entry in list(self._processes.items()):
            if which(name) and name not in signalled and "returncode" not in entry and entry.get("pid"):
                signalled.add(name)
                self._system_print(f"sending SIGTERM to {name} (pid {entry['pid']})\n")
                self._procmgr.terminate(entry["pid"])

    def process_groups(self) -> list[int]:
        """The process group of every child (honcho starts each in a new session: pgid == pid)."""
        return [entry["pid"] for entry in self._processes.values() if entry.get("pid")]


@dataclass
class Outcome:
    failure: str | None = None


def run_stack(specs: list[ProcessSpec], infrastructure: set[str], gateway_url: str | Sequence[str],
              after_ready: Callable[[Callable[[str], None]], str | None],
              ready_timeout: float = READY_TIMEOUT_SECONDS, stop_grace: float = STOP_GRACE_SECONDS,
              command: str = "copnet up") -> int:
    """Run every spec until a signal or a child's exit; returns the exit code for `copnet up`.

    `after_ready(announce)` runs once the gateway is ready (every gateway, when given several: the
    federation demo runs a hub and regions under one manager), in the watcher thread; `announce`
    prints a line without honcho's prefix. It returns an error message to stop the stack (with
    exit code 1), or None; an error once the stack is already stopping (it failed because of the
    stop: say, a seed cut short by Ctrl-C) is not reported. `command` names the command in its
    own messages.
    """
    gateway_urls = [gateway_url] if isinstance(gateway_url, str) else list(gateway_url)
    printer = LockedPrinter(sys.stdout)
    outcome = Outcome()
    manager: StackManager

    def fail(message: str) -> None:
        outcome.failure = message
        printer.announce(f"{command}: {message}")
        manager.terminate()

    def watch() -> None:
        deadline = time.monotonic() + ready_timeout
        waiting = list(gateway_urls)
        while waiting and not manager.stopping.is_set():
            status, body = http_get(f"{waiting[0]}/readyz", timeout=2)
            if status == 200:
                waiting.pop(0)
                continue
            if time.monotonic() > deadline:
                answer = body.strip()[:2000] if status is None else f"{status} {body.strip()[:2000]}"
                fail(f"the stack did not become ready within {ready_timeout:g}s; "
                     f"GET {waiting[0]}/readyz: {answer}")
                return
            manager.stopping.wait(READY_POLL_SECONDS)
        if manager.stopping.is_set():
            return
        try:
            error = after_ready(printer.announce)
        except Exception as exc:  # noqa: BLE001  (reported, and the stack stops)
            error = f"{type(exc).__name__}: {exc}"
        if error is not None and not manager.stopping.is_set():
            fail(error)

    manager = StackManager(printer, on_started=watch, infrastructure=infrastructure, stop_grace=stop_grace)
    for spec in specs:
        # exec: the shell honcho runs the command in becomes the process itself, so signals
        # and exit codes are the process's own.
        manager.add_process(spec.name, "exec " + shlex.join(spec.argv), env=spec.env or None)
    previous = {signum: signal.getsignal(signum) for signum in (signal.SIGINT, signal.SIGTERM)}
    try:
        manager.loop()
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    sweep(manager.process_groups())

    if outcome.failure is not None:
        return 1
    if manager.signalled is not None:
        return 0
    # A child exited on its own: honcho reports which; make sure we do not exit 0.
    return manager.returncode or 1


def sweep(groups: list[int]) -> None:
    """SIGKILL whatever is left in the stack's process groups (normally nothing).

    honcho stops waiting once each group's leader has exited; a grandchild (say, a gunicorn
    worker whose master was killed) could outlive it. The process group id stays reserved
    while any member lives, so this cannot hit an unrelated process.
    """
    for pgid in groups:
        try:
            os.killpg(pgid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            continue
