"""The hub's gateway (settings.instance "hub"): only the probes and /api/v1/statewide are mounted,
readiness asks the hub's services, who may call each statewide route, query parameters to the RPCs
(and 422 naming the field before any call), replies to JSON and the suppressed CSV export, and the
hub's OpenAPI document passing the same standing checks as a region's."""

from __future__ import annotations

import csv
import io

import pytest
from copnet.gateway.app import create_app
from copnet.kernel import auth, token_keys
from copnet.kernel.settings import HUB_SERVICE_NAMES
from copnet.reflection.v1 import measures_pb2
from copnet.share.v1 import share_pb2
from copnet.statewide.v1 import ingest_pb2, views_pb2
from google.protobuf import timestamp_pb2

from tests.support import tokens
from tests.unit import test_gateway_openapi as standing
from tests.unit.gateway_fakes import (
    FakeClients,
    FakeServiceClient,
    assert_problem,
    make_app,
)

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
                              last_applied_time=stamp(1_800_000_000), rejections=1, linked=True),
        ingest_pb2.RegionLink(region="south")])
    response = hub.get("/api/v1/statewide/regions", headers=hub_bearer())
    assert response.status_code == 200, response.get_data(as_text=True)
    north, south = response.get_json()["items"]
    assert north == {"region": "north", "public_url": "https://north.example.org", "records_applied": 12,
                     "last_applied_at": "2027-01-15T08:00:00Z", "rejections": 1, "linked": True}
    assert south == {"region": "south", "public_url": None, "records_applied": 0, "last_applied_at": None,
                     "rejections": 0, "linked": False}
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


# -- who may call what ----------------------------------------------------------------------------
MEASURES = "test=sbac-math&school_year=2025-26&window=spring"
# Every statewide route: (path with a valid query, the RPC, an empty reply, public).
ROUTES = [
    ("/api/v1/statewide/regions", "ListRegions", ingest_pb2.ListRegionsResponse(), False),
    ("/api/v1/statewide/rejections", "ListRejections", ingest_pb2.ListRejectionsResponse(), False),
    ("/api/v1/statewide/reach?program_year=2025-26", "ListReach", views_pb2.ListReachResponse(), False),
    ("/api/v1/statewide/participation?program_year=2025-26", "ListParticipation",
     views_pb2.ListParticipationResponse(), False),
    (f"/api/v1/statewide/measures?{MEASURES}", "ListMeasures", views_pb2.ListMeasuresResponse(), False),
    (f"/api/v1/statewide/measures?{MEASURES}&format=csv", "ListMeasures", views_pb2.ListMeasuresResponse(), False),
    (f"/api/v1/statewide/measure-gaps?{MEASURES}&focal_group=el", "ListMeasureGaps",
     views_pb2.ListMeasureGapsResponse(), False),
    ("/api/v1/statewide/trends/measures?region=north&organization_id=district-a&test=sbac-math", "GetMeasureTrend",
     views_pb2.GetMeasureTrendResponse(), False),
    ("/api/v1/statewide/trends/participation?region=north&organization_id=district-a", "GetParticipationTrend",
     views_pb2.GetParticipationTrendResponse(), False),
    ("/api/v1/statewide/inquiry-cycle-counts", "ListCycleCounts", views_pb2.ListCycleCountsResponse(), False),
    ("/api/v1/statewide/catalog", "ListCatalog", views_pb2.ListCatalogResponse(), True),
    ("/api/v1/statewide/programs", "ListPrograms", views_pb2.ListProgramsResponse(), True),
    ("/api/v1/statewide/organizations", "ListOrganizations", views_pb2.ListOrganizationsResponse(), True),
]
PLATFORM_ADMIN_ONLY = {"ListRejections"}
CALLERS = ["anonymous", "member", "regional_lead", "county_admin", "state_coordinator", "platform_admin"]


