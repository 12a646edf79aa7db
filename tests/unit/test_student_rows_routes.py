"""The student-level routes at the gateway: filters checked before the service is asked, roles
that never read rows refused at the door, rows and audit entries in the API's shape."""

from __future__ import annotations

import datetime as dt

import pytest
from copnet.kernel.timestamps import timestamp
from copnet.reflection.v1 import student_rows_pb2

from tests.unit.gateway_fakes import FakeClients, assert_problem, bearer, make_app


@pytest.fixture()
def gateway():
    clients = FakeClients()
    return clients, make_app(clients).test_client()


def test_my_results_pass_the_filters_and_convert_rows(gateway):
    clients, client = gateway
    row = student_rows_pb2.StudentResult(pseudonym="9f2c", data_set_id="ds1", school_id="s1", grade="6",
                                         test="sbac-math", school_year="2024-25", window="spring", scale_score=2510,
                                         achievement_level=3, distance_from_standard=-4.0, row=12)
    clients.fakes["reflection"].replies["ListMyStudentResults"] = student_rows_pb2.ListMyStudentResultsResponse(
        results=[row], next_page_token="n")
    answer = client.get("/api/v1/me/student-results?grade=6&window=spring&school_year=2024-25&page_size=20",
                        headers=bearer("member", "school"))
    assert answer.status_code == 200, answer.get_data(as_text=True)
    body = answer.get_json()
    assert body["next_page_token"] == "n"
    [item] = body["items"]
    assert (item["pseudonym"], item["distance_from_standard"], item["percentile"], item["teacher_id"],
            item["test_date"]) == ("9f2c", -4.0, None, None, None)
    [call] = clients.fakes["reflection"].calls
    assert call.request.filter == student_rows_pb2.StudentResultFilter(grade="6", window="spring",
                                                                       school_year="2024-25")
    assert call.request.page_size == 20


@pytest.mark.parametrize("query", ["grade=13", "window=summer", "school_year=24-25", "page_size=501", "colour=red"])
def test_a_bad_query_is_422_before_the_service_is_asked(gateway, query):
    clients, client = gateway
    assert_problem(client.get(f"/api/v1/me/student-results?{query}", headers=bearer("member", "school")), 422,
                   "VALIDATION_FAILED")
    assert clients.all_calls() == []


@pytest.mark.parametrize("role", ["facilitator", "county_admin", "state_coordinator", "regional_lead", "member"])
def test_roles_that_never_read_rows_are_refused_at_the_door(gateway, role):
    clients, client = gateway
    for path in ("/api/v1/data-sets/ds1/student-results", "/api/v1/orgs/coe/student-results"):
        assert_problem(client.get(path, headers=bearer(role, "coe")), 403, "ROLE_REQUIRED")
    assert clients.all_calls() == []


def test_the_audit_is_for_county_admins_and_converts_entries(gateway):
    clients, client = gateway
    entry = student_rows_pb2.StudentReadAuditEntry(id="a1", actor_id="t1", action="list_my_student_results",
                                                   filters={"grade": "6"}, rows=3, data_set_ids=["ds1"],
                                                   read_time=timestamp(dt.datetime(2026, 1, 2)))
    clients.fakes["reflection"].replies["ListStudentReadAudit"] = student_rows_pb2.ListStudentReadAuditResponse(
        entries=[entry])
    assert_problem(client.get("/api/v1/orgs/coe/student-read-audit", headers=bearer("data_steward", "coe")), 403,
                   "ROLE_REQUIRED")
    answer = client.get("/api/v1/orgs/coe/student-read-audit?actor_id=t1", headers=bearer("county_admin", "coe"))
    assert answer.status_code == 200, answer.get_data(as_text=True)
    [item] = answer.get_json()["items"]
    assert item == {"id": "a1", "actor_id": "t1", "action": "list_my_student_results", "data_set_id": None,
                    "organization_id": None, "filters": {"grade": "6"}, "rows": 3, "data_set_ids": ["ds1"],
                    "read_at": "2026-01-02T00:00:00Z"}
    assert clients.fakes["reflection"].calls[-1].request.actor_id == "t1"
