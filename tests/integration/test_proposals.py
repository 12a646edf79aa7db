"""Facilitator proposals over real gRPC and the real gateway: the call, the rules, who reads what,
and acceptance creating the community, the stipend and the facilitator role all at once."""

from __future__ import annotations

import datetime as dt

import grpc
import pymongo
import pytest
from google.protobuf import timestamp_pb2

from copnet.kernel.errors import details_of
from copnet.membership.v1 import membership_pb2
from copnet.scheduling.v1 import scheduling_pb2
from tests.integration import http
from tests.integration.jetstream_events import wait_for_types

pytestmark = pytest.mark.integration

TZ = "America/Los_Angeles"
PROPOSER, OTHER = "pp-proposer", "pp-other"


@pytest.fixture(scope="module")
def tree(services):
    """state > north (county > district > school) and south; programs owned by north: one with an
    open call (pp-open), one without (pp-nocall), one whose call has lapsed (pp-lapsed)."""
    admin = services.token("platform_admin")
    for org_id, kind, parent in (("pp-state", membership_pb2.ORGANIZATION_KIND_STATE, ""),
                                 ("pp-north", membership_pb2.ORGANIZATION_KIND_REGION, "pp-state"),
                                 ("pp-south", membership_pb2.ORGANIZATION_KIND_REGION, "pp-state"),
                                 ("pp-county", membership_pb2.ORGANIZATION_KIND_COUNTY_OFFICE, "pp-north"),
                                 ("pp-district", membership_pb2.ORGANIZATION_KIND_DISTRICT, "pp-county"),
                                 ("pp-school", membership_pb2.ORGANIZATION_KIND_SCHOOL, "pp-district"),
                                 ("pp-south-county", membership_pb2.ORGANIZATION_KIND_COUNTY_OFFICE, "pp-south")):
        services.membership(admin).CreateOrganization(membership_pb2.CreateOrganizationRequest(
            organization_id=org_id, name=org_id, kind=kind, parent_id=parent, time_zone=TZ if not parent else ""))
    for person_id in (PROPOSER, OTHER):
        services.membership(admin).CreatePerson(membership_pb2.CreatePersonRequest(
            person_id=person_id, name=person_id, email=f"{person_id}@example.org",
            affiliations=[membership_pb2.Affiliation(organization_id="pp-school", position=membership_pb2.POSITION_SPECIALIST)]))
    for program_id in ("pp-open", "pp-nocall", "pp-lapsed"):
        services.membership(admin).CreateProgram(membership_pb2.CreateProgramRequest(
            program_id=program_id, name=program_id, owner_organization_id="pp-north", program_year="2026-27"))
    services.membership(admin).OpenProposalCall(membership_pb2.OpenProposalCallRequest(program_id="pp-open", due_time=stamp(days=20)))
    # A call that has lapsed: dated in the past on the program's timeline (opening a call in
    # membership takes only future due dates), which membership then applies.
    for kind, days in ((scheduling_pb2.MILESTONE_KIND_CALL_OPENS, -2), (scheduling_pb2.MILESTONE_KIND_PROPOSALS_DUE, -1 / 1440)):
        services.scheduling(admin).CreateMilestone(scheduling_pb2.CreateMilestoneRequest(
            program_id="pp-lapsed", kind=kind, time=stamp(days=days)))
    services.wait_for(lambda: services.membership(admin).GetProgram(membership_pb2.GetProgramRequest(id="pp-lapsed")).program.HasField(
        "proposal_call"), timeout=20, what="pp-lapsed's call from its timeline")
    return services


def rpc_error(rpc, request):
    with pytest.raises(grpc.RpcError) as raised:
        rpc(request)
    return details_of(raised.value)


def stamp(days: float) -> timestamp_pb2.Timestamp:
    result = timestamp_pb2.Timestamp()
    result.FromDatetime(dt.datetime.now(dt.UTC) + dt.timedelta(days=days))
    return result