def expected_status(caller: str, method: str, public: bool) -> int:
    if public:
        return 200
    if caller == "anonymous":
        return 401
    allowed = {"platform_admin"} if method in PLATFORM_ADMIN_ONLY else {"platform_admin", "state_coordinator"}
    return 200 if caller in allowed else 403


@pytest.mark.parametrize("caller", CALLERS)
@pytest.mark.parametrize("path, method, reply, public", ROUTES, ids=[route[0] for route in ROUTES])
def test_who_may_call_each_statewide_route(hub, hub_clients, caller, path, method, reply, public):
    hub_clients["statewide"].replies[method] = reply
    headers = {} if caller == "anonymous" else hub_bearer(caller)
    response = hub.get(path, headers=headers)
    status = expected_status(caller, method, public)
    assert response.status_code == status, response.get_data(as_text=True)
    if status == 200:
        assert [call.method for call in hub_clients["statewide"].calls] == [method]
        assert (hub_clients["statewide"].calls[0].token is None) == (caller == "anonymous")
    else:
        assert_problem(response, status, "TOKEN_REQUIRED" if status == 401 else "ROLE_REQUIRED")
        assert hub_clients.all_calls() == []


def test_the_services_refusal_is_a_problem_too(hub, hub_clients):
    import grpc

    from tests.support.fake_grpc import FakeRpcError

    hub_clients["statewide"].replies["ListMeasures"] = FakeRpcError(grpc.StatusCode.PERMISSION_DENIED, "not yours")
    assert_problem(hub.get(f"/api/v1/statewide/measures?{MEASURES}", headers=hub_bearer()), 403)


# -- query parameters ----------------------------------------------------------------------------
BAD_QUERIES = [
    ("/api/v1/statewide/reach", "program_year"),  # required
    ("/api/v1/statewide/reach?program_year=2025-27", "program_year"),
    ("/api/v1/statewide/reach?program_year=2025-26&level=school", "level"),
    ("/api/v1/statewide/participation?program_year=2025-26&region=North", "region"),
    ("/api/v1/statewide/participation?program_year=2025-26&page_size=1001", "page_size"),
    ("/api/v1/statewide/measures?school_year=2025-26&window=spring", "test"),
    ("/api/v1/statewide/measures?test=sbac-math&school_year=2025&window=spring", "school_year"),
    ("/api/v1/statewide/measures?test=sbac-math&school_year=2025-26&window=summer", "window"),
    (f"/api/v1/statewide/measures?{MEASURES}&grades=13", "grades.0"),
    (f"/api/v1/statewide/measures?{MEASURES}&" + "&".join(f"student_groups=g{n}" for n in range(21)),
     "student_groups"),
    (f"/api/v1/statewide/measures?{MEASURES}&organization_id=Not%20An%20Id", "organization_id"),
    (f"/api/v1/statewide/measures?{MEASURES}&format=xlsx", "format"),
    (f"/api/v1/statewide/measure-gaps?{MEASURES}", "focal_group"),
    (f"/api/v1/statewide/measure-gaps?{MEASURES}&focal_group=el&grade=14", "grade"),
    ("/api/v1/statewide/trends/measures?organization_id=district-a&test=sbac-math", "region"),
    ("/api/v1/statewide/trends/measures?region=north&test=sbac-math", "organization_id"),
    ("/api/v1/statewide/trends/participation?region=north", "organization_id"),
    ("/api/v1/statewide/catalog?grade_band=K-3", "grade_band"),
    ("/api/v1/statewide/catalog?open_now=maybe", "open_now"),
    ("/api/v1/statewide/catalog?kind=book_club", "kind"),
    ("/api/v1/statewide/programs?program_year=26-27", "program_year"),
    ("/api/v1/statewide/organizations?kind=club", "kind"),
    ("/api/v1/statewide/organizations?code=a%20b", "code"),
    ("/api/v1/statewide/inquiry-cycle-counts?level=County", "level"),
    ("/api/v1/statewide/inquiry-cycle-counts?colour=red", "colour"),
]


