"""What the program, community and proposal routes send to membership and how they shape replies (fakes)."""

from __future__ import annotations

from datetime import UTC, datetime

from google.protobuf import timestamp_pb2

from copnet.kernel.errors import NotFound
from copnet.membership.v1 import membership_pb2
from tests.unit.gateway_fakes import FakeRpcError, bearer

CREATED = datetime(2026, 3, 1, 17, 30, 5, tzinfo=UTC)


def timestamp(moment: datetime = CREATED) -> timestamp_pb2.Timestamp:
    result = timestamp_pb2.Timestamp()
    result.FromDatetime(moment)
    return result


def community(**fields) -> membership_pb2.Community:
    return membership_pb2.Community(**{"id": "c1", "name": "PLC", "kind": membership_pb2.COMMUNITY_KIND_PLC, "host_organization_id": "s1",
                                       "status": membership_pb2.COMMUNITY_STATUS_OPEN, "create_time": timestamp(), **fields})


def test_patch_sends_only_what_the_body_has_and_flags_whole_lists(client, clients):
    clients["membership"].replies["UpdateCommunity"] = membership_pb2.UpdateCommunityResponse(community=community())
    response = client.patch("/api/v1/communities/c1", headers=bearer(),
                            json={"capacity": 30, "grade_bands": ["K-2"], "facilitator_ids": []})
    assert response.status_code == 200, response.get_json()
    request = clients["membership"].calls[0].request
    assert request == membership_pb2.UpdateCommunityRequest(id="c1", capacity=30, set_grade_bands=True,
                                                            grade_bands=[membership_pb2.GRADE_BAND_K_2], set_facilitator_ids=True)
    assert not request.HasField("name") and not request.set_team_composition
    assert response.get_json()["promoted"] == []


def test_the_community_json_carries_seats_and_nulls_for_empty_strings(client, clients):
    clients["membership"].replies["GetCommunity"] = membership_pb2.GetCommunityResponse(community=community(
        capacity=10, confirmed_count=10, waitlisted_count=4, update_time=timestamp()))
    missing = FakeRpcError.of(NotFound("not made yet"))
    clients["scheduling"].replies["GetCalendar"] = clients["resources"].replies["GetLibrary"] = missing
    body = client.get("/api/v1/communities/c1").get_json()
    assert body["seats"] == {"capacity": 10, "confirmed": 10, "waitlisted": 4, "available": 0}
    assert (body["program_id"], body["region_id"], body["signup_window"], body["status"]) == (None, None, None, "open")
    assert body["updated_at"] == "2026-03-01T17:30:05Z"


def test_status_change_and_list_filters(client, clients):
    clients["membership"].replies["ChangeCommunityStatus"] = membership_pb2.ChangeCommunityStatusResponse(community=community())
    assert client.post("/api/v1/communities/c1/status", headers=bearer(), json={"status": "open"}).status_code == 200
    assert clients["membership"].calls[0].request == membership_pb2.ChangeCommunityStatusRequest(
        id="c1", status=membership_pb2.COMMUNITY_STATUS_OPEN)
    clients["membership"].replies["ListCommunities"] = membership_pb2.ListCommunitiesResponse(communities=[community()])
    client.get("/api/v1/communities?program_id=p1&status=active&kind=math_team&region_id=r1")
    assert clients["membership"].calls[1].request == membership_pb2.ListCommunitiesRequest(
        program_id="p1", status=membership_pb2.COMMUNITY_STATUS_ACTIVE, kind=membership_pb2.COMMUNITY_KIND_MATH_TEAM, region_id="r1")


def test_an_unknown_status_is_refused_before_any_call(client, clients):
    response = client.post("/api/v1/communities/c1/status", headers=bearer(), json={"status": "paused"})
    assert response.status_code == 422
    assert clients.all_calls() == []


def test_proposal_call_and_program_json(client, clients):
    program = membership_pb2.Program(id="p1", name="CoP", owner_organization_id="r1", program_year="2026-27",
                                     create_time=timestamp(), proposal_call=membership_pb2.ProposalCall(
                              open_time=timestamp(), due_time=timestamp(datetime(2026, 4, 1, tzinfo=UTC))))
    clients["membership"].replies["OpenProposalCall"] = membership_pb2.OpenProposalCallResponse(program=program)
    body = client.put("/api/v1/programs/p1/proposal-call", headers=bearer(),
                      json={"due_at": "2026-04-01T00:00:00+00:00"}).get_json()
    assert body["proposal_call"] == {"opened_at": "2026-03-01T17:30:05Z", "due_at": "2026-04-01T00:00:00Z"}
    assert body["updated_at"] is None
    request = clients["membership"].calls[0].request
    assert (request.program_id, request.due_time.ToDatetime(tzinfo=UTC)) == ("p1", datetime(2026, 4, 1, tzinfo=UTC))


def test_a_due_date_without_a_time_zone_is_refused(client, clients):
    response = client.put("/api/v1/programs/p1/proposal-call", headers=bearer(), json={"due_at": "2026-04-01T00:00:00"})
    assert response.status_code == 422
    assert clients.all_calls() == []


def test_accepting_answers_the_proposal_and_its_community(client, clients):
    proposal = membership_pb2.Proposal(id="pr1", program_id="p1", proposer_id="ana", title="PLC", requested_capacity=20,
                                       kind=membership_pb2.COMMUNITY_KIND_PLC, host_organization_id="s1", status=membership_pb2.PROPOSAL_STATUS_ACCEPTED,
                                       community_id="c1", stipend_cents=5000, stipend_currency="USD", create_time=timestamp(),
                                       decision_time=timestamp())
    clients["membership"].replies["AcceptProposal"] = membership_pb2.AcceptProposalResponse(proposal=proposal,
                                                                                            community=community())
    body = client.post("/api/v1/proposals/pr1/accept", headers=bearer(), json={"stipend_cents": 5000}).get_json()
    assert (body["proposal"]["community_id"], body["proposal"]["decision_note"], body["community"]["id"]) == (
        "c1", None, "c1")
    assert clients["membership"].calls[0].request == membership_pb2.AcceptProposalRequest(id="pr1", stipend_cents=5000)
