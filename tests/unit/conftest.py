"""Unit-test fixtures: the gateway app in front of fake gRPC clients (pure mapping logic only)."""

import pytest

from tests.unit.gateway_fakes import FakeClients, make_app


@pytest.fixture
def clients():
    return FakeClients()


@pytest.fixture
def client(clients):
    return make_app(clients).test_client()
