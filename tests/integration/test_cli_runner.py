"""`copnet up`'s stack runner with small real processes: a crash stops everything, a stack that
never gets ready stops with exit 1, a requested stop exits 0, the infrastructure stops last, and
nothing of a process group outlives it."""

from __future__ import annotations

import os
import shlex
import signal
import sys
import textwrap
import time
from pathlib import Path

import psutil
import pytest

from copnet import stack
from copnet.cli import run as runner

pytestmark = pytest.mark.integration


def python(code: str) -> list[str]:
    return [sys.executable, "-c", textwrap.dedent(code)]


def spec(name: str, code: str) -> stack.ProcessSpec:
    return stack.ProcessSpec(name, python(code), env=dict(os.environ))


def sleeper(pid_file: Path) -> str:
    return f"""
        import os, pathlib, time
        pathlib.Path({str(pid_file)!r}).write_text(str(os.getpid()))
        time.sleep(120)
    """


def ready_server(port: int) -> str:
    return f"""
        from http.server import BaseHTTPRequestHandler, HTTPServer
        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                self.send_response(200 if self.path == "/readyz" else 404)
                self.end_headers()
            def log_message(self, *args):
                pass
        HTTPServer(("127.0.0.1", {port}), Handler).serve_forever()
    """


def gone(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def never_ready_url() -> str:
    return f"http://127.0.0.1:{stack.free_port()}"


def test_a_child_exiting_stops_the_stack_with_its_code(tmp_path, capsys):
    pid_file = tmp_path / "sleeper.pid"
    specs = [spec("sleeper", sleeper(pid_file)),
             spec("crasher", f"""
                import pathlib, sys, time
                while not pathlib.Path({str(pid_file)!r}).exists():
                    time.sleep(0.05)
                sys.exit(3)
             """)]
    code = runner.run_stack(specs, set(), never_ready_url(), lambda announce: None)
    assert code == 3
    assert gone(int(pid_file.read_text()))
    assert "crasher stopped (rc=3)" in capsys.readouterr().out


def test_a_stack_that_never_gets_ready_stops_with_exit_1(tmp_path, capsys):
    pid_file = tmp_path / "sleeper.pid"
    called = []
    code = runner.run_stack([spec("sleeper", sleeper(pid_file))], set(), never_ready_url(),
                            lambda announce: called.append(True), ready_timeout=1)
    assert code == 1
    assert called == []
    assert gone(int(pid_file.read_text()))
    out = capsys.readouterr().out
    assert "did not become ready within 1s" in out
    assert "not answering" in out


def test_after_ready_runs_and_a_requested_stop_exits_0(tmp_path, capsys):
    port = stack.free_port()
    pid_file = tmp_path / "sleeper.pid"

    def after_ready(announce):
        announce("the stack is ready")
        os.kill(os.getpid(), signal.SIGTERM)  # what Ctrl-C / `kill` does to `copnet up`
        return None

    handler_before = signal.getsignal(signal.SIGTERM)
    code = runner.run_stack([spec("gateway", ready_server(port)), spec("sleeper", sleeper(pid_file))], set(),
                            f"http://127.0.0.1:{port}", after_ready)
    assert code == 0
    assert gone(int(pid_file.read_text()))
    assert stack.port_is_free("127.0.0.1", port)
    out = capsys.readouterr().out
    assert "the stack is ready" in out.splitlines()
    assert signal.getsignal(signal.SIGTERM) is handler_before


def test_an_error_after_ready_stops_the_stack_with_exit_1(tmp_path, capsys):
    port = stack.free_port()
    code = runner.run_stack([spec("gateway", ready_server(port))], set(), f"http://127.0.0.1:{port}",
                            lambda announce: "loading failed")
    assert code == 1
    assert stack.port_is_free("127.0.0.1", port)
    assert "copnet up: loading failed" in capsys.readouterr().out


def test_several_gateways_are_all_waited_for(tmp_path, capsys):
    """The federation demo's hub and regions: after_ready runs only once every gateway is ready."""
    ready, never = stack.free_port(), never_ready_url()
    called = []
    code = runner.run_stack([spec("gateway", ready_server(ready))], set(), [f"http://127.0.0.1:{ready}", never],
                            lambda announce: called.append(True), ready_timeout=2, command="copnet federation-demo")
    assert code == 1
    assert called == []
    assert f"copnet federation-demo: the stack did not become ready within 2s; GET {never}/readyz" in \
        capsys.readouterr().out


def test_an_error_caused_by_a_requested_stop_is_not_a_failure(tmp_path, capsys):
    """Ctrl-C while after_ready is still working (a demo being loaded): its error is the stop's."""
    port = stack.free_port()

    def after_ready(announce):
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(1)  # the stop under way, as a loader would find its gateway gone
        return "loading failed: the gateway went away"

    code = runner.run_stack([spec("gateway", ready_server(port))], set(), f"http://127.0.0.1:{port}", after_ready)
    assert code == 0
    assert "loading failed" not in capsys.readouterr().out


def test_infrastructure_stops_after_the_other_processes(tmp_path):
    """The database and broker get SIGTERM only once the services have exited."""
    log = tmp_path / "order.log"

    def recorder(name: str) -> str:
        return f"""
            import signal, sys, time
            def stop(*_):
                # The service takes a moment to stop: signalled together, the database would log first.
                time.sleep(0.5 if "{name}" == "service" else 0)
                with open({str(log)!r}, "a") as f:
                    f.write("{name}\\n")
                sys.exit(0)
            signal.signal(signal.SIGTERM, stop)
            open({str(tmp_path / name)!r}, "w").close()
            while True:
                time.sleep(1)
        """

    def stop_when_started(announce):
        while not all((tmp_path / n).exists() for n in ("database", "service")):
            time.sleep(0.05)
        os.kill(os.getpid(), signal.SIGTERM)

    port = stack.free_port()
    specs = [spec("database", recorder("database")), spec("service", recorder("service")),
             spec("gateway", ready_server(port))]
    assert runner.run_stack(specs, {"database"}, f"http://127.0.0.1:{port}", stop_when_started) == 0
    assert log.read_text().splitlines() == ["service", "database"]


def test_a_grandchild_left_in_the_group_is_killed(tmp_path):
    """honcho waits only for the process it started; what that process left in its group goes too."""
    grandchild_pid = tmp_path / "grandchild.pid"
    parent = f"""
        import subprocess, sys, time, pathlib
        # Its own output elsewhere: holding honcho's pipe open would keep honcho waiting for it.
        subprocess.Popen([sys.executable, "-c",
            "import os, signal, time, pathlib; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
            "pathlib.Path({str(grandchild_pid)!r}).write_text(str(os.getpid())); time.sleep(120)"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        while not pathlib.Path({str(grandchild_pid)!r}).exists():
            time.sleep(0.05)
        sys.exit(5)
    """
    code = runner.run_stack([spec("parent", parent)], set(), never_ready_url(), lambda announce: None)
    assert code == 5
    pid = int(grandchild_pid.read_text())
    psutil.wait_procs([p for p in [_process(pid)] if p], timeout=5)
    assert gone(pid)


def _process(pid: int) -> psutil.Process | None:
    try:
        return psutil.Process(pid)
    except psutil.NoSuchProcess:
        return None


@pytest.mark.timeout(60)  # without the grace timer this would wait forever
def test_a_child_ignoring_sigterm_is_killed_after_the_grace(tmp_path):
    """Even when no child exits on SIGTERM at all (honcho's own SIGKILL clock never starts)."""
    port = stack.free_port()
    pid_file = tmp_path / "stubborn.pid"
    stubborn = textwrap.dedent(f"""
        import os, pathlib, signal
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        pathlib.Path({str(pid_file)!r}).write_text(str(os.getpid()))
    """) + textwrap.dedent(ready_server(port))

    def stop(announce):
        os.kill(os.getpid(), signal.SIGTERM)

    code = runner.run_stack([spec("gateway", stubborn)], set(), f"http://127.0.0.1:{port}", stop, stop_grace=1)
    assert code == 0
    assert gone(int(pid_file.read_text()))


def test_a_stop_during_start_up_reaches_every_process(tmp_path, capsys):
    """SIGTERM before honcho has even reported the children's pids: each still gets SIGTERM (not,
    much later, SIGKILL)."""
    pid_files = [tmp_path / f"sleeper{i}.pid" for i in range(3)]
    manager = runner.StackManager(runner.LockedPrinter(sys.stdout), infrastructure={"sleeper0"}, stop_grace=30,
                                  on_started=lambda: os.kill(os.getpid(), signal.SIGTERM))
    for i, pid_file in enumerate(pid_files):
        manager.add_process(f"sleeper{i}", "exec " + shlex.join(python(sleeper(pid_file))),
                            env=dict(os.environ))
    previous = signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGINT)
    try:
        manager.loop()
    finally:
        signal.signal(signal.SIGTERM, previous[0])
        signal.signal(signal.SIGINT, previous[1])
    assert manager.signalled == signal.SIGTERM
    out = capsys.readouterr().out
    assert "SIGKILL" not in out
    for i in range(3):
        assert f"sleeper{i} stopped (rc=-15)" in out or f"sleeper{i} stopped (rc=0)" in out
