"""Programs over real gRPC and the real gateway: owners, program years, access, proposal calls, events."""

from __future__ import annotations

import datetime as dt

import grpc
import pymongo
import pytest
from google.protobuf import timestamp_pb2

from copnet.kernel.errors import details_of
from copnet.membership.v1 import membership_pb2
from tests.integration import http
from tests.integration.jetstream_events import wait_for_types

pytestmark = pytest.mark.integration

TZ = "America/Los_Angeles"
PROGRAM_EVENTS = "membership.program.*"


@pytest.fixture(scope="module")
def tree(services):
    """state > two regions; a county office in the north one."""
    admin = services.token("platform_admin")
    for org_id, kind, parent in (("pg-state", membership_pb2.ORGANIZATION_KIND_STATE, ""),
                                 ("pg-north", membership_pb2.ORGANIZATION_KIND_REGION, "pg-state"),
                                 ("pg-south", membership_pb2.ORGANIZATION_KIND_REGION, "pg-state"),
                                 ("pg-county", membership_pb2.ORGANIZATION_KIND_COUNTY_OFFICE, "pg-north")):
        services.membership(admin).CreateOrganization(membership_pb2.CreateOrganizationRequest(
            organization_id=org_id, name=org_id, kind=kind, parent_id=parent, time_zone=TZ if not parent else ""))
    return services


def rpc_error(rpc, request):
    with pytest.raises(grpc.RpcError) as raised:
        rpc(request)
    return details_of(raised.value)


def lead(services, region: str = "pg-north") -> str:
    return services.token("regional_lead", region, person=f"lead-of-{region}")


def stamp(moment: dt.datetime) -> timestamp_pb2.Timestamp:
    result = timestamp_pb2.Timestamp()
    result.FromDatetime(moment)
    return result


def in_days(days: float) -> dt.datetime:
    return dt.datetime.now(dt.UTC) + dt.timedelta(days=days)


def create(services, program_id: str, owner: str = "pg-north", year: str = "2026-27", token: str | None = None):
    return services.membership(token or lead(services)).CreateProgram(membership_pb2.CreateProgramRequest(
        program_id=program_id, name=f"{program_id} Math CoP", owner_organization_id=owner, program_year=year,
        description="Statewide math communities")).program


# -- creation -----------------------------------------------------------------------------------
def test_a_regional_lead_creates_a_program_for_their_region_and_it_is_announced(tree):
    program = create(tree, "pg-first")
    assert (program.owner_organization_id, program.program_year, program.name) == (
        "pg-north", "2026-27", "pg-first Math CoP")
    assert not program.HasField("proposal_call")
    assert tree.membership().GetProgram(membership_pb2.GetProgramRequest(id="pg-first")).program == program
    [event] = wait_for_types(tree, PROGRAM_EVENTS, "pg-first", ["copnet.membership.program.created"])
    assert event.data["program"]["id"] == "pg-first"
    assert event.data["changed_by"] == "lead-of-pg-north"
    # In the owner's scope, as a community's events are: plugins enabled there may react to it.
    assert event.scope == ("pg-state", "pg-north")


def test_a_platform_admin_creates_a_state_program(tree):
    assert create(tree, "pg-statewide", owner="pg-state", token=tree.token("platform_admin")).owner_organization_id \
        == "pg-state"


@pytest.mark.parametrize(("fields", "field", "reason"), [
    ({"owner_organization_id": "pg-county"}, "owner_organization_id", "INVALID_OWNER_KIND"),
    ({"owner_organization_id": "pg-nowhere"}, "owner_organization_id", "UNKNOWN_ORGANIZATION"),
    ({"owner_organization_id": ""}, "owner_organization_id", "INVALID_FIELD"),
    ({"program_year": "2026-28"}, "program_year", "INVALID_PROGRAM_YEAR"),
    ({"program_year": "2026"}, "program_year", "INVALID_PROGRAM_YEAR"),
    ({"program_year": "26-27"}, "program_year", "INVALID_PROGRAM_YEAR"),
    ({"program_year": "2026-2027"}, "program_year", "INVALID_PROGRAM_YEAR"),
    ({"program_year": "2027-26"}, "program_year", "INVALID_PROGRAM_YEAR"),
    ({"name": "  "}, "name", "INVALID_FIELD"),
    ({"program_id": "Not An Id"}, "program_id", "INVALID_FIELD"),
])
def test_bad_programs_are_refused_naming_the_field(tree, fields, field, reason):
    request = membership_pb2.CreateProgramRequest(**{"name": "x", "owner_organization_id": "pg-north", "program_year": "2026-27",
                                                     **fields})
    error = rpc_error(tree.membership(tree.token("platform_admin")).CreateProgram, request)
    assert error.code == grpc.StatusCode.INVALID_ARGUMENT
    assert (error.reason, [f.field for f in error.fields]) == (reason, [field])


