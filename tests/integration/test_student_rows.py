"""Student-level rows end to end on a real stack (MongoDB-wire server, NATS, reflection with an
importer plugin, the gateway): files uploaded over REST (streamed: a body far over the JSON limit)
and with `copnet data import`; a teacher reads their own students only (rows naming them, and
students in their class that year), no other teacher, facilitator, county admin or coordinator
reads any; the county's data steward reads them; every read is in the audit a county admin reads.
"""

from __future__ import annotations

import io
import json
import time
import urllib.request

import pytest
from copnet.api_client import ApiClient, ApiError
from copnet.cli.root import app as cli
from copnet.membership.v1 import membership_pb2
from typer.testing import CliRunner

from tests.integration.http import request
from tests.integration.test_dataset_import import HEADER, install_plugin
from tests.support.stack import RunningStack, settings_for_tests

pytestmark = pytest.mark.integration

NORTH, SOUTH = "11111110000001", "11111110000002"
FILLER_ROWS = 14_000  # another teacher's students: makes the score file about 1.4 MB


def score_row(student: str, school: str, teacher: str, grade: str = "5", score: int = 2500) -> str:
    return f"{student},{school},{grade},sbac-math,2024-25,spring,{score},,false,false,true,false,false,white,{teacher},,,"


SCORES = "\n".join([
    HEADER,
    score_row("S-A1", NORTH, "teacher-a", score=2480),
    score_row("S-A2", NORTH, "teacher-a", score=2555),
    score_row("S-B1", NORTH, "teacher-b", score=2600),
    score_row("S-E1", NORTH, "", score=2410),  # teacher-a's through class enrollments
    *(score_row(f"S-C{n:05d}", SOUTH, "teacher-c", grade="6", score=2400 + n % 300) for n in range(FILLER_ROWS)),
]) + "\n"
ENROLLMENTS = ("student_id,teacher_id,class_id,school_code,school_year\n"
               f"S-E1,teacher-a,math-5a,{NORTH},2024-25\n"
               f"S-B1,teacher-b,math-5b,{NORTH},2024-25\n")


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    root = tmp_path_factory.mktemp("student-rows-stack")
    site = root / "site"
    site.mkdir()
    install_plugin(site)
    running = RunningStack(settings_for_tests(root / "data"), root, extra_pythonpath=[site])
    try:
        running.start_infrastructure().start_services().start_gateway()
        admin = running.membership(running.token("platform_admin"))
        kinds = membership_pb2
        for org_id, kind, parent, code in (
                ("sr-state", kinds.ORGANIZATION_KIND_STATE, "", ""),
                ("sr-region", kinds.ORGANIZATION_KIND_REGION, "sr-state", ""),
                ("sr-coe", kinds.ORGANIZATION_KIND_COUNTY_OFFICE, "sr-region", "11"),
                ("sr-other-coe", kinds.ORGANIZATION_KIND_COUNTY_OFFICE, "sr-region", "22"),
                ("sr-usd", kinds.ORGANIZATION_KIND_DISTRICT, "sr-coe", "1111111"),
                ("sr-north-es", kinds.ORGANIZATION_KIND_SCHOOL, "sr-usd", NORTH),
                ("sr-south-ms", kinds.ORGANIZATION_KIND_SCHOOL, "sr-usd", SOUTH)):
            admin.CreateOrganization(membership_pb2.CreateOrganizationRequest(
                organization_id=org_id, name=org_id, kind=kind, parent_id=parent, code=code,
                time_zone="America/Los_Angeles"))
        running.wait_until_healthy()
        yield running
    finally:
        running.stop()


def client(stack, role: str, org: str, person: str) -> ApiClient:
    return ApiClient(stack.gateway_url, stack.token(role, org, person=person))


def steward(stack) -> ApiClient:
    return client(stack, "data_steward", "sr-coe", "steward-1")


def ready(api: ApiClient, data_set_id: str) -> dict:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        found = api.get(f"/data-sets/{data_set_id}")
        if found["status"] != "importing":
            assert found["status"] == "ready", found
            return found
        time.sleep(0.2)
    raise AssertionError(f"data set {data_set_id} still importing")


