"""/healthz (this process is up) and /readyz (everything a request needs answers).

The gateway never talks to MongoDB or NATS itself: each service reports them as gRPC health
service names, and a shared dependency is SERVING only when every service says so.
"""

from __future__ import annotations

from flask import current_app
from flask_openapi3 import APIBlueprint, Tag

from copnet.gateway.backend import backend
from copnet.gateway.openapi import operation_id, problem_responses
from copnet.gateway.schemas.health import Liveness, Readiness
from copnet.kernel.grpcserver import DEPENDENCY_MONGODB, DEPENDENCY_NATS
from copnet.kernel.settings import SERVICE_NAMES

SERVING = "SERVING"
DEPENDENCIES = {"mongodb": DEPENDENCY_MONGODB, "nats": DEPENDENCY_NATS}
HEALTH_TIMEOUT_SECONDS = 1.0
# The services this instance runs (settings.service_names: a region's, or the hub's), set by create_app.
SERVICE_NAMES_CONFIG = "COPNET_SERVICE_NAMES"

blueprint = APIBlueprint("health", __name__, operation_id_callback=operation_id,
                         abp_tags=[Tag(name="health", description="Probes for orchestrators.")])


@blueprint.get("/healthz", responses={200: Liveness, **problem_responses()})
def healthz():
    """Liveness: the process answers. Calls nothing."""
    return {"status": "ok"}


@blueprint.get("/readyz", responses={200: Readiness, 503: Readiness, **problem_responses()})
def readyz():
    """Readiness: every service SERVING, and every service reporting MongoDB and NATS SERVING."""
    checks = readiness_checks()
    ready = all(state == SERVING for state in checks.values())
    return Readiness(status="ready" if ready else "not_ready", checks=checks).model_dump(), 200 if ready else 503


def readiness_checks() -> dict[str, str]:
    services = backend()
    service_names = current_app.config.get(SERVICE_NAMES_CONFIG, SERVICE_NAMES)
    names = ("", *DEPENDENCIES.values())
    # Every (service, health name) pair at once, so readyz takes one health timeout at worst.
    futures = {(service, name): services.pool.submit(
        lambda s=service, n=name: services.clients[s].health_status(n, timeout=HEALTH_TIMEOUT_SECONDS))
        for service in service_names for name in names}
    states = {pair: future.result() for pair, future in futures.items()}
    checks = {service: states[(service, "")] for service in service_names}
    for dependency, health_name in DEPENDENCIES.items():
        checks[dependency] = shared_state([states[(service, health_name)] for service in service_names])
    return checks


def shared_state(reports: list[str]) -> str:
    """SERVING when every service says so; NOT_SERVING when any says that; else UNKNOWN (unanswered)."""
    if all(report == SERVING for report in reports):
        return SERVING
    return "NOT_SERVING" if "NOT_SERVING" in reports else "UNKNOWN"
