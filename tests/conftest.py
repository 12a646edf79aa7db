"""Session-wide fixtures: one real stack (nats-server, SecantusDB, the five services, gateway)."""

from __future__ import annotations

import pytest

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
