"""Real processes for integration tests: started from copnet.stack's specs, stopped by group."""

from __future__ import annotations

import os
import signal
import subprocess
from pathlib import Path

from copnet.stack import ProcessSpec, wait_until


class ManagedProcess:
    """One child in its own process group, its output in a log file."""

    def __init__(self, spec: ProcessSpec, log_dir: Path):
        self.spec = spec
        self.log_path = log_dir / f"{spec.name}.log"
        self.popen: subprocess.Popen | None = None

    def start(self, timeout: float = 60) -> "ManagedProcess":
        log = open(self.log_path, "ab")
        self.popen = subprocess.Popen(self.spec.argv, env=self.spec.env or None, stdout=log,
                                      stderr=subprocess.STDOUT, start_new_session=True)
        log.close()
        try:
            wait_until(lambda: self._alive_or_fail() and self.spec.probe(), timeout, self.spec.name)
        except Exception:
            self.stop()
            raise
        return self

    def _alive_or_fail(self) -> bool:
        if self.popen.poll() is not None:
            raise RuntimeError(f"{self.spec.name} exited with {self.popen.returncode}:\n{self.tail()}")
        return True

    def tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except FileNotFoundError:
            return ""

    def stop(self, timeout: float = 15) -> None:
        if self.popen is None or self.popen.poll() is not None:
            return
        self._signal_group(signal.SIGTERM)
        try:
            self.popen.wait(timeout)
        except subprocess.TimeoutExpired:
            self._signal_group(signal.SIGKILL)
            self.popen.wait(5)
        # Whatever the leader left in its group (e.g. gunicorn workers) goes too.
        self._signal_group(signal.SIGKILL)

    def _signal_group(self, signum: int) -> None:
        try:
            os.killpg(self.popen.pid, signum)
        except ProcessLookupError:
            pass