@pytest.mark.parametrize("path, field", BAD_QUERIES, ids=[f"{p}:{f}" for p, f in BAD_QUERIES])
def test_a_bad_parameter_is_a_422_naming_it_before_any_call(hub, hub_clients, path, field):
    body = assert_problem(hub.get(path, headers=hub_bearer("platform_admin")), 422, "VALIDATION_FAILED")
    assert field in [error["field"] for error in body["errors"]], body
    assert hub_clients.all_calls() == []


# -- figures: withheld shown as withheld ---------------------------------------------------------

def figures(students: int, mean: float, met: str = "42.0") -> measures_pb2.MeasureFigures:
    return measures_pb2.MeasureFigures(
        students_tested=students, mean_scale_score=mean,
        percent_at_level=[measures_pb2.PercentFigure(value=25.0, text="25.0")] * 4,
        percent_met_or_exceeded=measures_pb2.PercentFigure(text=met) if met.startswith(("≤", "≥"))
        else measures_pb2.PercentFigure(value=float(met), text=met), distance_from_standard=-12.5)


def measure_row(organization: str, group: str, withheld: bool = False, region: str = "north",
                students: int = 40) -> views_pb2.MeasureRow:
    row = views_pb2.MeasureRow(region=region, organization_id=organization, organization_name=f"{organization} USD",
                               level="district", test="sbac-math", school_year="2025-26", window="spring",
                               student_group=group, grade="6", withheld=withheld, min_cell=11,
                               cut_scores_version="2025", version=3)
    if not withheld:
        row.figures.CopyFrom(figures(students, 2510.0))
    return row


def test_measures_pass_every_filter_and_show_a_withheld_cell_without_figures(hub, hub_clients):
    hub_clients["statewide"].replies["ListMeasures"] = views_pb2.ListMeasuresResponse(
        rows=[measure_row("district-a", "all"), measure_row("district-a", "foster", withheld=True)],
        statewide=[views_pb2.MeasureTotal(student_group="all", grade="6", complete=False, missing_regions=["south"])],
        next_page_token="more")
    response = hub.get(f"/api/v1/statewide/measures?{MEASURES}&level=district&region=north&organization_id=district-a"
                       "&student_groups=all&student_groups=foster&grades=6&page_size=2&page_token=t",
                       headers=hub_bearer())
    assert response.status_code == 200, response.get_data(as_text=True)
    assert hub_clients["statewide"].calls[0].request == views_pb2.ListMeasuresRequest(
        test="sbac-math", school_year="2025-26", window="spring", level="district", region="north",
        organization_id="district-a", student_groups=["all", "foster"], grades=["6"], page_size=2, page_token="t")
    body = response.get_json()
    shown, withheld = body["items"]
    assert shown["figures"]["students_tested"] == 40 and shown["figures"]["percent_met_or_exceeded"]["value"] == 42.0
    assert withheld["withheld"] is True and withheld["figures"] is None
    assert body["statewide"] == [{"student_group": "all", "grade": "6", "complete": False, "missing_regions": ["south"],
                                  "withheld_regions": [], "students_tested": None, "mean_scale_score": None,
                                  "percent_met_or_exceeded": None}]
    assert body["next_page_token"] == "more"


