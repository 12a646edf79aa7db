"""The statewide hub's REST API and `copnet statewide`, against a real hub: its nats-server,
database, statewide service and gateway in hub mode, fed by two real regions ("north" and
"south", each its own nats-server linked to the hub and its share stream). What the regions share
is put into their share streams as the share service would send it, crosses the leaf links,
and is applied by the hub's ingest: the API reads what really arrived.

Checked here: who may call each route (anonymous, a teacher, a regional lead, a state coordinator,
a platform admin, and a region's own token), problem+json for bad parameters (the gateway's and
the service's), figures withheld by a region shown as withheld (JSON and CSV: "*", never blank or
zero), the public catalog with each community's join link on its region, the hub's OpenAPI
document and readiness, the CLI, and a short deterministic schemathesis pass over the document.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest
from copnet.api_client import ApiClient, ApiError
from copnet.cli.root import app as cli_app
from copnet.kernel.events import CloudEvent, source_for
from copnet.kernel.federation import SHARE_EVENT_TYPE, share_subject
from copnet.reflection.v1 import measures_pb2, participation_pb2
from copnet.share import records
from copnet.share.v1 import share_pb2
from typer.testing import CliRunner

from tests.support.federation import (
    Federation,
    hub_documents,
    publish_to_share_stream,
    running_federation,
    wait_until,
)

pytestmark = pytest.mark.integration

NORTH, SOUTH = "north", "south"
MIN_CELL = 11
APPLY_SECONDS = 60
JOIN_URL = "https://north.example.org/communities/north-plc"
MEASURES = "test=sbac-math&school_year=2025-26&window=spring"
EXAMPLES = 10


# -- what each region shares ----------------------------------------------------------------------
def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def shared(region: str, content, key: str, version: int = 1) -> share_pb2.SharedRecord:
    return records.shared_record(region, records.kind_of_content(content), key, version, now(), content)


def organization(region: str, id_: str, name: str, kind: str, parent_id: str = "", code: str = ""):
    content = share_pb2.SharedOrganization(id=id_, name=name, kind=kind, parent_id=parent_id, code=code,
                                           time_zone="America/Los_Angeles")
    return shared(region, content, records.organization_key(id_))


def figures(students: int, mean: float, met: float) -> measures_pb2.MeasureFigures:
    return measures_pb2.MeasureFigures(
        students_tested=students, mean_scale_score=mean,
        percent_met_or_exceeded=measures_pb2.PercentFigure(value=met, text=f"{met:.1f}"))


def measures(region: str, organization_id: str, level: str, school_year: str, cells: dict, version: int = 1):
    """cells: student group -> figures, or None for a withheld cell (grade 6, sbac-math, spring)."""
    content = measures_pb2.AggregatesPublished(
        schema_version=1, region=region, organization_id=organization_id, level=level, test="sbac-math",
        school_year=school_year, window="spring", version=version, min_cell=MIN_CELL)
    content.publish_time.FromDatetime(now())
    for group, shown in cells.items():
        cell = content.cells.add(student_group=group, grade="6", withheld=shown is None)
        if shown is not None:
            cell.figures.CopyFrom(shown)
    return shared(region, content, records.measures_key(organization_id, "sbac-math", school_year, "spring"), version)


def participation(region: str, organization_id: str, teachers: int | None):
    shown = participation_pb2.ParticipationFigures(scope_id=organization_id, level="region", program_year="2025-26")
    if teachers is None:
        shown.withheld = True
    else:
        shown.teachers_reached, shown.schools_reached, shown.districts_reached = teachers, 12, 3
        shown.learning_hours = 480.5
    content = participation_pb2.ParticipationPublished(schema_version=1, region=region,
                                                       organization_id=organization_id, level="region",
                                                       program_year="2025-26", version=1, min_cell=MIN_CELL,
                                                       figures=shown)
    return shared(region, content, records.year_key(organization_id, "2025-26"))


def community(region: str, id_: str, host: str, join_url: str = ""):
    content = share_pb2.SharedCommunity(id=id_, name=f"{id_} fractions PLC", kind="plc", grade_bands=["6-8"],
                                        host_organization_id=host, status="open", capacity=20, seats_available=6,
                                        join_url=join_url)
    return shared(region, content, records.community_key(id_))


def cycles(region: str, organization_id: str):
    content = share_pb2.SharedCycleCounts(organization_id=organization_id, level="district", program_year="2025-26",
                                          cycles_open=4, cycles_closed=2, communities_with_cycles=3)
    return shared(region, content, records.year_key(organization_id, "2025-26"))


NORTH_RECORDS = [
    organization(NORTH, "north-region", "North Region", "region"),
    organization(NORTH, "north-district", "North USD", "district", "north-region", "0110"),
    measures(NORTH, "north-region", "region", "2025-26", {"all": figures(400, 2500.0, 40.0),
                                                           "english_learner": figures(60, 2450.0, 20.0)}),
    measures(NORTH, "north-district", "district", "2024-25", {"all": figures(50, 2490.0, 35.0)}),
    measures(NORTH, "north-district", "district", "2025-26", {"all": figures(40, 2500.0, 30.0),
                                                               "english_learner": None}),
    # A correction: version 2 replaces the district's 2025-26 figures.
    measures(NORTH, "north-district", "district", "2025-26", {"all": figures(42, 2505.0, 33.0),
                                                               "english_learner": None}, version=2),
    participation(NORTH, "north-region", 120),
    community(NORTH, "north-plc", "north-district", JOIN_URL),
    cycles(NORTH, "north-district"),
]
SOUTH_RECORDS = [
    organization(SOUTH, "south-region", "South Region", "region"),
    measures(SOUTH, "south-region", "region", "2025-26", {"all": figures(600, 2520.0, 50.0),
                                                           "english_learner": None}),
    participation(SOUTH, "south-region", None),
    community(SOUTH, "south-plc", "south-region"),
]


def publish(federation: Federation, region: str, record: share_pb2.SharedRecord) -> None:
    event = CloudEvent.of(SHARE_EVENT_TYPE, source_for(region, "share"), record.key, record)
    publish_to_share_stream(federation.regions[region], share_subject(region, record.kind), event.body(),
                            event.headers())


def applied(federation: Federation, region: str) -> int:
    links = hub_documents(federation.hub, "region_links", {"_id": region})
    return links[0].get("records_applied", 0) if links else 0


@pytest.fixture(scope="module")
def federation(tmp_path_factory):
    with running_federation(tmp_path_factory.mktemp("statewide-api"), (NORTH, SOUTH), region_services=("share",),
                            region_gateways=False) as running:
        running.hub.start_gateway()
        for region, shared_records in ((NORTH, NORTH_RECORDS), (SOUTH, SOUTH_RECORDS)):
            for record in shared_records:
                publish(running, region, record)
        for region, shared_records in ((NORTH, NORTH_RECORDS), (SOUTH, SOUTH_RECORDS)):
            count = len(shared_records)
            wait_until(lambda r=region, n=count: applied(running, r) >= n, APPLY_SECONDS,
                       f"{region}'s records applied at the hub")
        yield running


@pytest.fixture(scope="module")
def hub(federation):
    return federation.hub


def token(hub, role: str) -> str | None:
    if role == "anonymous":
        return None
    return hub.token(role, "" if role == "platform_admin" else "north-district")


def get(hub, path: str, role: str = "state_coordinator", **query):
    return ApiClient(hub.gateway_url, token(hub, role)).get(path, **query)


def status_of(hub, path: str, role: str, accept: str = "application/json") -> tuple[int, dict]:
    client = ApiClient(hub.gateway_url, token(hub, role))
    try:
        client.send("GET", path, accept=accept)
        return 200, {}
    except ApiError as error:
        return error.status, error.problem


# -- who may call what ----------------------------------------------------------------------------
ROUTES = {
    "/statewide/regions": "readers",
    "/statewide/rejections": "platform_admin",
    "/statewide/reach?program_year=2025-26": "readers",
    "/statewide/participation?program_year=2025-26": "readers",
    f"/statewide/measures?{MEASURES}": "readers",
    f"/statewide/measures?{MEASURES}&format=csv": "readers",
    f"/statewide/measure-gaps?{MEASURES}&focal_group=english_learner": "readers",
    "/statewide/trends/measures?region=north&organization_id=north-district&test=sbac-math": "readers",
    "/statewide/trends/participation?region=north&organization_id=north-region": "readers",
    "/statewide/inquiry-cycle-counts": "readers",
    "/statewide/catalog": "anyone",
    "/statewide/programs": "anyone",
    "/statewide/organizations": "anyone",
}
ROLES = ("anonymous", "member", "regional_lead", "state_coordinator", "platform_admin")


def expected(audience: str, role: str) -> int:
    if audience == "anyone":
        return 200
    if role == "anonymous":
        return 401
    allowed = {"platform_admin"} if audience == "platform_admin" else {"platform_admin", "state_coordinator"}
    return 200 if role in allowed else 403


def test_the_roles_matrix_over_every_route(hub):
    found = {(path, role): status_of(hub, path, role, "text/csv" if "format=csv" in path else "application/json")[0]
             for path in ROUTES for role in ROLES}
    wanted = {(path, role): expected(audience, role) for path, audience in ROUTES.items() for role in ROLES}
    assert found == wanted


def test_a_regions_token_is_refused_at_the_hub(hub, federation):
    regional = federation.regions[NORTH]
    client = ApiClient(hub.gateway_url, regional.token("platform_admin"))
    with pytest.raises(ApiError) as refused:
        client.get("/statewide/regions")
    assert refused.value.status == 401 and refused.value.reason == "TOKEN_INVALID"
    # ... even on a public route: a token sent must be the hub's.
    with pytest.raises(ApiError) as refused:
        client.get("/statewide/catalog")
    assert refused.value.status == 401


# -- problem+json for bad parameters --------------------------------------------------------------
@pytest.mark.parametrize("path, field", [
    ("/statewide/reach", "program_year"),
    ("/statewide/measures?test=sbac-math&school_year=2025-26&window=summer", "window"),
    (f"/statewide/measures?{MEASURES}&grades=13", "grades.0"),
    ("/statewide/catalog?grade_band=K-3", "grade_band"),
    # The service's own rules, named the same way: an organization needs its region.
    (f"/statewide/measures?{MEASURES}&organization_id=north-district", "region"),
    (("/statewide/trends/measures?region=north&organization_id=north-district&test=sbac-math"
      "&student_group=all&reference_group=all"), "reference_group"),
])
def test_a_bad_parameter_is_a_problem_naming_it(hub, path, field):
    status, problem = status_of(hub, path, "platform_admin")
    assert status == 422, problem
    assert problem["type"].startswith("urn:copnet:problem:")
    assert field in [error["field"] for error in problem["errors"]], problem


# -- what arrived, as the views show it -----------------------------------------------------------
def test_regions_show_what_arrived_from_each_link(hub):
    regions = {r["region"]: r for r in get(hub, "/statewide/regions")["items"]}
    assert regions[NORTH]["linked"] and regions[SOUTH]["linked"]
    assert regions[NORTH]["records_applied"] >= len(NORTH_RECORDS)
    assert regions[NORTH]["last_applied_at"] is not None


def test_measures_show_withheld_cells_as_withheld_and_totals_only_when_complete(hub):
    body = get(hub, "/statewide/measures", test="sbac-math", school_year="2025-26", window="spring",
               level="district", student_groups=["all", "english_learner"], grades=["6"])
    rows = {(r["region"], r["organization_id"], r["student_group"]): r for r in body["items"]}
    withheld = rows[(NORTH, "north-district", "english_learner")]
    assert withheld["withheld"] is True and withheld["figures"] is None
    corrected = rows[(NORTH, "north-district", "all")]
    assert corrected["version"] == 2 and corrected["figures"]["students_tested"] == 42
    assert corrected["organization_name"] == "North USD"
    totals = {t["student_group"]: t for t in body["statewide"]}
    assert totals["all"]["complete"] and totals["all"]["students_tested"] == 1000
    assert not totals["english_learner"]["complete"] and totals["english_learner"]["withheld_regions"] == [SOUTH]
    assert totals["english_learner"]["students_tested"] is None


def test_the_csv_export_stars_withheld_figures(hub):
    text = ApiClient(hub.gateway_url, token(hub, "state_coordinator")).text(
        "/statewide/measures", "text/csv", test="sbac-math", school_year="2025-26", window="spring", level="district",
        format="csv")
    rows = list(csv.DictReader(io.StringIO(text)))
    by_key = {(r["region"], r["organization_id"], r["student_group"]): r for r in rows}
    withheld = by_key[(NORTH, "north-district", "english_learner")]
    assert withheld["students_tested"] == "*" and withheld["mean_scale_score"] == "*"
    assert withheld["percent_met_or_exceeded"] == "*"
    assert by_key[(NORTH, "north-district", "all")]["students_tested"] == "42"
    assert not any(r["students_tested"] in ("", "0") for r in rows)


def test_gaps_are_withheld_when_a_side_is(hub):
    body = get(hub, "/statewide/measure-gaps", test="sbac-math", school_year="2025-26", window="spring",
               focal_group="english_learner", grade="6", level="region")
    rows = {(r["region"], r["organization_id"]): r for r in body["items"]}
    shown = rows[(NORTH, "north-region")]
    assert shown["gap"]["percent_met_points"] == pytest.approx(-20.0)
    hidden = rows[(SOUTH, "south-region")]
    assert hidden["focal_withheld"] and hidden["focal"] is None and hidden["gap"]["withheld"]
    text = ApiClient(hub.gateway_url, token(hub, "platform_admin")).text(
        "/statewide/measure-gaps", "text/csv", test="sbac-math", school_year="2025-26", window="spring",
        focal_group="english_learner", grade="6", level="region", format="csv")
    exported = {(r["region"], r["organization_id"]): r for r in csv.DictReader(io.StringIO(text))}
    assert exported[(SOUTH, "south-region")]["gap_percent_met_points"] == "*"
    assert exported[(SOUTH, "south-region")]["focal_students_tested"] == "*"


def test_a_trend_has_the_latest_version_of_each_year(hub):
    trend = get(hub, "/statewide/trends/measures", region=NORTH, organization_id="north-district", test="sbac-math",
                grade="6")
    assert [(p["school_year"], p["figures"]["students_tested"]) for p in trend["points"]] == [("2024-25", 50),
                                                                                            ("2025-26", 42)]


def test_reach_is_incomplete_while_a_region_withholds_it(hub):
    body = get(hub, "/statewide/reach", program_year="2025-26")
    rows = {r["region"]: r for r in body["items"]}
    assert rows[NORTH]["teachers_reached"] == 120
    assert rows[SOUTH]["withheld"] and rows[SOUTH]["teachers_reached"] is None
    assert body["statewide"]["complete"] is False and body["statewide"]["teachers_reached"] is None
    assert body["statewide"]["withheld_regions"] == [SOUTH]


def test_the_catalog_is_public_and_links_each_community_to_its_region(hub):
    entries = {e["id"]: e for e in ApiClient(hub.gateway_url).get("/statewide/catalog", grade_band="6-8")["items"]}
    assert entries["north-plc"]["region"] == NORTH and entries["north-plc"]["join_url"] == JOIN_URL
    assert entries["north-plc"]["host_organization_name"] == "North USD"
    assert entries["south-plc"]["region"] == SOUTH and entries["south-plc"]["join_url"] is None
    # Open, without a sign-up window, with seats: found by the filters a teacher would use.
    found = ApiClient(hub.gateway_url).get("/statewide/catalog", region=NORTH, open_now="true",
                                          seats_available="true")
    assert [e["id"] for e in found["items"]] == ["north-plc"]


def test_the_directory_is_public(hub):
    organizations = ApiClient(hub.gateway_url).get("/statewide/organizations", region=NORTH, kind="district")
    assert [(o["id"], o["parent_id"], o["code"]) for o in organizations["items"]] == [
        ("north-district", "north-region", "0110")]


def test_cycle_counts(hub):
    rows = get(hub, "/statewide/inquiry-cycle-counts", region=NORTH)["items"]
    assert [(r["organization_id"], r["cycles_open"], r["cycles_closed"]) for r in rows] == [("north-district", 4, 2)]


# -- the hub's gateway itself ---------------------------------------------------------------------
def test_the_hub_serves_its_own_openapi_document_and_readiness(hub):
    client = ApiClient(hub.gateway_url)
    document = client.request("GET", "/openapi.json")
    assert document["info"]["title"] == "copnet statewide hub API"
    assert all(path.startswith("/api/v1/statewide/") or path in ("/healthz", "/readyz")
               for path in document["paths"])
    assert "/api/v1/statewide/measures" in document["paths"]
    with urllib.request.urlopen(f"{hub.gateway_url}/readyz", timeout=10) as response:
        ready = json.loads(response.read())
    assert ready == {"status": "ready", "checks": {"statewide": "SERVING", "mongodb": "SERVING", "nats": "SERVING"}}


# -- the CLI --------------------------------------------------------------------------------------
def invoke(*args: str):
    return CliRunner().invoke(cli_app, ["statewide", *args])


def test_the_cli_exports_the_suppressed_csv_and_reads_the_public_catalog(hub, monkeypatch, tmp_path):
    monkeypatch.delenv("COPNET_TOKEN", raising=False)
    hub_token = token(hub, "state_coordinator")
    output = tmp_path / "measures.csv"
    result = invoke("measures", "--test", "sbac-math", "--year", "2025-26", "--window", "spring", "--csv",
                    "--output", str(output), "--gateway", hub.gateway_url, "--token", hub_token)
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(output.read_text())))
    assert any(r["students_tested"] == "*" for r in rows)
    result = invoke("catalog", "--gateway", hub.gateway_url)  # anonymous
    assert result.exit_code == 0, result.output
    assert JOIN_URL in result.output
    result = invoke("regions", "--gateway", hub.gateway_url)  # no token: refused, with the reason
    assert result.exit_code == 1 and "TOKEN_REQUIRED" in result.output
    result = invoke("reach", "--year", "2025-26", "--gateway", hub.gateway_url, "--token", hub_token)
    assert result.exit_code == 0 and "withheld by south" in result.output, result.output


# -- a short fuzz over the hub's document ---------------------------------------------------------
EXCLUDED_CHECKS = ("use_after_free", "ensure_resource_availability", "positive_data_acceptance",
                   "object_level_authorization")


def test_every_operation_of_the_hub_keeps_to_its_document(hub, tmp_path):
    command = [
        str(Path(sys.executable).with_name("schemathesis")), "run", f"{hub.gateway_url}/api/v1/openapi.json",
        "--header", f"Authorization: Bearer {token(hub, 'platform_admin')}",
        "--max-examples", str(EXAMPLES), "--generation-deterministic",
        "--phases", "examples,coverage,fuzzing", "--workers", "2",
        "--checks", "all", "--exclude-checks", ",".join(EXCLUDED_CHECKS),
        "--request-timeout", "30", "--no-color", "--report", "junit", "--report-dir", str(tmp_path),
    ]
    result = subprocess.run(command, capture_output=True, text=True, timeout=900, cwd=tmp_path,
                            check=False)
    assert result.returncode == 0, result.stdout[-20000:] + result.stderr[-5000:]
