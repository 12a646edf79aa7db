"""A service process's life: configuration errors, busy ports, graceful SIGTERM."""

from __future__ import annotations

import subprocess
import sys

import pytest

from copnet.stack import free_port

pytestmark = pytest.mark.integration


def run_service(env: dict[str, str], service: str = "membership") -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", f"copnet.{service}"], env=env, capture_output=True, text=True,
                          timeout=60)


def membership_env(services) -> dict[str, str]:
    """What the stack gives membership: the common environment plus its own token key."""
    return next(spec.env for spec in services.plan.services if spec.name == "membership")


def test_bad_environment_variable_stops_start_up_naming_it(services):
    env = {**membership_env(services), "COPNET_REGION": "Not A Region", "COPNET_MEMBERSHIP_PORT": str(free_port())}
    result = run_service(env)
    assert result.returncode == 2
    assert "COPNET_REGION" in result.stderr


@pytest.mark.parametrize("variable", ["COPNET_TOKEN_PUBLIC_KEYS_FILE", "COPNET_SERVICE_KEY_FILE"])
def test_missing_token_keys_stop_start_up_naming_them(services, variable):
    env = {k: v for k, v in membership_env(services).items() if k != variable}
    env["COPNET_MEMBERSHIP_PORT"] = str(free_port())
    result = run_service(env)
    assert result.returncode == 2
    assert variable in result.stderr


def test_a_service_gets_no_instance_secret_and_no_issuer_key(services):
    for spec in services.plan.services:
        assert "COPNET_SECRET" not in spec.env and "COPNET_TOKEN_ISSUER_KEY_FILE" not in spec.env


def test_busy_port_is_a_clear_error(services):
    env = {**membership_env(services), "COPNET_MEMBERSHIP_PORT": str(services.settings.membership_port)}
    result = run_service(env)
    assert result.returncode == 2
    assert f"{services.settings.membership_port}" in result.stderr and "in use" in result.stderr


def test_sigterm_stops_a_service_gracefully_and_it_comes_back(services):
    process = services.processes["resources"]
    process.stop()
    assert process.popen.returncode == 0
    process.start()
    services.wait_until_healthy()