def test_a_school_year_across_a_century_is_consecutive(tree):
    assert create(tree, "pg-century", year="2099-00").program_year == "2099-00"


@pytest.mark.parametrize(("role", "org", "owner"), [
    ("regional_lead", "pg-south", "pg-north"),     # another region
    ("regional_lead", "pg-north", "pg-state"),     # a region's lead cannot own a state program
    ("county_admin", "pg-county", "pg-north"),     # county admins manage communities, not programs
    ("member", "pg-north", "pg-north"),
])
def test_who_may_not_create_a_program(tree, role, org, owner):
    error = rpc_error(tree.membership(tree.token(role, org)).CreateProgram, membership_pb2.CreateProgramRequest(
        name="x", owner_organization_id=owner, program_year="2026-27"))
    assert (error.code, error.reason) == (grpc.StatusCode.PERMISSION_DENIED, "OUT_OF_SCOPE")


def test_a_duplicate_id_conflicts(tree):
    create(tree, "pg-dup")
    error = rpc_error(tree.membership(lead(tree)).CreateProgram, membership_pb2.CreateProgramRequest(
        program_id="pg-dup", name="again", owner_organization_id="pg-north", program_year="2027-28"))
    assert (error.code, error.reason) == (grpc.StatusCode.ALREADY_EXISTS, "DUPLICATE_ID")
    assert tree.membership().GetProgram(membership_pb2.GetProgramRequest(id="pg-dup")).program.program_year == "2026-27"


# -- reads --------------------------------------------------------------------------------------
def test_listing_filters_by_owner_and_year(tree):
    create(tree, "pg-list-a", owner="pg-south", year="2030-31", token=lead(tree, "pg-south"))
    create(tree, "pg-list-b", owner="pg-south", year="2031-32", token=lead(tree, "pg-south"))
    by_owner = tree.membership().ListPrograms(membership_pb2.ListProgramsRequest(owner_organization_id="pg-south"))
    assert [p.id for p in by_owner.programs] == ["pg-list-a", "pg-list-b"]
    by_year = tree.membership().ListPrograms(membership_pb2.ListProgramsRequest(owner_organization_id="pg-south",
                                                               program_year="2031-32"))
    assert [p.id for p in by_year.programs] == ["pg-list-b"]
    assert rpc_error(tree.membership().GetProgram, membership_pb2.GetProgramRequest(id="pg-none")).code == grpc.StatusCode.NOT_FOUND


# -- updates and the proposal call --------------------------------------------------------------
def test_update_changes_only_the_fields_given(tree):
    create(tree, "pg-update")
    updated = tree.membership(lead(tree)).UpdateProgram(membership_pb2.UpdateProgramRequest(id="pg-update", name="Renamed")).program
    assert (updated.name, updated.description) == ("Renamed", "Statewide math communities")
    assert updated.HasField("update_time")
    wait_for_types(tree, PROGRAM_EVENTS, "pg-update",
                   ["copnet.membership.program.created", "copnet.membership.program.updated"])
    error = rpc_error(tree.membership(lead(tree, "pg-south")).UpdateProgram, membership_pb2.UpdateProgramRequest(id="pg-update", name="x"))
    assert error.code == grpc.StatusCode.PERMISSION_DENIED


def test_a_proposal_call_opens_and_from_then_on_is_dated_by_the_program_timeline(tree):
    create(tree, "pg-call")
    first = tree.membership(lead(tree)).OpenProposalCall(membership_pb2.OpenProposalCallRequest(program_id="pg-call", due_time=stamp(in_days(30)))).program.proposal_call
    assert first.open_time.ToDatetime() < first.due_time.ToDatetime()
    # Scheduling takes the call over as milestones of the program's timeline and membership
    # applies that timeline: from then on the call is re-dated by moving the milestone.
    with pymongo.MongoClient(tree.mongodb_uri) as client:
        programs = client[tree.settings.database_name("membership")].programs
        tree.wait_for(lambda: (programs.find_one({"_id": "pg-call"}).get("timeline") or {}).get("revision"),
                      timeout=20, what="membership applying pg-call's timeline")
    error = rpc_error(tree.membership(lead(tree)).OpenProposalCall, membership_pb2.OpenProposalCallRequest(program_id="pg-call",
                                                                     due_time=stamp(in_days(45))))
    assert (error.code, error.reason) == (grpc.StatusCode.FAILED_PRECONDITION, "MANAGED_BY_TIMELINE")
    assert tree.membership().GetProgram(membership_pb2.GetProgramRequest(id="pg-call")).program.proposal_call == first
    events = wait_for_types(tree, PROGRAM_EVENTS, "pg-call", ["copnet.membership.program.created",
                                                              "copnet.membership.program.proposal_call_opened"])
    assert events[-1].data["program"]["proposal_call"]["due_time"] == first.due_time.ToJsonString()
    assert {event.scope for event in events} == {("pg-state", "pg-north")}


