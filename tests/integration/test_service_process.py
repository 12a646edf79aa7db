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


def test_bad_environment_variable_stops_start_up_naming_it(services):
    env = {**services.env, "COPNET_REGION": "Not A Region", "COPNET_MEMBERSHIP_PORT": str(free_port())}
    result = run_service(env)
    assert result.returncode == 2
    assert "COPNET_REGION" in result.stderr


def test_missing_secret_stops_start_up_naming_it(services):
    env = {k: v for k, v in services.env.items() if k != "COPNET_SECRET"}
    result = run_service(env)
    assert result.returncode == 2
    assert "COPNET_SECRET" in result.stderr


def test_busy_port_is_a_clear_error(services):
    env = {**services.env, "COPNET_MEMBERSHIP_PORT": str(services.settings.membership_port)}
    result = run_service(env)
    assert result.returncode == 2
    assert f"{services.settings.membership_port}" in result.stderr and "in use" in result.stderr


def test_sigterm_stops_a_service_gracefully_and_it_comes_back(services):
    process = services.processes["resources"]
    process.stop()
    assert process.popen.returncode == 0
    process.start()
    services.wait_until_healthy()