def test_the_measures_csv_follows_every_page_and_shows_withheld_figures_as_a_star(hub, hub_clients):
    pages = iter([views_pb2.ListMeasuresResponse(rows=[measure_row("district-a", "all")], next_page_token="p2"),
                  views_pb2.ListMeasuresResponse(rows=[measure_row("district-b", "foster", withheld=True,
                                                                   region="south")])])
    hub_clients["statewide"].replies = InTurn(ListMeasures=pages)
    response = hub.get(f"/api/v1/statewide/measures?{MEASURES}&format=csv", headers=hub_bearer())
    assert response.status_code == 200 and response.mimetype == "text/csv", response.get_data(as_text=True)
    assert "attachment" in response.headers["Content-Disposition"]
    assert [call.request.page_token for call in hub_clients["statewide"].calls] == ["", "p2"]
    assert {call.request.page_size for call in hub_clients["statewide"].calls} == {1000}
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert [row["organization_id"] for row in rows] == ["district-a", "district-b"]
    assert rows[0]["students_tested"] == "40" and rows[0]["percent_met_or_exceeded"] == "42.0"
    figure_columns = ["students_tested", "mean_scale_score", "percent_level_1", "percent_level_4",
                      "percent_met_or_exceeded", "distance_from_standard"]
    assert [rows[1][column] for column in figure_columns] == ["*"] * len(figure_columns)
    assert rows[1]["region"] == "south" and rows[1]["min_cell"] == "11"


class InTurn(dict):
    """A fake's replies: each RPC answered with the next reply of its iterator, call after call."""

    def __getitem__(self, method):
        return next(super().__getitem__(method))


def test_accept_text_csv_asks_for_the_same_export(hub, hub_clients):
    hub_clients["statewide"].replies["ListMeasures"] = views_pb2.ListMeasuresResponse(
        rows=[measure_row("district-a", "foster", withheld=True)])
    by_format = hub.get(f"/api/v1/statewide/measures?{MEASURES}&format=csv", headers=hub_bearer())
    by_accept = hub.get(f"/api/v1/statewide/measures?{MEASURES}", headers={**hub_bearer(), "Accept": "text/csv"})
    assert by_accept.mimetype == "text/csv" and by_accept.get_data() == by_format.get_data()


def test_the_gaps_csv_stars_a_withheld_side_and_its_gap(hub, hub_clients):
    gap_shown = views_pb2.GapRow(region="north", organization_id="district-a", level="district", grade="all",
                                 focal_group="el", reference_published=True,
                                 focal=figures(30, 2480.0, "30.0"), reference=figures(200, 2520.0, "50.0"),
                                 gap=measures_pb2.MeasureGap(reference_group="all", percent_met_points=-20.0,
                                                             distance_from_standard_points=-40.0))
    gap_withheld = views_pb2.GapRow(region="south", organization_id="district-b", level="district", grade="all",
                                    focal_group="el", focal_withheld=True, reference_published=True,
                                    reference=figures(150, 2500.0),
                                    gap=measures_pb2.MeasureGap(reference_group="all", withheld=True))
    no_reference = views_pb2.GapRow(region="south", organization_id="district-c", level="district", grade="all",
                                    focal_group="el", focal=figures(20, 2490.0), reference_published=False)
    hub_clients["statewide"].replies["ListMeasureGaps"] = views_pb2.ListMeasureGapsResponse(
        rows=[gap_shown, gap_withheld, no_reference])
    json_body = hub.get(f"/api/v1/statewide/measure-gaps?{MEASURES}&focal_group=el", headers=hub_bearer()).get_json()
    assert json_body["items"][1]["focal"] is None and json_body["items"][1]["gap"]["withheld"] is True
    assert json_body["items"][0]["gap"]["percent_met_points"] == -20.0
    response = hub.get(f"/api/v1/statewide/measure-gaps?{MEASURES}&focal_group=el&format=csv", headers=hub_bearer())
    assert response.status_code == 200 and response.mimetype == "text/csv"
    shown, withheld, absent = csv.DictReader(io.StringIO(response.get_data(as_text=True)))
    assert shown["gap_percent_met_points"] == "-20" and shown["focal_students_tested"] == "30"
    assert withheld["focal_students_tested"] == "*" and withheld["gap_percent_met_points"] == "*"
    assert withheld["reference_students_tested"] == "150"
    # No reference cell was published: nothing to show (not a suppressed figure).
    assert absent["reference_students_tested"] == "" and absent["gap_percent_met_points"] == ""