def person_token(services, person_id: str = PROPOSER) -> str:
    return services.token("member", "pp-school", person=person_id)


def lead(services, region: str = "pp-north") -> str:
    return services.token("regional_lead", region, person=f"lead-{region}")


def proposal_request(**fields) -> membership_pb2.SubmitProposalRequest:
    return membership_pb2.SubmitProposalRequest(**{
        "program_id": "pp-open", "title": "Fraction talks", "focus": "Fractions", "audience": "Grades 3-5 teachers",
        "plan": "Six sessions", "requested_capacity": 20, "kind": membership_pb2.COMMUNITY_KIND_PLC,
        "host_organization_id": "pp-district", **fields})


def submit(services, person_id: str = PROPOSER, **fields) -> membership_pb2.Proposal:
    return services.membership(person_token(services, person_id)).SubmitProposal(proposal_request(**fields)).proposal


def community_ids(services) -> set[str]:
    with pymongo.MongoClient(services.mongodb_uri) as client:
        return {doc["_id"] for doc in client[services.settings.database_name("membership")].communities.find(
            {"program_id": "pp-open"}, {"_id": 1})}


def facilitator_grants(services, person_id: str = PROPOSER) -> list[tuple[int, str]]:
    person = services.membership(services.token("platform_admin")).GetPerson(membership_pb2.GetPersonRequest(id=person_id)).person
    return [(grant.organization_id, grant.granted_by) for grant in person.roles if grant.role == membership_pb2.ROLE_FACILITATOR]


# -- submitting ---------------------------------------------------------------------------------
def test_a_person_submits_while_the_call_is_open(tree):
    proposal = submit(tree)
    assert (proposal.proposer_id, proposal.status, proposal.title, proposal.requested_capacity) == (
        PROPOSER, membership_pb2.PROPOSAL_STATUS_SUBMITTED, "Fraction talks", 20)
    assert (proposal.community_id, proposal.stipend_cents, proposal.HasField("decision_time")) == ("", 0, False)
    [event] = wait_for_types(tree, "membership.proposal.*", proposal.id, ["copnet.membership.proposal.created"])
    assert event.data["changed_by"] == PROPOSER
    # The program's scope: plugins enabled for its region may react to the proposal.
    assert event.scope == ("pp-state", "pp-north")


@pytest.mark.parametrize(("program_id", "reason"), [("pp-nocall", "NO_PROPOSAL_CALL"),
                                                    ("pp-lapsed", "PROPOSALS_CLOSED")])
def test_no_proposal_outside_an_open_call(tree, program_id, reason):
    error = rpc_error(tree.membership(person_token(tree)).SubmitProposal, proposal_request(program_id=program_id))
    assert (error.code, error.reason) == (grpc.StatusCode.FAILED_PRECONDITION, reason)


def test_the_caller_needs_a_person_record(tree):
    error = rpc_error(tree.membership(person_token(tree, "pp-stranger")).SubmitProposal, proposal_request())
    assert (error.code, error.reason) == (grpc.StatusCode.FAILED_PRECONDITION, "UNKNOWN_PERSON")
    assert rpc_error(tree.membership().SubmitProposal, proposal_request()).code == grpc.StatusCode.UNAUTHENTICATED
    assert rpc_error(tree.membership(person_token(tree)).SubmitProposal, proposal_request(program_id="pp-none")).code == grpc.StatusCode.NOT_FOUND


@pytest.mark.parametrize(("fields", "field", "reason"), [
    ({"title": " "}, "title", "INVALID_FIELD"),
    ({"requested_capacity": 0}, "requested_capacity", "CAPACITY_NOT_POSITIVE"),
    ({"requested_capacity": -3}, "requested_capacity", "CAPACITY_NOT_POSITIVE"),
    ({"kind": 0}, "kind", "INVALID_FIELD"),
    ({"host_organization_id": "pp-nowhere"}, "host_organization_id", "UNKNOWN_ORGANIZATION"),
    ({"host_organization_id": "pp-south-county"}, "host_organization_id", "HOST_OUTSIDE_PROGRAM"),
])
def test_bad_proposals_are_refused_naming_the_field(tree, fields, field, reason):
    error = rpc_error(tree.membership(person_token(tree)).SubmitProposal, proposal_request(**fields))
    assert error.code == grpc.StatusCode.INVALID_ARGUMENT
    assert (error.reason, [f.field for f in error.fields]) == (reason, [field])