@pytest.mark.parametrize(("due", "reason"), [(None, "INVALID_FIELD"), (-1, "DUE_TIME_NOT_IN_FUTURE")])
def test_a_proposal_call_must_be_due_in_the_future(tree, due, reason):
    create(tree, f"pg-due-{reason.lower().replace('_', '-')}")
    request = membership_pb2.OpenProposalCallRequest(program_id=f"pg-due-{reason.lower().replace('_', '-')}")
    if due is not None:
        request.due_time.CopyFrom(stamp(in_days(due)))
    error = rpc_error(tree.membership(lead(tree)).OpenProposalCall, request)
    assert (error.code, error.reason, [f.field for f in error.fields]) == (
        grpc.StatusCode.INVALID_ARGUMENT, reason, ["due_time"])


def test_only_program_managers_over_the_owner_open_a_call(tree):
    create(tree, "pg-call-scope")
    request = membership_pb2.OpenProposalCallRequest(program_id="pg-call-scope", due_time=stamp(in_days(3)))
    for token in (lead(tree, "pg-south"), tree.token("county_admin", "pg-county")):
        assert rpc_error(tree.membership(token).OpenProposalCall, request).code == grpc.StatusCode.PERMISSION_DENIED
    assert rpc_error(tree.membership().OpenProposalCall, request).code == grpc.StatusCode.UNAUTHENTICATED


# -- over HTTP ----------------------------------------------------------------------------------
def test_programs_over_http(stack, tree):
    base, token = f"{stack.gateway_url}/api/v1/programs", lead(stack)
    created = http.request("POST", base, token=token, json_body={
        "id": "pg-http", "name": "Bay Math CoP", "owner_organization_id": "pg-north", "program_year": "2026-27"})
    assert created.status == 201, created.text
    assert created.headers["location"].endswith("/api/v1/programs/pg-http")
    body = created.json()
    assert (body["proposal_call"], body["description"], body["updated_at"]) == (None, "", None)

    due = (in_days(10).replace(microsecond=0)).isoformat().replace("+00:00", "Z")
    opened = http.request("PUT", f"{base}/pg-http/proposal-call", token=token, json_body={"due_at": due})
    assert opened.status == 200, opened.text
    assert opened.json()["proposal_call"]["due_at"] == due
    patched = http.request("PATCH", f"{base}/pg-http", token=token, json_body={"description": "Grades 3-8"})
    assert (patched.status, patched.json()["description"], patched.json()["name"]) == (200, "Grades 3-8",
                                                                                        "Bay Math CoP")
    assert http.request("GET", f"{base}/pg-http").json() == patched.json()
    listed = http.request("GET", f"{base}?owner_organization_id=pg-north&program_year=2026-27").json()
    assert "pg-http" in [item["id"] for item in listed["items"]]


@pytest.mark.parametrize(("body", "field", "reason"), [
    ({"owner_organization_id": "pg-county"}, "owner_organization_id", "INVALID_OWNER_KIND"),
    ({"program_year": "2026-2027"}, "program_year", "INVALID_PROGRAM_YEAR"),
])
def test_http_problems_name_the_json_field(stack, tree, body, field, reason):
    reply = http.request("POST", f"{stack.gateway_url}/api/v1/programs", token=stack.token("platform_admin"),
                         json_body={"name": "x", "owner_organization_id": "pg-north", "program_year": "2026-27",
                                    **body})
    assert reply.status == 422
    problem = reply.json()
    assert (problem["reason"], [e["field"] for e in problem["errors"]]) == (reason, [field])


def test_http_access(stack, tree):
    base = f"{stack.gateway_url}/api/v1/programs"
    body = {"name": "x", "owner_organization_id": "pg-north", "program_year": "2026-27"}
    assert http.request("POST", base, json_body=body).status == 401
    assert http.request("POST", base, token=lead(stack, "pg-south"), json_body=body).status == 403
    assert http.request("POST", base, token=stack.token("county_admin", "pg-county"), json_body=body).status == 403
    create(stack, "pg-http-access")
    past = http.request("PUT", f"{base}/pg-http-access/proposal-call", token=lead(stack),
                        json_body={"due_at": "2020-01-01T00:00:00Z"})
    assert (past.status, past.json()["reason"], past.json()["errors"][0]["field"]) == (
        422, "DUE_TIME_NOT_IN_FUTURE", "due_at")
    assert http.request("GET", f"{base}/pg-missing").status == 404
