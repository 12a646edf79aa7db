"""The `copnet` command: tokens, refusals before anything starts, and the stack runner's rules
(a crash stops everything, a stack that never gets ready stops with exit 1, a requested stop
exits 0, nothing of a process group outlives it)."""

from __future__ import annotations

import os
import shlex
import signal
import socket
import sys
import textwrap
import time
from pathlib import Path

import jwt
import psutil
import pytest
from typer.testing import CliRunner

from copnet import stack
from copnet.cli.root import app
from copnet.cli import run as runner
from copnet.kernel.auth import Grant, Role, verify_token
from copnet.kernel.settings import load_settings

SECRET = "unit-tests-secret-0123456789abcdef0123"


@pytest.fixture
def env(monkeypatch, tmp_path):
    """No COPNET_* from the outside; a fresh data directory; every port free."""
    for name in list(os.environ):
        if name.startswith("COPNET_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("COPNET_DATA_DIR", str(tmp_path / "data"))
    for name in ("GATEWAY", "MEMBERSHIP", "SCHEDULING", "RESOURCES", "REFLECTION", "EMBEDDED_MONGODB",
                 "EMBEDDED_NATS", "EMBEDDED_NATS_MONITOR"):
        monkeypatch.setenv(f"COPNET_{name}_PORT", str(stack.free_port()))
    return tmp_path


def invoke(*args: str):
    return CliRunner().invoke(app, list(args))


# -- token issue ---------------------------------------------------------------------------------

def test_token_is_signed_with_the_data_directory_secret(env):
    result = invoke("token", "issue", "--person", "ana", "--role", "county_admin", "--org", "alameda-coe",
                    "--ttl", "120")
    assert result.exit_code == 0, result.output
    token = result.stdout.strip()
    secret = (env / "data" / "secret").read_text().strip()
    assert secret == stack.instance_secret(load_settings())
    identity = verify_token(secret, token)
    assert identity.person_id == "ana"
    assert identity.grants == (Grant(Role.COUNTY_ADMIN, "alameda-coe"),)
    claims = jwt.decode(token, options={"verify_signature": False})
    assert claims["exp"] - claims["iat"] == 120


def test_token_uses_copnet_secret_when_set(env, monkeypatch):
    monkeypatch.setenv("COPNET_SECRET", SECRET)
    result = invoke("token", "issue", "--person", "lee", "--role", "platform_admin")
    assert result.exit_code == 0, result.output
    assert verify_token(SECRET, result.stdout.strip()).grants == (Grant(Role.PLATFORM_ADMIN, ""),)
    assert not (env / "data" / "secret").exists()


def test_a_second_token_uses_the_same_secret(env):
    first = invoke("token", "issue", "--person", "a", "--role", "platform_admin").stdout.strip()
    second = invoke("token", "issue", "--person", "b", "--role", "member", "--org", "x1").stdout.strip()
    secret = (env / "data" / "secret").read_text().strip()
    assert verify_token(secret, first).person_id == "a"
    assert verify_token(secret, second).person_id == "b"


def test_an_unknown_role_is_refused(env):
    result = invoke("token", "issue", "--person", "ana", "--role", "boss", "--org", "ca")
    assert result.exit_code == 2
    assert "unknown role 'boss'" in result.stderr
    assert "platform_admin" in result.stderr
    assert result.stdout == ""


@pytest.mark.parametrize("role", ["member", "facilitator", "county_admin", "regional_lead", "state_coordinator"])
def test_a_role_held_at_an_organization_needs_org(env, role):
    result = invoke("token", "issue", "--person", "ana", "--role", role)
    assert result.exit_code == 2
    assert "--org" in result.stderr
    assert result.stdout == ""


# -- up: refusals before anything starts -----------------------------------------------------------

@pytest.fixture
def no_stack(monkeypatch):
    """Fails the test (instead of starting processes) if `copnet up` gets as far as running the stack."""
    def refuse(*args, **kwargs):
        raise AssertionError("copnet up started the stack")
    monkeypatch.setattr(runner, "run_stack", refuse)


@pytest.mark.parametrize(("variable", "process"), [
    ("COPNET_GATEWAY_PORT", "gateway"),
    ("COPNET_MEMBERSHIP_PORT", "membership"),
    ("COPNET_EMBEDDED_MONGODB_PORT", "mongodb"),
    ("COPNET_EMBEDDED_NATS_MONITOR_PORT", "nats"),
])
def test_up_refuses_a_busy_port_naming_it(env, monkeypatch, no_stack, variable, process):
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as occupier:
        occupier.bind(("127.0.0.1", 0))
        occupier.listen()
        port = occupier.getsockname()[1]
        monkeypatch.setenv(variable, str(port))
        result = invoke("up")
    assert result.exit_code == 2, result.output
    assert f"port {port} on 127.0.0.1 is already in use, needed by {process}" in result.stderr
    assert variable in result.stderr


def test_up_reports_a_configuration_error(env, monkeypatch, no_stack):
    monkeypatch.setenv("COPNET_GATEWAY_PORT", "http")
    result = invoke("up")
    assert result.exit_code == 2
    assert "configuration error" in result.stderr
    assert "COPNET_GATEWAY_PORT" in result.stderr


def test_status_fails_when_nothing_answers(env):
    result = invoke("status")
    assert result.exit_code == 1
    for name in ("membership", "scheduling", "resources", "reflection", "plugins", "gateway"):
        assert name in result.stdout
    assert "UNREACHABLE" in result.stdout
    assert "SERVING " not in result.stdout.replace("NOT_SERVING", "")


def test_serve_refuses_an_unknown_process(env):
    result = invoke("serve", "billing")
    assert result.exit_code == 2
    assert "unknown process 'billing'" in result.stderr


# -- the stack runner, with small real processes -----------------------------------------------------

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


# -- REST client: pages that are not JSON ----------------------------------------------------------

@pytest.fixture
def html_gateway():
    """A stand-in gateway: the certificate as HTML for a bearer token, a 401 problem without one,
    a 404 problem for anything "nowhere"; each request's headers are kept."""
    import json
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    seen: list[dict[str, str]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            seen.append(dict(self.headers))
            if self.headers.get("Authorization"):
                status, media_type = 200, "text/html; charset=utf-8"
                body = "<h1>Certificate of Professional Learning</h1>".encode()
            else:
                status, media_type = 401, "application/problem+json"
                body = json.dumps({"title": "Unauthorized", "detail": "a token is required",
                                   "reason": "TOKEN_REQUIRED"}).encode()
            if "nowhere" in self.path:
                status, media_type = 404, "application/problem+json"
                body = json.dumps({"title": "Not Found", "detail": "no community 'nowhere'",
                                   "reason": "COMMUNITY_NOT_FOUND"}).encode()
            if self.path.endswith("/hours"):
                status, media_type = 200, "application/json"
                body = json.dumps({"person_name": "Ana", "program_name": "P", "program_year": "2026-27",
                                   "issuer_name": "Bay", "lines": [], "total_hours": 0.0,
                                   "total_minutes": 0}).encode()
            self.send_response(status)
            self.send_header("Content-Type", media_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_port}", seen
    finally:
        server.shutdown()
        server.server_close()


def test_hours_saves_the_certificate_asked_for_as_html(env, html_gateway, tmp_path):
    url, seen = html_gateway
    certificate = tmp_path / "certificate.html"
    result = invoke("hours", "ana", "p1", "--certificate", str(certificate), "--gateway", url, "--token", "t0k")
    assert result.exit_code == 0, result.output
    assert certificate.read_text(encoding="utf-8") == "<h1>Certificate of Professional Learning</h1>"
    assert seen[-1]["Accept"].startswith("text/html")
    assert seen[-1]["Authorization"] == "Bearer t0k"


def test_a_page_fetched_without_a_token_sends_no_authorization_and_raises_the_problem(html_gateway):
    from copnet.api_client import ApiClient, ApiError

    url, seen = html_gateway
    with pytest.raises(ApiError) as raised:
        ApiClient(url).text("/people/ana/programs/p1/certificate", "text/html")
    assert (raised.value.status, raised.value.reason) == (401, "TOKEN_REQUIRED")
    assert "Authorization" not in seen[-1]


@pytest.mark.parametrize(("command", "prefix"), [
    (("communities", "roster", "nowhere"), "copnet communities"),
    (("sessions", "list", "nowhere"), "copnet sessions list"),
    (("plugins", "history", "nowhere", "equity-sessions"), "copnet plugins history"),
])
def test_every_command_group_reports_the_gateways_problem_the_same_way(env, html_gateway, command, prefix):
    url, _ = html_gateway
    result = invoke(*command, "--gateway", url, "--token", "t0k")
    assert result.exit_code == 1
    assert f"{prefix}: 404 COMMUNITY_NOT_FOUND: no community 'nowhere'" in result.stderr
