"""What each route sends to which service and how it shapes the reply (fake clients)."""

from __future__ import annotations

from datetime import UTC, datetime

import grpc
import pytest
from google.protobuf import timestamp_pb2

from copnet.kernel.errors import NotFound
from copnet.membership.v1 import membership_pb2
from copnet.reflection.v1 import reflection_pb2
from copnet.resources.v1 import resources_pb2
from copnet.scheduling.v1 import scheduling_pb2
from tests.unit.gateway_fakes import DEADLINE_SECONDS, FakeRpcError, bearer

CREATED = datetime(2026, 3, 1, 17, 30, 5, tzinfo=UTC)
TRACEPARENT = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"


def timestamp() -> timestamp_pb2.Timestamp:
    ts = timestamp_pb2.Timestamp()
    ts.FromDatetime(CREATED)
    return ts


def district() -> membership_pb2.Organization:
    return membership_pb2.Organization(id="eastbay-usd", name="East Bay USD", kind=membership_pb2.ORGANIZATION_KIND_DISTRICT,
                                       parent_id="alameda-coe", ancestor_ids=["ca", "bay", "alameda-coe"],
                                       time_zone="America/Los_Angeles", create_time=timestamp())


def plc() -> membership_pb2.Community:
    return membership_pb2.Community(id="lakeview-plc", name="Lakeview PLC", kind=membership_pb2.COMMUNITY_KIND_PLC, description="Grade 6",
                                    host_organization_id="lakeview-ms", county_office_id="alameda-coe", create_time=timestamp(),
                                    status=membership_pb2.COMMUNITY_STATUS_DRAFT)


def test_create_organization_translates_the_body_and_answers_201_with_location(client, clients):
    clients["membership"].replies["CreateOrganization"] = membership_pb2.CreateOrganizationResponse(organization=district())
    headers = {**bearer("county_admin", "alameda-coe"), "traceparent": TRACEPARENT}
    response = client.post("/api/v1/orgs", headers=headers, json={
        "id": "eastbay-usd", "name": "East Bay USD", "kind": "district", "parent_id": "alameda-coe"})

    assert response.status_code == 201
    assert response.headers["Location"].endswith("/api/v1/orgs/eastbay-usd")
    assert response.get_json() == {
        "id": "eastbay-usd", "name": "East Bay USD", "kind": "district", "parent_id": "alameda-coe",
        "ancestor_ids": ["ca", "bay", "alameda-coe"], "code": None, "time_zone": "America/Los_Angeles",
        "created_at": "2026-03-01T17:30:05Z", "region_id": None, "network_ids": [], "parent_history": [],
        "updated_at": None}
    [call] = clients["membership"].calls
    assert call.method == "CreateOrganization"
    assert call.request == membership_pb2.CreateOrganizationRequest(organization_id="eastbay-usd", name="East Bay USD",
                                                                    kind=membership_pb2.ORGANIZATION_KIND_DISTRICT, parent_id="alameda-coe")
    assert call.token == headers["Authorization"].removeprefix("Bearer ")
    assert call.traceparent == TRACEPARENT
    assert call.timeout == DEADLINE_SECONDS  # every call has a deadline: the default one here


def test_a_root_organization_has_null_parent_and_its_code(client, clients):
    state = membership_pb2.Organization(id="ca", name="California", kind=membership_pb2.ORGANIZATION_KIND_STATE, code="CA",
                                        time_zone="America/Los_Angeles", create_time=timestamp())
    clients["membership"].replies["GetOrganization"] = membership_pb2.GetOrganizationResponse(organization=state)
    body = client.get("/api/v1/orgs/ca").get_json()
    assert (body["parent_id"], body["ancestor_ids"], body["code"], body["kind"]) == (None, [], "CA", "state")
    assert clients["membership"].calls[0].request == membership_pb2.GetOrganizationRequest(id="ca")


def test_list_organizations_passes_paging_and_filters(client, clients):
    clients["membership"].replies["ListOrganizations"] = membership_pb2.ListOrganizationsResponse(
        organizations=[district()], next_page_token="t2")
    body = client.get("/api/v1/orgs?page_size=1&page_token=t1&parent_id=alameda-coe&kind=district").get_json()
    assert [item["id"] for item in body["items"]] == ["eastbay-usd"]
    assert body["next_page_token"] == "t2"
    assert clients["membership"].calls[0].request == membership_pb2.ListOrganizationsRequest(
        page_size=1, page_token="t1", parent_id="alameda-coe", kind=membership_pb2.ORGANIZATION_KIND_DISTRICT)


def test_create_community_answers_201_with_no_calendar_or_library_yet(client, clients):
    clients["membership"].replies["CreateCommunity"] = membership_pb2.CreateCommunityResponse(community=plc())
    response = client.post("/api/v1/communities", headers=bearer(), json={
        "id": "lakeview-plc", "name": "Lakeview PLC", "kind": "plc", "host_organization_id": "lakeview-ms"})
    assert response.status_code == 201
    assert response.headers["Location"].endswith("/api/v1/communities/lakeview-plc")
    body = response.get_json()
    assert body["kind"] == "plc" and body["county_office_id"] == "alameda-coe"
    assert body["calendar_id"] is None and body["library_id"] is None
    assert clients["membership"].calls[0].request.kind == membership_pb2.COMMUNITY_KIND_PLC


