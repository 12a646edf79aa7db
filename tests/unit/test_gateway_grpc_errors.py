"""gRPC status -> HTTP problem mapping, through a route, with a fake client raising real-shaped errors."""

from __future__ import annotations

import grpc
import pytest

from copnet.kernel.call_limits import TooManyConcurrentCalls
from copnet.kernel.errors import (AlreadyExists, DomainError, FailedPrecondition, FieldViolation, InvalidArgument,
                                  NotFound, PermissionDenied, Unauthenticated)
from tests.unit.gateway_fakes import FakeRpcError, assert_problem, bearer

ORG = {"id": "sierra-coe", "name": "Sierra County Office", "kind": "county_office", "parent_id": "region-1"}


def create_org_failing_with(client, clients, error: grpc.RpcError):
    clients["membership"].replies["CreateOrganization"] = error
    return client.post("/api/v1/orgs", json=ORG, headers=bearer())


@pytest.mark.parametrize("error, status", [
    (PermissionDenied("creating an organization needs one of [county_admin]", reason="OUT_OF_SCOPE"), 403),
    (NotFound("no organization 'x'"), 404),
    (AlreadyExists("organization 'sierra-coe' already exists", reason="DUPLICATE_ID"), 409),
    (FailedPrecondition("the organization is archived", reason="ARCHIVED"), 409),
])
def test_domain_errors_keep_their_reason_and_message(client, clients, error: DomainError, status):
    problem = assert_problem(create_org_failing_with(client, clients, FakeRpcError.of(error)), status, error.reason)
    assert problem["detail"] == error.message
    assert "errors" not in problem


def test_invalid_argument_is_422_with_field_violations_in_json_names(client, clients):
    error = InvalidArgument("bad", reason="INVALID_FIELD", fields=[
        FieldViolation("organization_id", "must be 2-63 characters"), FieldViolation("time_zone", "unknown")])
    problem = assert_problem(create_org_failing_with(client, clients, FakeRpcError.of(error)), 422, "INVALID_FIELD")
    assert problem["errors"] == [{"field": "id", "message": "must be 2-63 characters"},
                                 {"field": "time_zone", "message": "unknown"}]


def test_unknown_parent_is_422_naming_parent_id(client, clients):
    error = InvalidArgument.for_field("parent_id", "no organization 'nowhere'", reason="UNKNOWN_PARENT")
    problem = assert_problem(create_org_failing_with(client, clients, FakeRpcError.of(error)), 422, "UNKNOWN_PARENT")
    assert [e["field"] for e in problem["errors"]] == ["parent_id"]


def test_unauthenticated_from_a_service_is_401_with_a_challenge(client, clients):
    error = Unauthenticated("creating an organization needs a bearer token", reason="TOKEN_REQUIRED")
    response = create_org_failing_with(client, clients, FakeRpcError.of(error))
    assert_problem(response, 401, "TOKEN_REQUIRED")
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize("code, status", [
    (grpc.StatusCode.UNAVAILABLE, 503),
    (grpc.StatusCode.DEADLINE_EXCEEDED, 504),
])
def test_unavailable_and_deadline_name_the_service_but_not_its_address(client, clients, code, status):
    error = FakeRpcError(code, "failed to connect to all addresses; last error: 10.0.3.7:50051")
    response = create_org_failing_with(client, clients, error)
    problem = assert_problem(response, status, code.name)
    assert "membership" in problem["detail"]
    assert "10.0.3.7" not in response.get_data(as_text=True)


@pytest.mark.parametrize("code", [grpc.StatusCode.INTERNAL, grpc.StatusCode.UNKNOWN, grpc.StatusCode.DATA_LOSS,
                                  grpc.StatusCode.UNIMPLEMENTED])
def test_anything_else_is_500_without_the_service_message(client, clients, code):
    response = create_org_failing_with(client, clients, FakeRpcError(code, "Traceback: KeyError('code_key')"))
    assert_problem(response, 500)
    assert "code_key" not in response.get_data(as_text=True)


def test_a_plain_rpc_error_without_rich_status_still_maps_by_code(client, clients):
    problem = assert_problem(create_org_failing_with(client, clients, FakeRpcError(grpc.StatusCode.NOT_FOUND,
                                                                                  "gone")), 404, None)
    assert problem["detail"] == "gone"


def test_reads_map_errors_the_same_way(client, clients):
    clients["membership"].replies["GetCommunity"] = FakeRpcError.of(NotFound("no community 'nope'"))
    assert_problem(client.get("/api/v1/communities/nope"), 404, "NOT_FOUND")
    clients["reflection"].replies["ListCommunityCounts"] = FakeRpcError.of(
        InvalidArgument.for_field("page_token", "is not a token this service issued"))
    problem = assert_problem(client.get("/api/v1/reports/community-counts?page_token=zzz"), 422, "INVALID_FIELD")
    assert problem["errors"][0]["field"] == "page_token"



def test_a_caller_with_too_many_calls_in_flight_gets_429_with_the_reason_and_retry_after(client, clients):
    refusal = FakeRpcError.of(TooManyConcurrentCalls("too many calls at once from this caller (at most 8 in flight)"))
    response = create_org_failing_with(client, clients, refusal)
    problem = assert_problem(response, 429, "TOO_MANY_CONCURRENT_CALLS")
    assert "at most 8 in flight" in problem["detail"]
    assert response.headers["Retry-After"] == "1"


def test_a_service_whose_queue_is_full_gets_429_naming_the_service_not_grpcs_text(client, clients):
    response = create_org_failing_with(client, clients, FakeRpcError(grpc.StatusCode.RESOURCE_EXHAUSTED,
                                                                     "Concurrent RPC limit exceeded!"))
    problem = assert_problem(response, 429, "RESOURCE_EXHAUSTED")
    assert "membership" in problem["detail"] and "Concurrent RPC" not in problem["detail"]
    assert response.headers["Retry-After"] == "1"
