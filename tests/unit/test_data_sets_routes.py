"""The data-set routes at the gateway: an upload is authorized and bounded before its body is read,
then streams to ImportDataSet in 1 MiB chunks (never a body limit of 1 MiB, never JSON-checked);
the service's answers and errors come back in the API's names."""

from __future__ import annotations

import pytest
from copnet.gateway.app import create_app
from copnet.kernel.errors import InvalidArgument
from copnet.reflection.v1 import datasets_pb2

from tests.support import tokens
from tests.unit.gateway_fakes import FakeClients, FakeRpcError, assert_problem, bearer

LIMIT = 8 << 20
UPLOAD = "/api/v1/data-sets?importer=caaspp-student-scores&organization_id=coe&file_name=scores.csv"
MIB = 1 << 20


def data_set(**fields) -> datasets_pb2.DataSet:
    base = {"id": "ds1", "importer": "caaspp-student-scores", "kind": datasets_pb2.DATA_SET_KIND_STUDENT_SCORES,
            "organization_id": "coe", "owner_id": "p1", "file_name": "scores.csv", "source_sha256": "ab" * 32,
            "size_bytes": 10, "status": datasets_pb2.DATA_SET_STATUS_IMPORTING}
    return datasets_pb2.DataSet(**(base | fields))


@pytest.fixture()
def gateway():
    clients = FakeClients()
    clients.fakes["reflection"].replies["ImportDataSet"] = datasets_pb2.ImportDataSetResponse(data_set=data_set())
    app = create_app(tokens.settings(assessment_file_max_bytes=LIMIT), clients=clients)
    app.testing = True
    return clients, app.test_client()


def upload(client, body: bytes, role: str = "data_steward", content_type: str = "text/csv", url: str = UPLOAD):
    return client.post(url, data=body, headers={**bearer(role, "coe"), "Content-Type": content_type})


def test_an_upload_streams_to_the_service_in_chunks_of_one_mib(gateway):
    clients, client = gateway
    body = b"student_id,scale_score\n" + b"1234567890,2500\n" * 200_000  # about 3.2 MB, over the 1 MiB limit of JSON
    answer = upload(client, body)
    assert answer.status_code == 202, answer.get_data(as_text=True)
    assert answer.headers["Location"] == "/api/v1/data-sets/ds1"
    assert answer.get_json()["status"] == "importing"
    [call] = clients.fakes["reflection"].calls
    header, *chunks = call.request
    assert header.header == datasets_pb2.ImportDataSetHeader(
        importer="caaspp-student-scores", organization_id="coe", file_name="scores.csv", size_bytes=len(body))
    assert [len(c.chunk) for c in chunks[:-1]] == [MIB] * (len(chunks) - 1)
    assert b"".join(c.chunk for c in chunks) == body


def test_the_same_file_again_is_200_already_imported_without_a_location(gateway):
    clients, client = gateway
    clients.fakes["reflection"].replies["ImportDataSet"] = datasets_pb2.ImportDataSetResponse(
        data_set=data_set(status=datasets_pb2.DATA_SET_STATUS_READY, already_imported=True))
    answer = upload(client, b"a,b\n1,2\n", content_type="application/octet-stream")
    assert answer.status_code == 200
    assert answer.get_json()["already_imported"] is True
    assert "Location" not in answer.headers


def test_a_role_that_cannot_import_is_refused_before_the_body_is_read(gateway):
    clients, client = gateway
    assert_problem(upload(client, b"x" * (LIMIT + 1), role="state_coordinator"), 403, "ROLE_REQUIRED")
    assert_problem(upload(client, b"x" * 10, role="member"), 403, "ROLE_REQUIRED")
    assert clients.all_calls() == []


def test_a_body_over_the_file_limit_is_413_before_the_service_is_called(gateway):
    clients, client = gateway
    assert_problem(upload(client, b"x" * (LIMIT + 1)), 413, "FILE_TOO_LARGE")
    assert clients.all_calls() == []


def test_other_writes_keep_the_one_mib_json_limit(gateway):
    _clients, client = gateway
    answer = client.post("/api/v1/orgs", data=b'{"name": "' + b"x" * (2 * MIB) + b'"}',
                         headers={**bearer("platform_admin"), "Content-Type": "application/json"})
    assert answer.status_code == 413


