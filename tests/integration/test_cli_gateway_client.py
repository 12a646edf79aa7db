"""The `copnet` commands against a stand-in gateway (a local HTTP server): pages that are not JSON,
and every command group reporting the gateway's problem the same way."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from typer.testing import CliRunner

from copnet.api_client import ApiClient, ApiError
from copnet.cli.root import app

pytestmark = pytest.mark.integration


def invoke(*args: str):
    return CliRunner().invoke(app, list(args))


@pytest.fixture
def html_gateway():
    """A stand-in gateway: the certificate as HTML for a bearer token, a 401 problem without one,
    a 404 problem for anything "nowhere"; each request's headers are kept."""
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


def test_hours_saves_the_certificate_asked_for_as_html(cli_env, html_gateway, tmp_path):
    url, seen = html_gateway
    certificate = tmp_path / "certificate.html"
    result = invoke("hours", "ana", "p1", "--certificate", str(certificate), "--gateway", url, "--token", "t0k")
    assert result.exit_code == 0, result.output
    assert certificate.read_text(encoding="utf-8") == "<h1>Certificate of Professional Learning</h1>"
    assert seen[-1]["Accept"].startswith("text/html")
    assert seen[-1]["Authorization"] == "Bearer t0k"


def test_a_page_fetched_without_a_token_sends_no_authorization_and_raises_the_problem(html_gateway):
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
def test_every_command_group_reports_the_gateways_problem_the_same_way(cli_env, html_gateway, command, prefix):
    url, _ = html_gateway
    result = invoke(*command, "--gateway", url, "--token", "t0k")
    assert result.exit_code == 1
    assert f"{prefix}: 404 COMMUNITY_NOT_FOUND: no community 'nowhere'" in result.stderr