def test_get_community_adds_calendar_and_library_ids(client, clients):
    clients["membership"].replies["GetCommunity"] = membership_pb2.GetCommunityResponse(community=plc())
    clients["scheduling"].replies["GetCalendar"] = scheduling_pb2.GetCalendarResponse(calendar=scheduling_pb2.Calendar(id="cal-1"))
    clients["resources"].replies["GetLibrary"] = resources_pb2.GetLibraryResponse(library=resources_pb2.Library(id="lib-1"))
    response = client.get("/api/v1/communities/lakeview-plc", headers={"traceparent": TRACEPARENT})
    body = response.get_json()
    assert (body["calendar_id"], body["library_id"]) == ("cal-1", "lib-1")
    assert clients["scheduling"].calls[0].request == scheduling_pb2.GetCalendarRequest(community_id="lakeview-plc")
    assert clients["resources"].calls[0].request == resources_pb2.GetLibraryRequest(community_id="lakeview-plc")
    # The lookups run on other threads and still carry the caller's trace.
    assert clients["scheduling"].calls[0].traceparent == TRACEPARENT
    assert clients["resources"].calls[0].traceparent == TRACEPARENT


@pytest.mark.parametrize("calendar_error", [
    FakeRpcError.of(NotFound("no calendar")),
    FakeRpcError(grpc.StatusCode.UNAVAILABLE, "connection refused"),
    FakeRpcError(grpc.StatusCode.DEADLINE_EXCEEDED, "deadline"),
])
def test_get_community_succeeds_without_a_calendar(client, clients, calendar_error):
    clients["membership"].replies["GetCommunity"] = membership_pb2.GetCommunityResponse(community=plc())
    clients["scheduling"].replies["GetCalendar"] = calendar_error
    clients["resources"].replies["GetLibrary"] = resources_pb2.GetLibraryResponse(library=resources_pb2.Library(id="lib-1"))
    response = client.get("/api/v1/communities/lakeview-plc")
    assert response.status_code == 200
    assert (response.get_json()["calendar_id"], response.get_json()["library_id"]) == (None, "lib-1")


def test_list_communities_is_one_call_per_page(client, clients):
    clients["membership"].replies["ListCommunities"] = membership_pb2.ListCommunitiesResponse(communities=[plc(), plc()])
    body = client.get("/api/v1/communities?host_organization_id=lakeview-ms&page_size=2").get_json()
    assert len(body["items"]) == 2 and body["next_page_token"] == ""
    assert "calendar_id" not in body["items"][0]
    assert [c.method for c in clients.all_calls()] == ["ListCommunities"]
    assert clients["membership"].calls[0].request == membership_pb2.ListCommunitiesRequest(
        page_size=2, host_organization_id="lakeview-ms")


def test_session_types(client, clients):
    clients["scheduling"].replies["ListSessionTypes"] = scheduling_pb2.ListSessionTypesResponse(session_types=[
        scheduling_pb2.SessionType(key="lesson_study", title="Lesson study", description="Plan, teach, observe",
                                   default_duration_minutes=90, plugin="core-session-types",
                                   fields_schema_json='{"properties": {"grade": {"type": "string"}}, "type": "object"}',
                                   preparation_prompts=["Pick a task"], reflection_prompts=["What did students say?"])])
    assert client.get("/api/v1/session-types").get_json() == {"items": [{
        "key": "lesson_study", "title": "Lesson study", "description": "Plan, teach, observe",
        "default_duration_minutes": 90, "plugin": "core-session-types",
        "fields": {"type": "object", "properties": {"grade": {"type": "string"}}},
        "preparation_prompts": ["Pick a task"], "reflection_prompts": ["What did students say?"]}]}
    assert clients["scheduling"].calls[0].request == scheduling_pb2.ListSessionTypesRequest()


def test_session_types_for_a_community(client, clients):
    clients["scheduling"].replies["ListSessionTypes"] = scheduling_pb2.ListSessionTypesResponse()
    assert client.get("/api/v1/session-types?community_id=c-7").get_json() == {"items": []}
    assert clients["scheduling"].calls[0].request == scheduling_pb2.ListSessionTypesRequest(community_id="c-7")


def test_community_count_reports(client, clients):
    clients["reflection"].replies["ListCommunityCounts"] = reflection_pb2.ListCommunityCountsResponse(
        community_counts=[reflection_pb2.CommunityCount(county_office_id="alameda-coe", communities=3)], next_page_token="n")
    clients["reflection"].replies["GetCommunityCount"] = reflection_pb2.GetCommunityCountResponse(
        community_count=reflection_pb2.CommunityCount(county_office_id="alameda-coe", communities=3))
    assert client.get("/api/v1/reports/community-counts?page_size=1").get_json() == {
        "items": [{"county_office_id": "alameda-coe", "communities": 3}], "next_page_token": "n"}
    assert clients["reflection"].calls[0].request == reflection_pb2.ListCommunityCountsRequest(page_size=1)
    assert client.get("/api/v1/reports/community-counts/alameda-coe").get_json() == {
        "county_office_id": "alameda-coe", "communities": 3}
    assert clients["reflection"].calls[1].request == reflection_pb2.GetCommunityCountRequest(county_office_id="alameda-coe")


def test_timestamps_are_rfc3339_utc_in_milliseconds_like_stored_ones(client, clients):
    org = district()
    org.create_time.FromDatetime(datetime(2026, 3, 1, 17, 30, 5, 123456, tzinfo=UTC))
    clients["membership"].replies["GetOrganization"] = membership_pb2.GetOrganizationResponse(organization=org)
    assert client.get("/api/v1/orgs/eastbay-usd").get_json()["created_at"] == "2026-03-01T17:30:05.123000Z"