def test_a_json_file_is_taken_as_bytes_not_parsed(gateway):
    clients, client = gateway
    answer = upload(client, b'[{"studentUniqueId": "1"}]', content_type="application/json")
    assert answer.status_code == 202
    [call] = clients.fakes["reflection"].calls
    assert call.request[1].chunk == b'[{"studentUniqueId": "1"}]'


def test_the_query_is_checked_before_the_service_is_called(gateway):
    clients, client = gateway
    answer = upload(client, b"a\n", url="/api/v1/data-sets?importer=caaspp-student-scores&file_name=a.csv")
    problem = assert_problem(answer, 422, "VALIDATION_FAILED")
    assert [e["field"] for e in problem["errors"]] == ["organization_id"]
    assert clients.all_calls() == []


@pytest.mark.parametrize(("service_field", "api_field"), [("header.importer", "importer"), ("chunk", "body"),
                                                          ("header.organization_id", "organization_id")])
def test_the_services_field_errors_are_named_as_the_caller_sent_them(gateway, service_field, api_field):
    clients, client = gateway
    clients.fakes["reflection"].replies["ImportDataSet"] = FakeRpcError.of(
        InvalidArgument.for_field(service_field, "is wrong", reason="UNKNOWN_IMPORTER"))
    problem = assert_problem(upload(client, b"a\n"), 422, "UNKNOWN_IMPORTER")
    assert [e["field"] for e in problem["errors"]] == [api_field]


def test_list_get_errors_delete_and_importers_convert_the_services_answers(gateway):
    clients, client = gateway
    fake = clients.fakes["reflection"]
    fake.replies["ListDataSets"] = datasets_pb2.ListDataSetsResponse(data_sets=[data_set()], next_page_token="t")
    fake.replies["GetDataSet"] = datasets_pb2.GetDataSetResponse(data_set=data_set(failure="scores.csv: no rows"))
    fake.replies["DeleteDataSet"] = datasets_pb2.DeleteDataSetResponse(
        data_set=data_set(status=datasets_pb2.DATA_SET_STATUS_DELETING))
    fake.replies["ListDataSetErrors"] = datasets_pb2.ListDataSetErrorsResponse(errors=[datasets_pb2.DataSetRowError(
        file="scores.csv", row=7, field="scale_score", reason="SCALE_SCORE_OUT_OF_RANGE", message="9999")], total=3)
    fake.replies["ListAssessmentImporters"] = datasets_pb2.ListAssessmentImportersResponse(importers=[
        datasets_pb2.AssessmentImporter(key="edfi", title="Ed-Fi", kind=datasets_pb2.DATA_SET_KIND_STUDENT_SCORES,
                                        plugin="edfi")])
    headers = bearer("data_steward", "coe")
    listed = client.get("/api/v1/data-sets?organization_id=coe&kind=student_scores", headers=headers).get_json()
    assert listed["next_page_token"] == "t" and listed["items"][0]["kind"] == "student_scores"
    assert fake.calls[-1].request.kind == datasets_pb2.DATA_SET_KIND_STUDENT_SCORES
    assert client.get("/api/v1/data-sets/ds1", headers=headers).get_json()["failure"] == "scores.csv: no rows"
    assert client.delete("/api/v1/data-sets/ds1", headers=headers).get_json()["status"] == "deleting"
    errors = client.get("/api/v1/data-sets/ds1/errors", headers=headers).get_json()
    assert errors["total"] == 3
    assert errors["items"] == [{"file": "scores.csv", "row": 7, "field": "scale_score",
                                "reason": "SCALE_SCORE_OUT_OF_RANGE", "message": "9999"}]
    assert client.get("/api/v1/assessment-importers", headers=headers).get_json()["items"][0]["key"] == "edfi"


def test_an_unknown_kind_is_422(gateway):
    clients, client = gateway
    answer = client.get("/api/v1/data-sets?kind=grades", headers=bearer("data_steward", "coe"))
    assert_problem(answer, 422, "VALIDATION_FAILED")
    assert clients.all_calls() == []


def test_a_body_of_another_type_is_415_before_it_is_read(gateway):
    clients, client = gateway
    assert_problem(upload(client, b"a=1", content_type="application/x-www-form-urlencoded"), 415,
                   "UNSUPPORTED_MEDIA_TYPE")
    assert clients.all_calls() == []