# -- reading ------------------------------------------------------------------------------------
def test_the_proposer_and_program_managers_read_a_proposal_nobody_else_does(tree):
    proposal = submit(tree, title="Readable")
    request = membership_pb2.GetProposalRequest(id=proposal.id)
    assert tree.membership(person_token(tree)).GetProposal(request).proposal == proposal
    assert tree.membership(lead(tree)).GetProposal(request).proposal == proposal
    for token in (person_token(tree, OTHER), lead(tree, "pp-south"), tree.token("county_admin", "pp-county")):
        assert rpc_error(tree.membership(token).GetProposal, request).code == grpc.StatusCode.PERMISSION_DENIED
    assert rpc_error(tree.membership().GetProposal, request).code == grpc.StatusCode.UNAUTHENTICATED


def test_managers_list_every_proposal_others_only_their_own(tree):
    mine, theirs = submit(tree, title="Mine"), submit(tree, OTHER, title="Theirs")

    def listed(token, **filters) -> set[str]:
        reply = tree.membership(token).ListProposals(membership_pb2.ListProposalsRequest(program_id="pp-open", page_size=1000, **filters))
        return {p.id for p in reply.proposals}

    everything = listed(lead(tree))
    assert {mine.id, theirs.id} <= everything
    assert theirs.id not in listed(person_token(tree)) and mine.id in listed(person_token(tree))
    assert listed(person_token(tree, OTHER)) <= everything and mine.id not in listed(person_token(tree, OTHER))
    assert mine.id not in listed(lead(tree, "pp-south"))
    assert mine.id not in listed(lead(tree), status=membership_pb2.PROPOSAL_STATUS_DECLINED)


# -- deciding -----------------------------------------------------------------------------------
def test_accepting_creates_the_community_records_the_stipend_and_grants_the_role_at_once(tree):
    proposal = submit(tree, title="Ratio routines", focus="Ratios", requested_capacity=18,
                      kind=membership_pb2.COMMUNITY_KIND_LESSON_STUDY, host_organization_id="pp-school")
    reply = tree.membership(lead(tree)).AcceptProposal(membership_pb2.AcceptProposalRequest(id=proposal.id, stipend_cents=150000,
                                                                 community_id="pp-ratio"))
    accepted, community = reply.proposal, reply.community
    assert (accepted.status, accepted.community_id, accepted.stipend_cents, accepted.stipend_currency,
            accepted.decided_by) == (membership_pb2.PROPOSAL_STATUS_ACCEPTED, "pp-ratio", 150000, "USD", "lead-pp-north")
    assert accepted.HasField("decision_time")
    assert (community.id, community.name, community.kind, community.focus, community.host_organization_id,
            community.program_id, community.capacity, list(community.facilitator_ids), community.status) == (
        "pp-ratio", "Ratio routines", membership_pb2.COMMUNITY_KIND_LESSON_STUDY, "Ratios", "pp-school", "pp-open", 18,
        [PROPOSER], membership_pb2.COMMUNITY_STATUS_DRAFT)
    assert tree.membership().GetCommunity(membership_pb2.GetCommunityRequest(id="pp-ratio")).community == community
    assert tree.membership(person_token(tree)).GetProposal(membership_pb2.GetProposalRequest(id=proposal.id)).proposal == accepted
    assert ("pp-school", "lead-pp-north") in facilitator_grants(tree)

    wait_for_types(tree, "membership.proposal.*", proposal.id,
                   ["copnet.membership.proposal.created", "copnet.membership.proposal.accepted"])
    [created] = wait_for_types(tree, "membership.community.*", "pp-ratio", ["copnet.membership.community.created"])
    assert (created.data["created_by"], created.data["community"]["facilitator_ids"]) == ("lead-pp-north",
                                                                                         [PROPOSER])
    granted = [e for e in wait_for_types(tree, "membership.person.*", PROPOSER,
                                         ["copnet.membership.person.created", "copnet.membership.person.role_granted"])
               if e.type.endswith("role_granted")]
    assert granted[0].data["changed_by"] == "lead-pp-north"