def test_reach_and_participation_show_withheld_rows_and_incomplete_totals(hub, hub_clients):
    hub_clients["statewide"].replies["ListReach"] = views_pb2.ListReachResponse(
        rows=[views_pb2.ReachRow(region="north", organization_id="north-region", level="region",
                                 program_year="2025-26", teachers_reached=120, schools_reached=30,
                                 districts_reached=8),
              views_pb2.ReachRow(region="south", organization_id="south-region", level="region",
                                 program_year="2025-26", withheld=True)],
        statewide=views_pb2.ReachTotal(program_year="2025-26", complete=False, withheld_regions=["south"]))
    response = hub.get("/api/v1/statewide/reach?program_year=2025-26&level=region", headers=hub_bearer())
    assert response.status_code == 200, response.get_data(as_text=True)
    assert hub_clients["statewide"].calls[0].request == views_pb2.ListParticipationRequest(
        program_year="2025-26", level="region")
    body = response.get_json()
    assert body["items"][0]["teachers_reached"] == 120
    assert body["items"][1]["withheld"] and body["items"][1]["teachers_reached"] is None
    assert body["statewide"]["complete"] is False and body["statewide"]["teachers_reached"] is None
    assert body["statewide"]["withheld_regions"] == ["south"]


def test_the_catalog_is_public_and_every_entry_links_to_its_owning_region(hub, hub_clients):
    community = share_pb2.SharedCommunity(id="plc-1", name="Middle school fractions PLC", kind="plc",
                                          grade_bands=["6-8"], host_organization_id="district-a", status="open",
                                          capacity=20, seats_available=5,
                                          join_url="https://north.example.org/communities/plc-1",
                                          signup_opens=stamp(1_800_000_000))
    hub_clients["statewide"].replies["ListCatalog"] = views_pb2.ListCatalogResponse(entries=[
        views_pb2.CatalogEntry(region="north", community=community, host_organization_name="District A")])
    response = hub.get("/api/v1/statewide/catalog?grade_band=6-8&kind=plc&open_now=true&seats_available=true")
    assert response.status_code == 200, response.get_data(as_text=True)
    assert hub_clients["statewide"].calls[0].request == views_pb2.ListCatalogRequest(
        grade_band="6-8", kind="plc", open_now=True, seats_available=True)
    entry = response.get_json()["items"][0]
    assert entry["region"] == "north" and entry["join_url"] == "https://north.example.org/communities/plc-1"
    assert entry["host_organization_name"] == "District A" and entry["signup_opens_at"] == "2027-01-15T08:00:00Z"
    assert entry["signup_closes_at"] is None and entry["program_id"] is None


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


PUBLIC_PATHS = {"/api/v1/statewide/catalog", "/api/v1/statewide/programs", "/api/v1/statewide/organizations"}


def test_the_hubs_private_reads_declare_bearer_security_and_roles_and_public_reads_do_not(hub_document):
    assert hub_document["info"]["title"] == "copnet statewide hub API"
    statewide = [(path, operation) for path, _, operation in standing.operations(hub_document)
                 if path.startswith("/api/v1/statewide/")]
    assert {path for path, _ in statewide} >= PUBLIC_PATHS | {"/api/v1/statewide/measures"}
    for path, operation in statewide:
        if path in PUBLIC_PATHS:
            assert "security" not in operation and "x-copnet-roles" not in operation, path
            assert "403" not in operation["responses"], path
        else:
            assert operation["security"] == [{"bearer": []}], path
            expected = ["platform_admin"] if path.endswith("/rejections") else ["platform_admin", "state_coordinator"]
            assert operation["x-copnet-roles"] == expected, path
            assert "403" in operation["responses"], path


def test_the_exports_document_their_csv(hub_document):
    for path in ("/api/v1/statewide/measures", "/api/v1/statewide/measure-gaps"):
        content = hub_document["paths"][path]["get"]["responses"]["200"]["content"]
        assert set(content) == {"application/json", "text/csv"}, path
