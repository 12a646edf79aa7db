"""The hub's gateway (settings.instance "hub"): only the probes and /api/v1/statewide are mounted,
readiness asks the hub's services, who may call each statewide route, query parameters to the RPCs
(and 422 naming the field before any call), replies to JSON and the suppressed CSV export, and the
hub's OpenAPI document passing the same standing checks as a region's."""

from __future__ import annotations

import pytest
from google.protobuf import timestamp_pb2

from copnet.gateway.app import create_app
from copnet.kernel import auth, token_keys
from copnet.kernel.settings import HUB_SERVICE_NAMES
from copnet.statewide.v1 import ingest_pb2
from tests.support import tokens
from tests.unit import test_gateway_openapi as standing
from tests.unit.gateway_fakes import FakeClients, FakeServiceClient, assert_problem, make_app

HUB = "hub"
STATE = "ca"  # the organization a state coordinator's role is held at (the hub keeps no tree of its own)


class HubFakeClients(FakeClients):
    """The fakes of the hub's services (the statewide service) besides the regional ones."""

    def __init__(self):
        super().__init__()
        self.fakes.update({name: FakeServiceClient(name) for name in HUB_SERVICE_NAMES})


def make_hub_app(clients: FakeClients | None = None):
    app = create_app(hub_settings(),
                     clients=clients if clients is not None else HubFakeClients())
    app.testing = True
    return app


@pytest.fixture
def hub_clients():
    return HubFakeClients()


@pytest.fixture
def hub(hub_clients):
    return make_hub_app(hub_clients).test_client()


def hub_settings():
    return tokens.settings(instance="hub", region=HUB)


def hub_bearer(role: str = "state_coordinator", org: str = STATE) -> dict[str, str]:
    """A person's token of the hub (signed with the test key set for the hub's audience)."""
    token = auth.issue_token(token_keys.issuer(hub_settings()), "tester", role, "" if role == "platform_admin" else org)
    return {"Authorization": f"Bearer {token}"}


def stamp(seconds: int) -> timestamp_pb2.Timestamp:
    return timestamp_pb2.Timestamp(seconds=seconds)


# -- what each instance mounts -------------------------------------------------------------------

def test_the_hub_mounts_only_the_probes_and_the_statewide_routes():
    app = make_hub_app()
    rules = {rule.rule for rule in standing.api_rules(app)}
    assert {"/healthz", "/readyz", "/api/v1/statewide/regions"} <= rules
    assert all(rule in ("/healthz", "/readyz") or rule.startswith("/api/v1/statewide/") for rule in rules), rules
    assert not any(rule.startswith("/plugins/") for rule in (r.rule for r in app.url_map.iter_rules()))


def test_a_regional_gateway_does_not_mount_the_statewide_routes():
    app = make_app()
    assert not [rule.rule for rule in app.url_map.iter_rules() if rule.rule.startswith("/api/v1/statewide")]
    assert app.test_client().get("/api/v1/statewide/regions").status_code == 404


def test_the_hubs_readiness_asks_the_hubs_services(hub, hub_clients):
    response = hub.get("/readyz")
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.get_json() == {"status": "ready", "checks": {"statewide": "SERVING", "mongodb": "SERVING",
                                                                 "nats": "SERVING"}}
    hub_clients["statewide"].health_states["copnet.dependency.nats"] = "NOT_SERVING"
    response = hub.get("/readyz")
    assert response.status_code == 503 and response.get_json()["checks"]["nats"] == "NOT_SERVING"


def test_a_regions_token_is_refused_at_the_hub(hub, hub_clients):
    regional = tokens.person_token("platform_admin", region="local")
    assert_problem(hub.get("/api/v1/statewide/regions", headers={"Authorization": f"Bearer {regional}"}), 401,
                   "TOKEN_INVALID")
    assert hub_clients.all_calls() == []


# -- the links -----------------------------------------------------------------------------------

