"""The `copnet` command without starting anything: tokens, and the refusals of `up`, `status`
and `serve` before any process starts (the stack runner and the gateway client, which do start
processes and servers, are tested in tests/integration/test_cli_runner.py and
test_cli_gateway_client.py)."""

from __future__ import annotations

import socket

import jwt
import pytest
from typer.testing import CliRunner

from copnet import stack
from copnet.cli import run as runner
from copnet.cli.root import app
from copnet.kernel import token_keys
from copnet.kernel.auth import Grant, Role
from copnet.kernel.settings import SERVICE_NAMES, load_settings


def invoke(*args: str):
    return CliRunner().invoke(app, list(args))


# -- token issue ---------------------------------------------------------------------------------

def data_dir_verifier(cli_env, region: str = "local"):
    """What a stack on the test's data directory verifies tokens with."""
    return token_keys.verifier(load_settings(token_public_keys_file=cli_env / "data" / "keys" / "public-keys.json",
                                             region=region))


def test_token_is_signed_with_the_data_directory_issuer_key(cli_env):
    result = invoke("token", "issue", "--person", "ana", "--role", "county_admin", "--org", "alameda-coe",
                    "--ttl", "120")
    assert result.exit_code == 0, result.output
    token = result.stdout.strip()
    assert (cli_env / "data" / "keys" / "issuer.pem").exists()
    stack.plan(load_settings())  # a stack on this data directory: keeps the issuer key, lists its public half
    identity = data_dir_verifier(cli_env).verify(token)
    assert identity.person_id == "ana"
    assert identity.grants == (Grant(Role.COUNTY_ADMIN, "alameda-coe"),)
    claims = jwt.decode(token, options={"verify_signature": False})
    assert claims["exp"] - claims["iat"] == 120
    assert claims["aud"] == "copnet:local" and claims["jti"]


def test_token_uses_the_configured_issuer_key_and_region(cli_env, monkeypatch, tmp_path):
    keys = token_keys.make_key_set(tmp_path / "production-keys", SERVICE_NAMES)
    monkeypatch.setenv("COPNET_TOKEN_ISSUER_KEY_FILE", str(keys.issuer))
    monkeypatch.setenv("COPNET_REGION", "north")
    result = invoke("token", "issue", "--person", "lee", "--role", "platform_admin")
    assert result.exit_code == 0, result.output
    verifier = token_keys.verifier(load_settings(token_public_keys_file=keys.public, region="north"))
    assert verifier.verify(result.stdout.strip()).grants == (Grant(Role.PLATFORM_ADMIN, ""),)
    assert not (cli_env / "data" / "keys" / "issuer.pem").exists()


def test_a_second_token_uses_the_same_key(cli_env):
    first = invoke("token", "issue", "--person", "a", "--role", "platform_admin").stdout.strip()
    second = invoke("token", "issue", "--person", "b", "--role", "member", "--org", "x1").stdout.strip()
    stack.plan(load_settings())
    assert data_dir_verifier(cli_env).verify(first).person_id == "a"
    assert data_dir_verifier(cli_env).verify(second).person_id == "b"


def test_a_lifetime_over_the_instances_cap_is_refused(cli_env, monkeypatch):
    result = invoke("token", "issue", "--person", "a", "--role", "platform_admin", "--ttl", str(12 * 3600 + 1))
    assert result.exit_code == 2
    assert "at most 43200 seconds (COPNET_TOKEN_MAX_SECONDS)" in result.stderr
    assert result.stdout == ""
    monkeypatch.setenv("COPNET_TOKEN_MAX_SECONDS", "600")
    assert invoke("token", "issue", "--person", "a", "--role", "platform_admin", "--ttl", "601").exit_code == 2
    assert invoke("token", "issue", "--person", "a", "--role", "platform_admin", "--ttl", "600").exit_code == 0


def test_a_person_id_cannot_be_a_services(cli_env):
    result = invoke("token", "issue", "--person", "service:plugins", "--role", "platform_admin")
    assert result.exit_code == 2
    assert "service:" in result.stderr


def test_token_keys_makes_a_key_set_for_a_deployment(cli_env, tmp_path):
    result = invoke("token", "keys", str(tmp_path / "keys"))
    assert result.exit_code == 0, result.output
    kids = token_keys.read_public_keys(tmp_path / "keys" / "public-keys.json")
    assert sorted(kid.split("/")[0] for kid in kids) == sorted(["people", *(f"service:{n}" for n in SERVICE_NAMES)])
    assert all((tmp_path / "keys" / f"service-{name}.pem").exists() for name in SERVICE_NAMES)


def test_an_unknown_role_is_refused(cli_env):
    result = invoke("token", "issue", "--person", "ana", "--role", "boss", "--org", "ca")
    assert result.exit_code == 2
    assert "unknown role 'boss'" in result.stderr
    assert "platform_admin" in result.stderr
    assert result.stdout == ""


@pytest.mark.parametrize("role", ["member", "facilitator", "county_admin", "regional_lead", "state_coordinator"])
def test_a_role_held_at_an_organization_needs_org(cli_env, role):
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
def test_up_refuses_a_busy_port_naming_it(cli_env, monkeypatch, no_stack, variable, process):
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as occupier:
        occupier.bind(("127.0.0.1", 0))
        occupier.listen()
        port = occupier.getsockname()[1]
        monkeypatch.setenv(variable, str(port))
        result = invoke("up")
    assert result.exit_code == 2, result.output
    assert f"port {port} on 127.0.0.1 is already in use, needed by {process}" in result.stderr
    assert variable in result.stderr


def test_up_reports_a_configuration_error(cli_env, monkeypatch, no_stack):
    monkeypatch.setenv("COPNET_GATEWAY_PORT", "http")
    result = invoke("up")
    assert result.exit_code == 2
    assert "configuration error" in result.stderr
    assert "COPNET_GATEWAY_PORT" in result.stderr


def test_status_fails_when_nothing_answers(cli_env):
    result = invoke("status")
    assert result.exit_code == 1
    for name in ("membership", "scheduling", "resources", "reflection", "plugins", "gateway"):
        assert name in result.stdout
    assert "UNREACHABLE" in result.stdout
    assert "SERVING " not in result.stdout.replace("NOT_SERVING", "")


def test_serve_refuses_an_unknown_process(cli_env):
    result = invoke("serve", "billing")
    assert result.exit_code == 2
    assert "unknown process 'billing'" in result.stderr