@pytest.fixture(scope="module")
def data_sets(stack, tmp_path_factory) -> dict:
    """The score file imported with `copnet data import`, the enrollments with a plain REST upload."""
    folder = tmp_path_factory.mktemp("files")
    scores = folder / "scores.csv"
    scores.write_text(SCORES)
    assert scores.stat().st_size > 1 << 20
    token = stack.token("data_steward", "sr-coe", person="steward-1")
    imported = CliRunner().invoke(cli, ["data", "import", str(scores), "--importer", "csv-scores", "--org", "sr-coe",
                                        "--gateway", stack.gateway_url, "--token", token])
    assert imported.exit_code == 0, imported.output
    assert "ready" in imported.output and f"{FILLER_ROWS + 4}" in imported.output
    listed = steward(stack).get("/data-sets", organization_id="sr-coe", kind="student_scores")["items"]
    [score_set] = [d for d in listed if d["file_name"] == "scores.csv"]
    assert score_set["rows_imported"] == FILLER_ROWS + 4

    upload = urllib.request.Request(
        f"{stack.gateway_url}/api/v1/data-sets?importer=csv-enrollments&organization_id=sr-coe&file_name=classes.csv",
        data=ENROLLMENTS.encode(), method="POST",
        headers={"Content-Type": "text/csv", "Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(upload, timeout=30) as answer:
        assert answer.status == 202
        started = json.loads(answer.read())
        assert answer.headers["Location"] == f"/api/v1/data-sets/{started['id']}"
    enrollments = ready(steward(stack), started["id"])
    return {"scores": score_set["id"], "enrollments": enrollments["id"]}


def test_only_the_upload_route_takes_a_body_over_one_mib(stack, data_sets):
    big = {"name": "x" * (2 << 20)}
    refused = request("POST", f"{stack.gateway_url}/api/v1/orgs", json_body=big,
                      token=stack.token("platform_admin", person="admin-1"))
    assert refused.status == 413
    # The same file again over REST changes nothing: 200, already imported, the same data set.
    again = steward(stack).upload("/data-sets", io.BytesIO(SCORES.encode()), len(SCORES), "text/csv",
                                  query={"importer": "csv-scores", "organization_id": "sr-coe",
                                         "file_name": "scores-again.csv"})
    assert again["already_imported"] and again["id"] == data_sets["scores"]


def test_a_teacher_reads_their_own_students_only(stack, data_sets):
    mine = client(stack, "member", "sr-north-es", "teacher-a").get("/me/student-results")
    theirs = client(stack, "member", "sr-north-es", "teacher-b").get("/me/student-results")
    assert sorted(r["scale_score"] for r in mine["items"]) == [2410, 2480, 2555]
    assert [r["scale_score"] for r in theirs["items"]] == [2600]
    assert not {r["pseudonym"] for r in mine["items"]} & {r["pseudonym"] for r in theirs["items"]}
    assert all(r["data_set_id"] == data_sets["scores"] for r in mine["items"])
    # Pseudonymous: neither the ids of the file nor anything else names a student.
    assert "S-A1" not in json.dumps(mine) and "S-E1" not in json.dumps(mine)
    filtered = client(stack, "member", "sr-north-es", "teacher-a").get("/me/student-results", grade="6")
    assert filtered["items"] == []


@pytest.mark.parametrize(("role", "org", "person"), [
    ("member", "sr-north-es", "teacher-b"), ("facilitator", "sr-usd", "facilitator-1"),
    ("county_admin", "sr-coe", "county-admin-1"), ("state_coordinator", "sr-state", "coordinator-1"),
    ("data_steward", "sr-other-coe", "steward-elsewhere"), ("regional_lead", "sr-region", "lead-1")])
def test_no_one_else_reads_a_teachers_students(stack, data_sets, role, org, person):
    other = client(stack, role, org, person)
    if person != "teacher-b":
        assert other.get("/me/student-results")["items"] == []
    for path, query in ((f"/data-sets/{data_sets['scores']}/student-results", {"teacher_id": "teacher-a"}),
                        ("/orgs/sr-north-es/student-results", {})):
        with pytest.raises(ApiError) as refused:
            other.get(path, **query)
        assert refused.value.status in (403, 404)
        assert "pseudonym" not in json.dumps(refused.value.problem)


def test_the_countys_data_steward_reads_rows_a_page_at_a_time(stack, data_sets):
    rows = steward(stack).get(f"/data-sets/{data_sets['scores']}/student-results", teacher_id="teacher-a")["items"]
    assert sorted(r["scale_score"] for r in rows) == [2480, 2555]
    first = steward(stack).get("/orgs/sr-north-es/student-results", page_size=3)
    assert len(first["items"]) == 3 and first["next_page_token"]
    rest = steward(stack).get("/orgs/sr-north-es/student-results", page_size=3, page_token=first["next_page_token"])
    assert len(rest["items"]) == 1 and rest["next_page_token"] == ""
    assert sorted(r["scale_score"] for r in first["items"] + rest["items"]) == [2410, 2480, 2555, 2600]


def test_every_read_is_in_the_audit_a_county_admin_reads(stack, data_sets):
    teacher = client(stack, "member", "sr-north-es", "teacher-a")
    before = client(stack, "county_admin", "sr-coe", "county-admin-1").get("/orgs/sr-coe/student-read-audit")["items"]
    pseudonyms = [r["pseudonym"] for r in teacher.get("/me/student-results", window="spring")["items"]]
    steward(stack).get(f"/data-sets/{data_sets['scores']}/student-results", grade="5")
    entries = client(stack, "county_admin", "sr-coe", "county-admin-1").get("/orgs/sr-coe/student-read-audit")["items"]
    new = entries[:len(entries) - len(before)]
    assert [(e["actor_id"], e["action"], e["rows"]) for e in new] == [
        ("steward-1", "list_student_results", 4), ("teacher-a", "list_my_student_results", 3)]
    assert new[0]["filters"] == {"grade": "5"} and new[0]["data_set_id"] == data_sets["scores"]
    assert new[1]["filters"] == {"window": "spring"} and new[1]["data_set_ids"] == [data_sets["scores"]]
    assert pseudonyms and not any(p in json.dumps(entries) for p in pseudonyms)
    # Earlier reads are there too, one entry each; a read that returned nothing is the platform's to see.
    actors = {e["actor_id"] for e in entries}
    assert {"teacher-a", "teacher-b", "steward-1"} <= actors
    assert "facilitator-1" not in actors
    platform = client(stack, "platform_admin", "", "admin-1").get("/orgs/sr-coe/student-read-audit",
                                                                   actor_id="teacher-a")["items"]
    assert platform and all(e["actor_id"] == "teacher-a" for e in platform)
    for role, org in (("data_steward", "sr-coe"), ("county_admin", "sr-other-coe"), ("member", "sr-north-es")):
        with pytest.raises(ApiError) as refused:
            client(stack, role, org, "someone").get("/orgs/sr-coe/student-read-audit")
        assert refused.value.status == 403
