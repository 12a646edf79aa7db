"""Fixtures for unit and integration tests: one real stack for the session (nats-server,
SecantusDB, the five services, gateway), and a clean environment for the `copnet` command."""

from __future__ import annotations

import os

import pytest

from copnet import stack as stack_module
from tests.support.stack import RunningStack, settings_for_tests


@pytest.fixture(scope="session")
def services(tmp_path_factory):
    """Real nats-server and SecantusDB on free ports, and the five service processes."""
    root = tmp_path_factory.mktemp("stack")
    running = RunningStack(settings_for_tests(root / "data"), root)
    try:
        running.start_infrastructure().start_services()
        yield running
    finally:
        running.stop()


@pytest.fixture(scope="session")
def stack(services):
    """`services` plus the gunicorn gateway in front of them."""
    services.start_gateway()
    yield services


@pytest.fixture
def cli_env(monkeypatch, tmp_path):
    """For the `copnet` command: no COPNET_* from the outside; a fresh data directory; every port free."""
    for name in list(os.environ):
        if name.startswith("COPNET_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("COPNET_DATA_DIR", str(tmp_path / "data"))
    for name in ("GATEWAY", "MEMBERSHIP", "SCHEDULING", "RESOURCES", "REFLECTION", "PLUGINS", "SHARE",
                 "EMBEDDED_MONGODB", "EMBEDDED_NATS", "EMBEDDED_NATS_MONITOR"):
        monkeypatch.setenv(f"COPNET_{name}_PORT", str(stack_module.free_port()))
    return tmp_path
