"""/healthz and /readyz: readiness needs every service and every service's view of MongoDB and NATS."""

from __future__ import annotations

import pytest

from copnet.kernel.grpcserver import DEPENDENCY_MONGODB, DEPENDENCY_NATS
from tests.unit.gateway_fakes import make_app

ALL_SERVING = {"membership": "SERVING", "scheduling": "SERVING", "resources": "SERVING", "reflection": "SERVING",
               "plugins": "SERVING", "share": "SERVING", "mongodb": "SERVING", "nats": "SERVING"}


def test_healthz_calls_nothing(client, clients):
    response = client.get("/healthz")
    assert (response.status_code, response.get_json()) == (200, {"status": "ok"})
    assert clients.all_calls() == []


def test_healthz_does_not_create_the_grpc_clients():
    made = []
    app = make_app()
    backend = app.extensions["copnet.backend"]
    backend._make_clients = lambda: made.append(1)  # noqa: SLF001 (count creations)
    app.test_client().get("/healthz")
    assert made == [] and not backend.started


def test_ready_when_everything_is_serving(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ready", "checks": ALL_SERVING}


@pytest.mark.parametrize("service, health_name, state, check, shown", [
    ("scheduling", "", "NOT_SERVING", "scheduling", "NOT_SERVING"),
    ("reflection", "", "UNREACHABLE", "reflection", "UNREACHABLE"),
    ("resources", DEPENDENCY_MONGODB, "NOT_SERVING", "mongodb", "NOT_SERVING"),
    ("membership", DEPENDENCY_NATS, "NOT_SERVING", "nats", "NOT_SERVING"),
    ("membership", DEPENDENCY_NATS, "UNREACHABLE", "nats", "UNKNOWN"),
    ("reflection", DEPENDENCY_MONGODB, "SERVICE_UNKNOWN", "mongodb", "UNKNOWN"),
])
def test_not_ready_when_one_service_or_one_view_of_a_dependency_is_not_serving(
        client, clients, service, health_name, state, check, shown):
    clients[service].health_states[health_name] = state
    response = client.get("/readyz")
    assert response.status_code == 503
    body = response.get_json()
    assert body["status"] == "not_ready"
    assert body["checks"] == {**ALL_SERVING, check: shown}
