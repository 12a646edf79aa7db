"""What the gateway refuses before a body, a query or a service matters (issue 11, item 12): bodies
nested too deep, instants that are not RFC 3339 text, URLs too long, numbers no proto can carry,
and callers who lack a token or any role the operation needs."""

from __future__ import annotations

import json

import pytest

from copnet.gateway.request_body import MAX_JSON_DEPTH, nesting_depth
from copnet.gateway.request_line import MAX_URL_BYTES
from copnet.membership.v1 import membership_pb2
from tests.unit.gateway_fakes import assert_problem, bearer


def nested(depth: int, leaf: str = "1") -> str:
    """A JSON value of objects `depth` deep (the outermost counting as one)."""
    return '{"a":' * depth + leaf + "}" * depth


@pytest.mark.parametrize("raw, depth", [
    ("{}", 1), ("[]", 1), ("7", 0), ('{"a": [1, {"b": []}]}', 4),
    ('{"a": "[[[{{{"}', 1), ('{"a": "\\"[[[", "b": ["]]]\\\\"]}', 2),
])
def test_nesting_is_counted_on_the_raw_bytes_without_the_brackets_inside_strings(raw, depth):
    assert nesting_depth(raw.encode()) == depth


def test_a_body_nested_a_thousand_deep_is_refused_before_parsing(client, clients):
    body = '{"enabled": true, "settings": ' + nested(1000) + "}"
    response = client.put("/api/v1/regions/ca-bay-area/plugins/webhook-notify", data=body,
                          content_type="application/json", headers=bearer())
    assert_problem(response, 422, "JSON_TOO_DEEP")
    assert clients.all_calls() == []


def test_the_depth_limit_is_exact(client, clients):
    """Settings at the limit reach the service; one level more does not."""
    def put(depth: int):
        settings = nested(depth - 2)  # inside the body object and its `settings` object
        return client.put("/api/v1/regions/ca-bay-area/plugins/webhook-notify",
                          data=f'{{"enabled": true, "settings": {{"x": {settings}}}}}',
                          content_type="application/json", headers=bearer())

    assert_problem(put(MAX_JSON_DEPTH + 1), 422, "JSON_TOO_DEEP")
    assert clients.all_calls() == []
    put(MAX_JSON_DEPTH)
    assert [call.method for call in clients.all_calls()] == ["PutPluginConfig"]


@pytest.mark.parametrize("raw", ['{"name": "\\ud800", "kind": "district"}', '{"name": "x", "kind": NaN}'])
def test_json_no_service_could_store_is_malformed(client, clients, raw):
    response = client.post("/api/v1/orgs", data=raw, content_type="application/json", headers=bearer())
    assert_problem(response, 400, "MALFORMED_JSON")
    assert clients.all_calls() == []


@pytest.mark.parametrize("method, url, body", [
    ("POST", "/api/v1/reminders/run", {"now": 0}),
    ("POST", "/api/v1/reminders/run", {"now": -2511}),
    ("POST", "/api/v1/reminders/run", {"now": "2026-03-01 17:30:00Z"}),
    ("POST", "/api/v1/reminders/run", {"now": "2026-03-01T17:30:00"}),
    ("PATCH", "/api/v1/milestones/m1", {"time": 0}),
    ("POST", "/api/v1/programs/p1/milestones", {"kind": "custom", "title": "t", "time": 1.5}),
    ("GET", "/api/v1/communities/c1/occurrences?start=0.5", None),
    ("GET", "/api/v1/people/p1/occurrences?end=1700000000", None),
])
def test_an_instant_must_be_rfc_3339_text(client, clients, method, url, body):
    response = client.open(url, method=method, json=body, headers=bearer())
    problem = assert_problem(response, 422, "VALIDATION_FAILED")
    assert "RFC 3339" in json.dumps(problem)
    assert clients.all_calls() == []


@pytest.mark.parametrize("moment", ["0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00"])
def test_an_instant_utc_cannot_hold_reaches_the_service_as_out_of_range_not_a_500(client, clients, moment):
    """The service refuses it (INSTANT_OUT_OF_RANGE, naming the field) as it refuses any far date."""
    client.post("/api/v1/reminders/run", json={"now": moment}, headers=bearer())
    (call,) = clients.all_calls()
    assert call.request.now.seconds == -62135596800


def test_an_rfc_3339_instant_with_an_offset_is_taken(client, clients):
    client.post("/api/v1/reminders/run", json={"now": "2026-03-01T17:30:00.5+01:00"}, headers=bearer())
    (call,) = clients.all_calls()
    assert call.request.now.ToJsonString() == "2026-03-01T16:30:00.500Z"


def test_a_version_past_int64_is_refused_as_invalid_not_a_500(client, clients):
    response = client.put("/api/v1/regions/ca-bay-area/plugins/webhook-notify",
                          json={"enabled": True, "expected_version": 2**63}, headers=bearer())
    assert_problem(response, 422, "VALIDATION_FAILED")
    assert clients.all_calls() == []


@pytest.mark.parametrize("body", [{"enabled": True, "expected_version": 2**64}, {"enabled": "nonsense"}, {}])
def test_a_caller_without_the_role_is_refused_whatever_the_body(client, clients, body):
    response = client.put("/api/v1/regions/ca-bay-area/plugins/webhook-notify", json=body,
                          headers=bearer("member", "lakeview-ms"))
    assert_problem(response, 403, "ROLE_REQUIRED")
    assert clients.all_calls() == []


def test_the_roles_an_operation_needs_are_in_the_document(client):
    document = client.get("/api/v1/openapi.json").get_json()
    put = document["paths"]["/api/v1/regions/{region}/plugins/{name}"]["put"]
    assert put["x-copnet-roles"] == ["platform_admin", "regional_lead"]
    assert "x-copnet-roles" not in document["paths"]["/api/v1/people/{id}"]["patch"]


def test_a_read_that_needs_a_token_is_401_before_its_query_is_checked(client, clients):
    response = client.get("/api/v1/sessions/s1/occurrences?start=2000-01-01T00:00:00Z&end=2000-01-01T00:00:00Z")
    assert_problem(response, 401, "TOKEN_REQUIRED")
    assert response.headers["WWW-Authenticate"] == 'Bearer realm="copnet"'
    assert clients.all_calls() == []


def test_a_public_read_needs_no_token(client, clients):
    clients.fakes["membership"].replies["ListCommunities"] = membership_pb2.ListCommunitiesResponse()
    assert client.get("/api/v1/communities").status_code == 200


@pytest.mark.parametrize("url", ["/api/v1/communities?status=" + "x" * MAX_URL_BYTES,
                                 "/api/v1/orgs/" + "a" * MAX_URL_BYTES, "/nowhere/" + "a" * MAX_URL_BYTES])
def test_a_url_too_long_is_a_414_problem_whoever_asks(client, clients, url):
    assert_problem(client.get(url), 414, "URI_TOO_LONG")
    assert clients.all_calls() == []
