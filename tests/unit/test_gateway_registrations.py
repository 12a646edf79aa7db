"""The registration and team routes: what they send membership and how replies become JSON."""

from __future__ import annotations

from datetime import UTC, datetime

from copnet.membership.v1 import membership_pb2
from google.protobuf import timestamp_pb2

from tests.unit.gateway_fakes import assert_problem, bearer

CREATED = datetime(2026, 3, 1, 17, 30, 5, tzinfo=UTC)


def timestamp() -> timestamp_pb2.Timestamp:
    ts = timestamp_pb2.Timestamp()
    ts.FromDatetime(CREATED)
    return ts


def waitlisted() -> membership_pb2.Registration:
    return membership_pb2.Registration(id="r1", community_id="plc", person_id="ana", status=membership_pb2.REGISTRATION_STATUS_WAITLISTED,
                                       waitlist_position=3, registered_by="ana", create_time=timestamp(), sequence=7)


def test_register_sends_the_caller_as_default_and_answers_201_with_location(client, clients):
    clients["membership"].replies["Register"] = membership_pb2.RegisterResponse(registration=waitlisted())
    response = client.post("/api/v1/communities/plc/registrations", json={"acknowledge_commitment": True},
                           headers=bearer("member", "school"))
    assert response.status_code == 201
    assert response.headers["Location"] == "/api/v1/registrations/r1"
    [call] = clients["membership"].calls
    assert call.request == membership_pb2.RegisterRequest(community_id="plc", person_id="", acknowledge_commitment=True)
    body = response.get_json()
    assert body == {"id": "r1", "community_id": "plc", "person_id": "ana", "status": "waitlisted",
                    "waitlist_position": 3, "team_id": None, "registered_by": "ana", "sequence": 7,
                    "created_at": "2026-03-01T17:30:05Z", "promoted_at": None, "cancelled_at": None,
                    "cancelled_by": None, "commitment_acknowledged_at": None, "onboarding_completed_at": None}


def test_a_confirmed_registration_has_a_null_position(client, clients):
    confirmed = membership_pb2.Registration(id="r2", community_id="plc", person_id="bo", status=membership_pb2.REGISTRATION_STATUS_CONFIRMED,
                                            registered_by="bo", create_time=timestamp(), promote_time=timestamp(), sequence=1)
    clients["membership"].replies["GetRegistration"] = membership_pb2.GetRegistrationResponse(registration=confirmed)
    body = client.get("/api/v1/registrations/r2", headers=bearer("member", "school")).get_json()
    assert (body["waitlist_position"], body["promoted_at"]) == (None, "2026-03-01T17:30:05Z")


def test_roster_filters_and_pages(client, clients):
    clients["membership"].replies["ListRegistrations"] = membership_pb2.ListRegistrationsResponse(
        registrations=[waitlisted()], next_page_token="next")
    body = client.get("/api/v1/communities/plc/registrations?status=waitlisted&page_size=5",
                      headers=bearer("county_admin", "county")).get_json()
    assert [r["id"] for r in body["items"]] == ["r1"] and body["next_page_token"] == "next"
    [call] = clients["membership"].calls
    assert call.request == membership_pb2.ListRegistrationsRequest(community_id="plc", page_size=5,
                                                                   status=membership_pb2.REGISTRATION_STATUS_WAITLISTED)
    assert_problem(client.get("/api/v1/communities/plc/registrations?status=gone",
                              headers=bearer("county_admin", "county")), 422, "VALIDATION_FAILED")


def test_cancel_answers_the_registration_and_who_was_promoted(client, clients):
    cancelled = membership_pb2.Registration(id="r0", community_id="plc", person_id="cy", status=membership_pb2.REGISTRATION_STATUS_CANCELLED,
                                            registered_by="cy", create_time=timestamp(), cancel_time=timestamp(),
                                            cancelled_by="cy", sequence=1)
    clients["membership"].replies["CancelRegistration"] = membership_pb2.CancelRegistrationResponse(
        registration=cancelled, promoted=[waitlisted()])
    response = client.post("/api/v1/registrations/r0/cancel", json={}, headers=bearer("member", "school"))
    assert response.status_code == 200
    body = response.get_json()
    assert (body["registration"]["status"], body["registration"]["cancelled_by"]) == ("cancelled", "cy")
    assert [p["id"] for p in body["promoted"]] == ["r1"]
    assert_problem(client.post("/api/v1/registrations/r0/cancel", json={}), 401, "TOKEN_REQUIRED")


def test_team_registration_translates_members_and_points_at_the_team(client, clients):
    team = membership_pb2.Team(id="t1", community_id="plc", kind=membership_pb2.TEAM_KIND_SCHOOL, name="Lakeview", school_id="lakeview",
                               members=[membership_pb2.TeamMember(person_id="ana", role=membership_pb2.TEAM_ROLE_LEAD)], created_by="adm",
                               create_time=timestamp())
    clients["membership"].replies["RegisterTeam"] = membership_pb2.RegisterTeamResponse(team=team, registrations=[waitlisted()])
    response = client.post("/api/v1/communities/plc/team-registrations", headers=bearer("member", "school"), json={
        "team_name": "Lakeview", "school_id": "lakeview", "members": [{"person_id": "ana", "role": "lead"}]})
    assert response.status_code == 201 and response.headers["Location"] == "/api/v1/teams/t1"
    [call] = clients["membership"].calls
    assert list(call.request.members) == [membership_pb2.TeamMemberSpec(person_id="ana", role=membership_pb2.TEAM_ROLE_LEAD)]
    body = response.get_json()
    assert body["team"]["members"] == [{"person_id": "ana", "role": "lead"}]
    assert body["team"]["updated_at"] is None and body["registrations"][0]["waitlist_position"] == 3
    assert_problem(client.post("/api/v1/communities/plc/team-registrations", headers=bearer("member", "school"),
                               json={"team_name": "x", "school_id": "s", "members": []}), 422, "VALIDATION_FAILED")


def test_every_registration_and_team_route_is_documented_and_needs_a_token(client):
    document = client.get("/api/v1/openapi.json").get_json()
    expected = {("/api/v1/communities/{id}/registrations", "post"), ("/api/v1/communities/{id}/registrations", "get"),
                ("/api/v1/people/{id}/registrations", "get"), ("/api/v1/registrations/{id}", "get"),
                ("/api/v1/registrations/{id}/cancel", "post"), ("/api/v1/registrations/{id}/commitment", "post"),
                ("/api/v1/registrations/{id}/onboarding", "post"),
                ("/api/v1/communities/{id}/team-registrations", "post"), ("/api/v1/communities/{id}/teams", "post"),
                ("/api/v1/communities/{id}/teams", "get"), ("/api/v1/teams/{id}", "get"),
                ("/api/v1/teams/{id}/members/{person_id}", "put"), ("/api/v1/teams/{id}/members/{person_id}", "delete")}
    for path, method in expected:
        operation = document["paths"][path][method]
        assert operation["security"] == [{"bearer": []}], (method, path)
    for path in ("/api/v1/communities/{id}/registrations", "/api/v1/communities/{id}/team-registrations",
                 "/api/v1/communities/{id}/teams"):
        assert "Location" in document["paths"][path]["post"]["responses"]["201"]["headers"]
