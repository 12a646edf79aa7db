"""The gateway's own refusals: every one is problem+json, and none reaches a service."""

from __future__ import annotations

import pytest

from copnet.membership.v1 import membership_pb2
from tests.unit.gateway_fakes import assert_problem, bearer, token

VALID_ORG = {"name": "Sierra County Office", "kind": "county_office", "parent_id": "region-1"}


def test_unknown_route_is_a_404_problem(client):
    assert_problem(client.get("/api/v1/nowhere"), 404)
    assert_problem(client.post("/api/v1/nowhere", data="{"), 404)


def test_wrong_method_is_a_405_problem_with_allow(client):
    response = client.delete("/api/v1/orgs")
    assert_problem(response, 405)
    assert {"GET", "POST"} <= {m.strip() for m in response.headers["Allow"].split(",")}


@pytest.mark.parametrize("raw", ["{", '{"name": "x",}', "", "\xff"])
def test_malformed_json_is_400(client, clients, raw):
    response = client.post("/api/v1/orgs", data=raw, content_type="application/json", headers=bearer())
    assert_problem(response, 400, "MALFORMED_JSON")
    assert clients.all_calls() == []


@pytest.mark.parametrize("raw", ["[]", '"org"', "42", "null", "true"])
def test_a_body_that_is_not_an_object_is_400(client, clients, raw):
    response = client.post("/api/v1/communities", data=raw, content_type="application/json", headers=bearer())
    assert_problem(response, 400, "BODY_NOT_OBJECT")
    assert clients.all_calls() == []


def test_a_body_that_is_not_json_is_415(client, clients):
    response = client.post("/api/v1/orgs", data="name=x", content_type="application/x-www-form-urlencoded",
                           headers=bearer())
    assert_problem(response, 415, "UNSUPPORTED_MEDIA_TYPE")
    assert clients.all_calls() == []


def test_a_body_over_the_limit_is_413(client, clients):
    oversized = '{"name": "' + "x" * (1 << 20) + '", "kind": "district"}'
    response = client.post("/api/v1/orgs", data=oversized, content_type="application/json", headers=bearer())
    assert_problem(response, 413)
    assert clients.all_calls() == []


@pytest.mark.parametrize("body, fields", [
    ({"kind": "district"}, {"name"}),
    ({"name": "x"}, {"kind"}),
    ({}, {"name", "kind"}),
    ({"name": 7, "kind": "district"}, {"name"}),
    ({"name": "x", "kind": "galaxy"}, {"kind"}),
    ({"name": "x", "kind": "district", "colour": "blue"}, {"colour"}),
    ({"name": "", "kind": "district"}, {"name"}),
    ({"name": "x", "kind": "district", "parent_id": ["a"]}, {"parent_id"}),
])
def test_invalid_org_bodies_are_422_naming_each_field(client, clients, body, fields):
    problem = assert_problem(client.post("/api/v1/orgs", json=body, headers=bearer()), 422, "VALIDATION_FAILED")
    assert {error["field"] for error in problem["errors"]} == fields
    assert all(error["message"] for error in problem["errors"])
    assert clients.all_calls() == []


def test_invalid_community_body_is_422(client, clients):
    problem = assert_problem(client.post("/api/v1/communities", json={"name": "PLC", "kind": "book_club"},
                                         headers=bearer()), 422, "VALIDATION_FAILED")
    assert {error["field"] for error in problem["errors"]} == {"kind", "host_organization_id"}
    assert clients.all_calls() == []


@pytest.mark.parametrize("query, field", [
    ("page_size=ten", "page_size"),
    ("page_size=-1", "page_size"),
    ("page_size=1001", "page_size"),
    ("kind=galaxy", "kind"),
    ("sort=name", "sort"),
])
def test_invalid_query_parameters_are_422(client, clients, query, field):
    problem = assert_problem(client.get(f"/api/v1/orgs?{query}"), 422, "VALIDATION_FAILED")
    assert [error["field"] for error in problem["errors"]] == [field]
    assert clients.all_calls() == []


def test_a_write_without_a_token_is_401_before_anything_else(client, clients):
    for path in ("/api/v1/orgs", "/api/v1/communities"):
        response = client.post(path, data="{not json", content_type="application/json")
        assert_problem(response, 401, "TOKEN_REQUIRED")
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert clients.all_calls() == []


@pytest.mark.parametrize("header, reason", [
    ("Bearer not-a-jwt", "TOKEN_INVALID"),
    ("Basic dXNlcjpwYXNz", "TOKEN_INVALID"),
    ("Bearer " + token(ttl_seconds=-60), "TOKEN_EXPIRED"),
])
def test_a_bad_token_is_401_on_reads_and_writes(client, clients, header, reason):
    for response in (client.post("/api/v1/orgs", json=VALID_ORG, headers={"Authorization": header}),
                     client.get("/api/v1/orgs", headers={"Authorization": header})):
        assert_problem(response, 401, reason)
        assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]
    assert clients.all_calls() == []


def test_a_token_signed_with_a_key_the_instance_does_not_list_is_401(client, clients):
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from copnet.kernel import auth, token_keys

    stranger = Ed25519PrivateKey.generate()
    forged = auth.issue_token(auth.Signer(stranger, token_keys.key_id("people", stranger.public_key()), "local"),
                              "mallory", "platform_admin")
    assert_problem(client.get("/api/v1/orgs", headers={"Authorization": f"Bearer {forged}"}), 401, "TOKEN_INVALID")
    assert clients.all_calls() == []


def test_a_token_of_another_regions_instance_is_401(client, clients):
    from tests.support import tokens

    other = tokens.person_token("platform_admin", region="north")
    assert_problem(client.get("/api/v1/orgs", headers={"Authorization": f"Bearer {other}"}), 401, "TOKEN_INVALID")
    assert clients.all_calls() == []


def test_reads_are_anonymous(client, clients):
    clients["membership"].replies["ListOrganizations"] = membership_pb2.ListOrganizationsResponse()
    response = client.get("/api/v1/orgs")
    assert response.status_code == 200
    assert response.get_json() == {"items": [], "next_page_token": ""}
    assert clients["membership"].calls[0].token is None


def test_an_unexpected_exception_is_a_500_problem_without_internals(client, clients):
    clients["membership"].replies["ListOrganizations"] = RuntimeError("mongodb://admin:hunter2@db")
    response = client.get("/api/v1/orgs")
    problem = assert_problem(response, 500)
    assert "hunter2" not in response.get_data(as_text=True)
    assert "RuntimeError" not in problem["detail"]


def test_the_gateway_refuses_to_start_without_the_token_public_keys():
    from copnet.gateway.app import create_app
    from copnet.kernel.settings import ConfigError, load_settings

    with pytest.raises(ConfigError, match="COPNET_TOKEN_PUBLIC_KEYS_FILE"):
        create_app(load_settings(token_public_keys_file=None))


def test_a_write_without_any_body_reaches_validation_instead_of_415(client, clients):
    response = client.post("/api/v1/orgs", headers=bearer())
    assert_problem(response, 422, "VALIDATION_FAILED")
    assert clients.all_calls() == []