def test_regions_lists_each_link_with_nulls_for_what_has_not_arrived(hub, hub_clients):
    hub_clients["statewide"].replies["ListRegions"] = ingest_pb2.ListRegionsResponse(regions=[
        ingest_pb2.RegionLink(region="north", public_url="https://north.example.org", records_applied=12,
                              last_applied_time=stamp(1_800_000_000), rejections=1),
        ingest_pb2.RegionLink(region="south")])
    response = hub.get("/api/v1/statewide/regions", headers=hub_bearer())
    assert response.status_code == 200, response.get_data(as_text=True)
    north, south = response.get_json()["items"]
    assert north == {"region": "north", "public_url": "https://north.example.org", "records_applied": 12,
                     "last_applied_at": "2027-01-15T08:00:00Z", "rejections": 1}
    assert south == {"region": "south", "public_url": None, "records_applied": 0, "last_applied_at": None,
                     "rejections": 0}
    assert hub_clients["statewide"].calls[0].token is not None  # the caller's token reaches the service


def test_rejections_pass_the_region_and_paging_and_are_for_platform_admins_only(hub, hub_clients):
    hub_clients["statewide"].replies["ListRejections"] = ingest_pb2.ListRejectionsResponse(rejections=[
        ingest_pb2.Rejection(id="r1", receive_time=stamp(1_800_000_000), region="north",
                             subject="copnet-share.north.measures", reason="REGION_MISMATCH",
                             detail="the record says south", stream_sequence=7, size_bytes=321)],
        next_page_token="next")
    response = hub.get("/api/v1/statewide/rejections?region=north&page_size=10&page_token=abc",
                       headers=hub_bearer("platform_admin"))
    assert response.status_code == 200, response.get_data(as_text=True)
    assert hub_clients["statewide"].calls[0].request == ingest_pb2.ListRejectionsRequest(
        region="north", page_size=10, page_token="abc")
    body = response.get_json()
    assert body["next_page_token"] == "next"
    assert body["items"][0]["reason"] == "REGION_MISMATCH" and body["items"][0]["stream_sequence"] == 7
    assert_problem(hub.get("/api/v1/statewide/rejections", headers=hub_bearer()), 403, "ROLE_REQUIRED")


@pytest.mark.parametrize("query, field", [
    ("region=North", "region"), ("region=" + "a" * 40, "region"), ("page_size=-1", "page_size"),
    ("page_size=501", "page_size"), ("page_size=ten", "page_size"), ("colour=red", "colour"),
])
def test_a_bad_rejections_parameter_is_a_422_naming_it_before_any_call(hub, hub_clients, query, field):
    body = assert_problem(hub.get(f"/api/v1/statewide/rejections?{query}", headers=hub_bearer("platform_admin")),
                          422, "VALIDATION_FAILED")
    assert [error["field"] for error in body["errors"]] == [field]
    assert hub_clients.all_calls() == []


# -- the hub's OpenAPI document ------------------------------------------------------------------

@pytest.fixture(scope="module")
def hub_app():
    return make_hub_app()


@pytest.fixture(scope="module")
def hub_document(hub_app):
    response = hub_app.test_client().get("/api/v1/openapi.json")
    assert response.status_code == 200
    return response.get_json()


def test_the_hubs_document_passes_the_standing_checks(hub_app, hub_document):
    standing.test_every_route_is_in_the_document_with_its_methods(hub_app, hub_document)
    standing.test_the_document_has_no_operation_without_a_route(hub_app, hub_document)
    standing.test_operations_have_unique_ids_success_schemas_and_problem_errors(hub_document)
    standing.test_input_routes_document_422_and_writes_the_mapped_grpc_errors(hub_document)
    standing.test_every_reference_resolves(hub_document)
    standing.test_problem_schema_documents_the_rfc_9457_members(hub_document)
    standing.test_the_docs_page_loads_its_assets_from_the_gateway(hub_app)