def test_a_second_acceptance_at_the_same_host_grants_no_second_role(tree):
    first, second = submit(tree, OTHER, title="One"), submit(tree, OTHER, title="Two")
    for proposal in (first, second):
        tree.membership(lead(tree)).AcceptProposal(membership_pb2.AcceptProposalRequest(id=proposal.id, stipend_currency="EUR"))
    assert facilitator_grants(tree, OTHER) == [("pp-district", "lead-pp-north")]


def test_a_decided_proposal_cannot_be_decided_again(tree):
    accepted, declined = submit(tree, title="Accepted once"), submit(tree, title="Declined once")
    tree.membership(lead(tree)).AcceptProposal(membership_pb2.AcceptProposalRequest(id=accepted.id))
    reply = tree.membership(lead(tree)).DeclineProposal(membership_pb2.DeclineProposalRequest(id=declined.id, note="Overlaps another")).proposal
    assert (reply.status, reply.decision_note, reply.community_id) == (membership_pb2.PROPOSAL_STATUS_DECLINED, "Overlaps another",
                                                                       "")
    before = community_ids(tree)
    for method, proposal in (("AcceptProposal", accepted), ("AcceptProposal", declined),
                             ("DeclineProposal", accepted), ("DeclineProposal", declined)):
        request = (membership_pb2.AcceptProposalRequest if method == "AcceptProposal" else membership_pb2.DeclineProposalRequest)(id=proposal.id)
        error = rpc_error(getattr(tree.membership(lead(tree)), method), request)
        assert (error.code, error.reason) == (grpc.StatusCode.FAILED_PRECONDITION, "PROPOSAL_ALREADY_DECIDED")
    assert community_ids(tree) == before
    wait_for_types(tree, "membership.proposal.*", declined.id,
                   ["copnet.membership.proposal.created", "copnet.membership.proposal.declined"])


def test_a_failed_acceptance_writes_nothing(tree):
    submit(tree)  # keeps the proposer's role state independent of test order
    proposal = submit(tree, OTHER, title="Clashing id", host_organization_id="pp-county")
    grants_before = facilitator_grants(tree, OTHER)
    error = rpc_error(tree.membership(lead(tree)).AcceptProposal, membership_pb2.AcceptProposalRequest(id=proposal.id, community_id="pp-ratio"))
    assert (error.code, error.reason) == (grpc.StatusCode.ALREADY_EXISTS, "DUPLICATE_ID")
    assert tree.membership(lead(tree)).GetProposal(membership_pb2.GetProposalRequest(id=proposal.id)).proposal.status \
        == membership_pb2.PROPOSAL_STATUS_SUBMITTED
    assert facilitator_grants(tree, OTHER) == grants_before


@pytest.mark.parametrize(("fields", "field", "reason"), [
    ({"stipend_cents": -1}, "stipend_cents", "INVALID_STIPEND"),
    ({"stipend_currency": "usd"}, "stipend_currency", "INVALID_CURRENCY"),
    ({"stipend_currency": "DOLLARS"}, "stipend_currency", "INVALID_CURRENCY"),
    ({"community_id": "Bad Id"}, "community_id", "INVALID_FIELD"),
])
def test_bad_acceptances_are_refused(tree, fields, field, reason):
    proposal = submit(tree, title="Bad acceptance")
    error = rpc_error(tree.membership(lead(tree)).AcceptProposal, membership_pb2.AcceptProposalRequest(id=proposal.id, **fields))
    assert (error.code, error.reason, [f.field for f in error.fields]) == (
        grpc.StatusCode.INVALID_ARGUMENT, reason, [field])


@pytest.mark.parametrize("method", ["AcceptProposal", "DeclineProposal"])
def test_only_program_managers_over_the_program_decide(tree, method):
    proposal = submit(tree, title="Who decides")
    request = (membership_pb2.AcceptProposalRequest if method == "AcceptProposal" else membership_pb2.DeclineProposalRequest)(id=proposal.id)
    for token in (lead(tree, "pp-south"), tree.token("county_admin", "pp-county"), person_token(tree)):
        assert rpc_error(getattr(tree.membership(token), method), request).code == grpc.StatusCode.PERMISSION_DENIED
    assert rpc_error(getattr(tree.membership(), method), request).code == grpc.StatusCode.UNAUTHENTICATED
    assert tree.membership(lead(tree)).GetProposal(membership_pb2.GetProposalRequest(id=proposal.id)).proposal.status \
        == membership_pb2.PROPOSAL_STATUS_SUBMITTED


# -- over HTTP ----------------------------------------------------------------------------------
def test_proposals_over_http(stack, tree):
    api = f"{stack.gateway_url}/api/v1"
    body = {"title": "Geometry studio", "focus": "Shapes", "audience": "K-2", "plan": "Monthly",
            "requested_capacity": 15, "kind": "plc", "host_organization_id": "pp-district"}
    assert http.request("POST", f"{api}/programs/pp-open/proposals", json_body=body).status == 401
    created = http.request("POST", f"{api}/programs/pp-open/proposals", token=person_token(stack), json_body=body)
    assert created.status == 201, created.text
    proposal = created.json()
    assert created.headers["location"].endswith(f"/api/v1/proposals/{proposal['id']}")
    assert (proposal["status"], proposal["community_id"], proposal["stipend_currency"], proposal["decided_at"]) == (
        "submitted", None, None, None)
    assert http.request("GET", f"{api}/proposals/{proposal['id']}", token=person_token(stack)).json() == proposal
    assert http.request("GET", f"{api}/proposals/{proposal['id']}", token=person_token(stack, OTHER)).status == 403
    assert http.request("GET", f"{api}/proposals/{proposal['id']}").status == 401
    mine = http.request("GET", f"{api}/programs/pp-open/proposals?status=submitted", token=person_token(stack)).json()
    assert proposal["id"] in [item["id"] for item in mine["items"]]
    assert {item["proposer_id"] for item in mine["items"]} == {PROPOSER}

    lapsed = http.request("POST", f"{api}/programs/pp-lapsed/proposals", token=person_token(stack), json_body=body)
    assert (lapsed.status, lapsed.json()["reason"]) == (409, "PROPOSALS_CLOSED")
    assert http.request("POST", f"{api}/proposals/{proposal['id']}/accept", token=lead(stack, "pp-south"),
                        json_body={"stipend_cents": 100}).status == 403
    accepted = http.request("POST", f"{api}/proposals/{proposal['id']}/accept", token=lead(stack),
                            json_body={"stipend_cents": 90000, "stipend_currency": "USD"})
    assert accepted.status == 200, accepted.text
    result = accepted.json()
    assert (result["proposal"]["status"], result["proposal"]["stipend_cents"]) == ("accepted", 90000)
    assert (result["community"]["name"], result["community"]["facilitator_ids"], result["community"]["seats"]) == (
        "Geometry studio", [PROPOSER], {"capacity": 15, "confirmed": 0, "waitlisted": 0, "available": 15})
    again = http.request("POST", f"{api}/proposals/{proposal['id']}/decline", token=lead(stack),
                         json_body={"note": "late"})
    assert (again.status, again.json()["reason"]) == (409, "PROPOSAL_ALREADY_DECIDED")
