"""Communities over real gRPC and the real gateway: every field, the rules, updates, the status
lifecycle, access in and out of scope, and the events each change publishes."""

from __future__ import annotations

import datetime as dt

import grpc
import pytest
from google.protobuf import timestamp_pb2

from copnet.kernel.errors import details_of
from copnet.membership.v1 import membership_pb2
from tests.integration import http
from tests.integration.jetstream_events import wait_for_types

pytestmark = pytest.mark.integration

TZ = "America/Los_Angeles"
COMMUNITY_EVENTS = "membership.community.*"
CREATED, UPDATED, STATUS = ("copnet.membership.community.created", "copnet.membership.community.updated",
                            "copnet.membership.community.status_changed")


@pytest.fixture(scope="module")
def tree(services):
    """state > north (county > district > school) and south (county); a program owned by north;
    facilitators cl-ana and cl-ben; teachers cl-t1..cl-t4 at the school."""
    admin = services.token("platform_admin")
    for org_id, kind, parent in (("cl-state", membership_pb2.ORGANIZATION_KIND_STATE, ""),
                                 ("cl-north", membership_pb2.ORGANIZATION_KIND_REGION, "cl-state"),
                                 ("cl-south", membership_pb2.ORGANIZATION_KIND_REGION, "cl-state"),
                                 ("cl-county", membership_pb2.ORGANIZATION_KIND_COUNTY_OFFICE, "cl-north"),
                                 ("cl-district", membership_pb2.ORGANIZATION_KIND_DISTRICT, "cl-county"),
                                 ("cl-school", membership_pb2.ORGANIZATION_KIND_SCHOOL, "cl-district"),
                                 ("cl-south-county", membership_pb2.ORGANIZATION_KIND_COUNTY_OFFICE, "cl-south")):
        services.membership(admin).CreateOrganization(membership_pb2.CreateOrganizationRequest(
            organization_id=org_id, name=org_id, kind=kind, parent_id=parent, time_zone=TZ if not parent else ""))
    services.membership(admin).CreateProgram(membership_pb2.CreateProgramRequest(
        program_id="cl-program", name="North Math CoP", owner_organization_id="cl-north", program_year="2026-27"))
    for person_id in ("cl-ana", "cl-ben", "cl-t1", "cl-t2", "cl-t3", "cl-t4"):
        services.membership(admin).CreatePerson(membership_pb2.CreatePersonRequest(
            person_id=person_id, name=person_id, email=f"{person_id}@example.org",
            affiliations=[membership_pb2.Affiliation(organization_id="cl-school", position=membership_pb2.POSITION_TEACHER)]))
    return services


def rpc_error(rpc, request):
    with pytest.raises(grpc.RpcError) as raised:
        rpc(request)
    return details_of(raised.value)


def manager(services) -> str:
    return services.token("county_admin", "cl-county", person="cl-county-admin")


# One reference instant, so `window(opens=5, soft=5)` really gives two equal instants (taking
# now() per stamp made them differ by a millisecond now and then, and the case flaky).
NOW = dt.datetime.now(dt.UTC).replace(microsecond=0)


def stamp(days: float) -> timestamp_pb2.Timestamp:
    result = timestamp_pb2.Timestamp()
    result.FromDatetime(NOW + dt.timedelta(days=days))
    return result


def window(opens: float = -1, closes: float = 30, soft: float | None = None) -> membership_pb2.SignupWindow:
    result = membership_pb2.SignupWindow(open_time=stamp(opens), close_time=stamp(closes))
    if soft is not None:
        result.soft_deadline.CopyFrom(stamp(soft))
    return result


def create(services, community_id: str, **fields) -> membership_pb2.Community:
    request = membership_pb2.CreateCommunityRequest(**{"community_id": community_id, "name": community_id,
                                                       "kind": membership_pb2.COMMUNITY_KIND_PLC, "host_organization_id": "cl-school", **fields})
    return services.membership(manager(services)).CreateCommunity(request).community


def change_status(services, community_id: str, status: int, token: str | None = None) -> membership_pb2.Community:
    return services.membership(token or manager(services)).ChangeCommunityStatus(membership_pb2.ChangeCommunityStatusRequest(id=community_id, status=status)).community


def open_community(services, community_id: str, capacity: int) -> membership_pb2.Community:
    create(services, community_id, capacity=capacity, signup_window=window())
    return change_status(services, community_id, membership_pb2.COMMUNITY_STATUS_OPEN)


def register(services, community_id: str, person_id: str) -> membership_pb2.Registration:
    return services.membership(manager(services)).Register(membership_pb2.RegisterRequest(community_id=community_id, person_id=person_id)).registration


# -- creation with every field ------------------------------------------------------------------
def test_a_community_keeps_every_field_and_announces_itself_whole(tree):
    created = create(tree, "cl-full", program_id="cl-program", focus="Fractions", description="Grades 3-5",
                     grade_bands=[membership_pb2.GRADE_BAND_3_5, membership_pb2.GRADE_BAND_K_2], facilitator_ids=["cl-ana", "cl-ben", "cl-ana"],
                     capacity=24, signup_window=window(opens=1, soft=10, closes=20),
                     eligibility=membership_pb2.Eligibility(positions=[membership_pb2.POSITION_TEACHER], organization_ids=["cl-district"]),
                     team_composition=[membership_pb2.TeamSlot(position=membership_pb2.POSITION_TEACHER, count=2,
                                                               grade_bands=[membership_pb2.GRADE_BAND_3_5])])
    assert (created.program_id, created.focus, created.capacity, created.status) == (
        "cl-program", "Fractions", 24, membership_pb2.COMMUNITY_STATUS_DRAFT)
    assert list(created.grade_bands) == [membership_pb2.GRADE_BAND_3_5, membership_pb2.GRADE_BAND_K_2]
    assert list(created.facilitator_ids) == ["cl-ana", "cl-ben"]
    assert created.signup_window.HasField("soft_deadline")
    assert list(created.eligibility.organization_ids) == ["cl-district"]
    assert [(s.position, s.count) for s in created.team_composition] == [(membership_pb2.POSITION_TEACHER, 2)]
    assert (created.region_id, created.county_office_id) == ("cl-north", "cl-county")
    assert tree.membership().GetCommunity(membership_pb2.GetCommunityRequest(id="cl-full")).community == created

    [event] = wait_for_types(tree, COMMUNITY_EVENTS, "cl-full", [CREATED])
    # The flat fields other services consume, and the whole community beside them.
    assert {k: event.data[k] for k in ("community_id", "name", "kind", "host_organization_id", "county_office_id")} \
        == {"community_id": "cl-full", "name": "cl-full", "kind": "plc", "host_organization_id": "cl-school",
            "county_office_id": "cl-county"}
    assert (event.data["created_by"], event.data["community"]["capacity"], event.data["community"]["program_id"]) \
        == ("cl-county-admin", 24, "cl-program")
    # The host's scope: plugins enabled for its region or county may react to the community.
    assert event.scope == ("cl-state", "cl-north", "cl-county", "cl-district", "cl-school")


def test_a_math_team_gets_the_default_team_composition(tree):
    team = create(tree, "cl-math", kind=membership_pb2.COMMUNITY_KIND_MATH_TEAM)
    assert [(s.position, s.count, list(s.grade_bands)) for s in team.team_composition] == [
        (membership_pb2.POSITION_SPECIALIST, 1, []), (membership_pb2.POSITION_SITE_ADMIN, 1, []),
        (membership_pb2.POSITION_TEACHER, 1, [membership_pb2.GRADE_BAND_K_2, membership_pb2.GRADE_BAND_3_5])]
    assert (team.capacity, team.HasField("signup_window")) == (0, False)


@pytest.mark.parametrize(("fields", "field", "reason"), [
    ({"program_id": "cl-no-program"}, "program_id", "UNKNOWN_PROGRAM"),
    ({"facilitator_ids": ["cl-ana", "cl-nobody"]}, "facilitator_ids[1]", "UNKNOWN_PERSON"),
    ({"capacity": -1}, "capacity", "CAPACITY_NOT_POSITIVE"),
    ({"signup_window": window(opens=5, closes=5)}, "signup_window.close_time", "INVALID_SIGNUP_WINDOW"),
    ({"signup_window": window(opens=5, closes=2)}, "signup_window.close_time", "INVALID_SIGNUP_WINDOW"),
    ({"signup_window": window(opens=5, soft=5, closes=9)}, "signup_window.soft_deadline", "INVALID_SIGNUP_WINDOW"),
    ({"signup_window": window(opens=5, soft=10, closes=9)}, "signup_window.soft_deadline", "INVALID_SIGNUP_WINDOW"),
    ({"signup_window": membership_pb2.SignupWindow(close_time=stamp(3))}, "signup_window.open_time", "INVALID_FIELD"),
    ({"eligibility": membership_pb2.Eligibility(organization_ids=["cl-nowhere"])}, "eligibility.organization_ids[0]",
     "UNKNOWN_ORGANIZATION"),
    ({"eligibility": membership_pb2.Eligibility(positions=[0])}, "eligibility.positions[0]", "INVALID_FIELD"),
    ({"team_composition": [membership_pb2.TeamSlot(position=membership_pb2.POSITION_TEACHER, count=0)]}, "team_composition[0].count",
     "INVALID_FIELD"),
    ({"grade_bands": [42]}, "grade_bands[0]", "INVALID_FIELD"),
    ({"host_organization_id": "cl-nowhere"}, "host_organization_id", "UNKNOWN_ORGANIZATION"),
    ({"host_organization_id": "cl-south-county", "program_id": "cl-program"}, "host_organization_id",
     "HOST_OUTSIDE_PROGRAM"),
])
def test_bad_communities_are_refused_naming_the_field(tree, fields, field, reason):
    request = membership_pb2.CreateCommunityRequest(**{"name": "x", "kind": membership_pb2.COMMUNITY_KIND_PLC,
                                                       "host_organization_id": "cl-school", **fields})
    error = rpc_error(tree.membership(tree.token("platform_admin")).CreateCommunity, request)
    assert error.code == grpc.StatusCode.INVALID_ARGUMENT
    assert (error.reason, [f.field for f in error.fields]) == (reason, [field])


@pytest.mark.parametrize(("role", "org", "code"), [
    ("regional_lead", "cl-south", grpc.StatusCode.PERMISSION_DENIED),   # another region
    ("county_admin", "cl-south-county", grpc.StatusCode.PERMISSION_DENIED),
    ("facilitator", "cl-school", grpc.StatusCode.PERMISSION_DENIED),
    ("county_admin", "cl-county", None),                                # in scope
    ("regional_lead", "cl-north", None),
])
def test_who_may_create_a_community(tree, role, org, code):
    request = membership_pb2.CreateCommunityRequest(name="x", kind=membership_pb2.COMMUNITY_KIND_PLC, host_organization_id="cl-school",
                                                    program_id="cl-program")
    if code is None:
        assert tree.membership(tree.token(role, org)).CreateCommunity(request).community.program_id == "cl-program"
    else:
        assert rpc_error(tree.membership(tree.token(role, org)).CreateCommunity, request).code == code


# -- listing ------------------------------------------------------------------------------------
def test_listing_filters_by_program_status_kind_region_and_host(tree):
    create(tree, "cl-list-a", program_id="cl-program", kind=membership_pb2.COMMUNITY_KIND_EQUITY_COHORT)
    open_community(tree, "cl-list-b", capacity=5)
    tree.membership(tree.token("platform_admin")).CreateCommunity(membership_pb2.CreateCommunityRequest(community_id="cl-list-c", name="South",
                                                           kind=membership_pb2.COMMUNITY_KIND_EQUITY_COHORT,
                                                           host_organization_id="cl-south-county"))

    def ids(**filters) -> set[str]:
        return {c.id for c in tree.membership().ListCommunities(membership_pb2.ListCommunitiesRequest(page_size=1000, **filters))
                .communities if c.id.startswith("cl-list-")}

    assert ids(program_id="cl-program") == {"cl-list-a"}
    assert ids(status=membership_pb2.COMMUNITY_STATUS_OPEN) == {"cl-list-b"}
    assert ids(kind=membership_pb2.COMMUNITY_KIND_EQUITY_COHORT) == {"cl-list-a", "cl-list-c"}
    assert ids(region_id="cl-south") == {"cl-list-c"}
    assert ids(region_id="cl-north", kind=membership_pb2.COMMUNITY_KIND_EQUITY_COHORT) == {"cl-list-a"}
    assert ids(host_organization_id="cl-school") == {"cl-list-a", "cl-list-b"}


def test_listing_by_facilitator_finds_every_community_they_facilitate(tree):
    # Scheduling asks this way for the communities whose sessions a facilitator may run.
    create(tree, "cl-fac-both", facilitator_ids=["cl-ana", "cl-ben"])
    create(tree, "cl-fac-ben", facilitator_ids=["cl-ben"])
    create(tree, "cl-fac-none")

    def ids(person_id: str) -> set[str]:
        return {c.id for c in tree.membership().ListCommunities(membership_pb2.ListCommunitiesRequest(
            page_size=1000, facilitator_id=person_id)).communities if c.id.startswith("cl-fac-")}

    assert ids("cl-ana") == {"cl-fac-both"}
    assert ids("cl-ben") == {"cl-fac-both", "cl-fac-ben"}
    assert ids("cl-t1") == set()


# -- updates ------------------------------------------------------------------------------------
def test_an_update_changes_only_the_fields_given_and_is_announced(tree):
    create(tree, "cl-upd", focus="Ratios", capacity=10, facilitator_ids=["cl-ana"])
    updated = tree.membership(manager(tree)).UpdateCommunity(membership_pb2.UpdateCommunityRequest(
        id="cl-upd", name="Renamed", capacity=12, set_facilitator_ids=True, facilitator_ids=["cl-ben"],
        signup_window=window())).community
    assert (updated.name, updated.focus, updated.capacity, list(updated.facilitator_ids)) == (
        "Renamed", "Ratios", 12, ["cl-ben"])
    assert updated.HasField("signup_window") and updated.HasField("update_time")
    cleared = tree.membership(manager(tree)).UpdateCommunity(membership_pb2.UpdateCommunityRequest(id="cl-upd", set_facilitator_ids=True)).community
    assert (list(cleared.facilitator_ids), cleared.name) == ([], "Renamed")
    events = wait_for_types(tree, COMMUNITY_EVENTS, "cl-upd", [CREATED, UPDATED, UPDATED])
    assert (events[1].data["community"]["name"], events[1].data["changed_by"]) == ("Renamed", "cl-county-admin")


@pytest.mark.parametrize(("fields", "field", "reason"), [
    ({"capacity": 0}, "capacity", "CAPACITY_NOT_POSITIVE"),
    ({"name": " "}, "name", "INVALID_FIELD"),
    ({"set_facilitator_ids": True, "facilitator_ids": ["cl-ghost"]}, "facilitator_ids[0]", "UNKNOWN_PERSON"),
    ({"signup_window": window(opens=3, soft=1, closes=9)}, "signup_window.soft_deadline", "INVALID_SIGNUP_WINDOW"),
])
def test_bad_updates_are_refused_and_change_nothing(tree, fields, field, reason):
    community_id = f"cl-bad-upd-{field.split('[')[0].split('.')[0].replace('_', '-')}"
    before = create(tree, community_id, capacity=4)
    error = rpc_error(tree.membership(manager(tree)).UpdateCommunity, membership_pb2.UpdateCommunityRequest(id=community_id, **fields))
    assert (error.code, error.reason, [f.field for f in error.fields]) == (
        grpc.StatusCode.INVALID_ARGUMENT, reason, [field])
    assert tree.membership().GetCommunity(membership_pb2.GetCommunityRequest(id=community_id)).community == before


def test_update_access(tree):
    create(tree, "cl-upd-access")
    request = membership_pb2.UpdateCommunityRequest(id="cl-upd-access", focus="x")
    assert rpc_error(tree.membership(tree.token("regional_lead", "cl-south")).UpdateCommunity, request).code \
        == grpc.StatusCode.PERMISSION_DENIED
    assert rpc_error(tree.membership().UpdateCommunity, request).code == grpc.StatusCode.UNAUTHENTICATED
    assert tree.membership(tree.token("regional_lead", "cl-north")).UpdateCommunity(request).community.focus == "x"


def test_capacity_cannot_drop_below_the_confirmed_registrations(tree):
    open_community(tree, "cl-cap", capacity=3)
    register(tree, "cl-cap", "cl-t1")
    register(tree, "cl-cap", "cl-t2")
    error = rpc_error(tree.membership(manager(tree)).UpdateCommunity, membership_pb2.UpdateCommunityRequest(id="cl-cap", capacity=1))
    assert (error.code, error.reason) == (grpc.StatusCode.FAILED_PRECONDITION, "CAPACITY_BELOW_CONFIRMED")
    assert tree.membership(manager(tree)).UpdateCommunity(membership_pb2.UpdateCommunityRequest(id="cl-cap", capacity=2)).community.capacity == 2


def test_a_larger_capacity_promotes_from_the_waiting_list_in_order(tree):
    open_community(tree, "cl-grow", capacity=1)
    registrations = [register(tree, "cl-grow", person) for person in ("cl-t1", "cl-t2", "cl-t3", "cl-t4")]
    assert [r.status for r in registrations] == [membership_pb2.REGISTRATION_STATUS_CONFIRMED] + [
        membership_pb2.REGISTRATION_STATUS_WAITLISTED] * 3
    reply = tree.membership(manager(tree)).UpdateCommunity(membership_pb2.UpdateCommunityRequest(id="cl-grow", capacity=3))
    assert [(r.person_id, r.status) for r in reply.promoted] == [
        ("cl-t2", membership_pb2.REGISTRATION_STATUS_CONFIRMED), ("cl-t3", membership_pb2.REGISTRATION_STATUS_CONFIRMED)]
    assert (reply.community.confirmed_count, reply.community.waitlisted_count) == (3, 1)
    roster = tree.membership(manager(tree)).ListRegistrations(membership_pb2.ListRegistrationsRequest(community_id="cl-grow"))
    assert {r.person_id: (r.status, r.waitlist_position) for r in roster.registrations}["cl-t4"] == (
        membership_pb2.REGISTRATION_STATUS_WAITLISTED, 1)
    # The same capacity again promotes nobody.
    assert not tree.membership(manager(tree)).UpdateCommunity(membership_pb2.UpdateCommunityRequest(id="cl-grow", capacity=3)).promoted


# -- the status lifecycle -----------------------------------------------------------------------
def test_the_whole_lifecycle_each_step_an_event(tree):
    create(tree, "cl-life", capacity=8, signup_window=window())
    path = [membership_pb2.COMMUNITY_STATUS_OPEN, membership_pb2.COMMUNITY_STATUS_CLOSED, membership_pb2.COMMUNITY_STATUS_OPEN, membership_pb2.COMMUNITY_STATUS_ACTIVE,
            membership_pb2.COMMUNITY_STATUS_COMPLETED]
    for status in path:
        assert change_status(tree, "cl-life", status).status == status
    events = wait_for_types(tree, COMMUNITY_EVENTS, "cl-life", [CREATED] + [STATUS] * len(path))
    assert [(e.data["previous_status"], e.data["community"]["status"]) for e in events[1:]] == [
        ("draft", "COMMUNITY_STATUS_OPEN"), ("open", "COMMUNITY_STATUS_CLOSED"), ("closed", "COMMUNITY_STATUS_OPEN"),
        ("open", "COMMUNITY_STATUS_ACTIVE"), ("active", "COMMUNITY_STATUS_COMPLETED")]
    error = rpc_error(tree.membership(manager(tree)).UpdateCommunity, membership_pb2.UpdateCommunityRequest(id="cl-life", focus="late"))
    assert (error.code, error.reason) == (grpc.StatusCode.FAILED_PRECONDITION, "COMMUNITY_COMPLETED")


def test_closed_goes_straight_to_active(tree):
    open_community(tree, "cl-closed-active", capacity=2)
    change_status(tree, "cl-closed-active", membership_pb2.COMMUNITY_STATUS_CLOSED)
    assert change_status(tree, "cl-closed-active", membership_pb2.COMMUNITY_STATUS_ACTIVE).status == membership_pb2.COMMUNITY_STATUS_ACTIVE


@pytest.mark.parametrize(("fields", "missing"), [
    ({}, "capacity, signup_window"),
    ({"capacity": 5}, "signup_window"),
    ({"signup_window": window()}, "capacity"),
])
def test_a_draft_opens_only_with_capacity_and_a_window(tree, fields, missing):
    community_id = f"cl-unready-{len(missing)}"
    create(tree, community_id, **fields)
    error = rpc_error(tree.membership(manager(tree)).ChangeCommunityStatus, membership_pb2.ChangeCommunityStatusRequest(
        id=community_id, status=membership_pb2.COMMUNITY_STATUS_OPEN))
    assert (error.code, error.reason) == (grpc.StatusCode.FAILED_PRECONDITION, "COMMUNITY_NOT_READY")
    assert error.message.endswith(f"missing: {missing}")
    assert tree.membership().GetCommunity(membership_pb2.GetCommunityRequest(id=community_id)).community.status \
        == membership_pb2.COMMUNITY_STATUS_DRAFT


@pytest.mark.parametrize(("steps", "target", "names"), [
    ([], membership_pb2.COMMUNITY_STATUS_ACTIVE, ("draft", "active")),
    ([], membership_pb2.COMMUNITY_STATUS_CLOSED, ("draft", "closed")),
    ([], membership_pb2.COMMUNITY_STATUS_DRAFT, ("draft", "draft")),
    ([membership_pb2.COMMUNITY_STATUS_OPEN], membership_pb2.COMMUNITY_STATUS_DRAFT, ("open", "draft")),
    ([membership_pb2.COMMUNITY_STATUS_OPEN], membership_pb2.COMMUNITY_STATUS_COMPLETED, ("open", "completed")),
    ([membership_pb2.COMMUNITY_STATUS_OPEN, membership_pb2.COMMUNITY_STATUS_ACTIVE], membership_pb2.COMMUNITY_STATUS_OPEN, ("active", "open")),
    ([membership_pb2.COMMUNITY_STATUS_OPEN, membership_pb2.COMMUNITY_STATUS_ACTIVE, membership_pb2.COMMUNITY_STATUS_COMPLETED], membership_pb2.COMMUNITY_STATUS_ACTIVE,
     ("completed", "active")),
])
def test_other_transitions_are_refused_naming_from_and_to(tree, steps, target, names):
    community_id = f"cl-bad-{len(steps)}-{names[1]}"
    create(tree, community_id, capacity=3, signup_window=window())
    for step in steps:
        change_status(tree, community_id, step)
    error = rpc_error(tree.membership(manager(tree)).ChangeCommunityStatus, membership_pb2.ChangeCommunityStatusRequest(id=community_id, status=target))
    assert (error.code, error.reason) == (grpc.StatusCode.FAILED_PRECONDITION, "INVALID_STATUS_TRANSITION")
    assert error.message == f"a community cannot go from {names[0]} to {names[1]}"


def test_a_facilitator_may_complete_their_active_community_and_nothing_else(tree):
    create(tree, "cl-fac", capacity=3, signup_window=window(), facilitator_ids=["cl-ana"])
    ana, ben = (tree.token("member", "cl-school", person=p) for p in ("cl-ana", "cl-ben"))
    denied = rpc_error(tree.membership(ana).ChangeCommunityStatus, membership_pb2.ChangeCommunityStatusRequest(
        id="cl-fac", status=membership_pb2.COMMUNITY_STATUS_OPEN))
    assert (denied.code, denied.reason) == (grpc.StatusCode.PERMISSION_DENIED, "OUT_OF_SCOPE")
    change_status(tree, "cl-fac", membership_pb2.COMMUNITY_STATUS_OPEN)
    change_status(tree, "cl-fac", membership_pb2.COMMUNITY_STATUS_ACTIVE)
    assert rpc_error(tree.membership(ben).ChangeCommunityStatus, membership_pb2.ChangeCommunityStatusRequest(
        id="cl-fac", status=membership_pb2.COMMUNITY_STATUS_COMPLETED)).code == grpc.StatusCode.PERMISSION_DENIED
    done = change_status(tree, "cl-fac", membership_pb2.COMMUNITY_STATUS_COMPLETED, ana)
    assert done.status == membership_pb2.COMMUNITY_STATUS_COMPLETED
    [*_, event] = wait_for_types(tree, COMMUNITY_EVENTS, "cl-fac", [CREATED, STATUS, STATUS, STATUS])
    assert (event.data["changed_by"], event.data["previous_status"]) == ("cl-ana", "active")


def test_status_access_out_of_scope(tree):
    create(tree, "cl-status-scope", capacity=3, signup_window=window())
    request = membership_pb2.ChangeCommunityStatusRequest(id="cl-status-scope", status=membership_pb2.COMMUNITY_STATUS_OPEN)
    assert rpc_error(tree.membership(tree.token("regional_lead", "cl-south")).ChangeCommunityStatus, request).code \
        == grpc.StatusCode.PERMISSION_DENIED
    assert rpc_error(tree.membership().ChangeCommunityStatus, request).code == grpc.StatusCode.UNAUTHENTICATED
    assert rpc_error(tree.membership(manager(tree)).ChangeCommunityStatus, membership_pb2.ChangeCommunityStatusRequest(id="cl-status-scope")).fields[0].field == "status"


# -- over HTTP ----------------------------------------------------------------------------------
def test_the_community_json(stack, tree):
    reply = http.request("POST", f"{stack.gateway_url}/api/v1/communities", token=manager(stack), json_body={
        "id": "cl-json", "name": "Number talks", "kind": "math_team", "host_organization_id": "cl-school",
        "program_id": "cl-program", "focus": "Number sense", "grade_bands": ["K-2", "3-5"],
        "facilitator_ids": ["cl-ana"], "capacity": 12,
        "signup_window": {"opens_at": "2026-08-01T08:00:00-07:00", "soft_deadline": "2026-08-20T00:00:00Z",
                          "closes_at": "2026-09-01T00:00:00Z"},
        "eligibility": {"positions": ["teacher", "specialist"], "organization_ids": ["cl-county"]}})
    assert reply.status == 201, reply.text
    body = reply.json()
    assert {k: body[k] for k in ("program_id", "focus", "grade_bands", "facilitator_ids", "capacity", "status",
                                 "region_id", "county_office_id", "eligibility", "signup_window", "seats")} == {
        "program_id": "cl-program", "focus": "Number sense", "grade_bands": ["K-2", "3-5"],
        "facilitator_ids": ["cl-ana"], "capacity": 12, "status": "draft", "region_id": "cl-north",
        "county_office_id": "cl-county",
        "eligibility": {"positions": ["teacher", "specialist"], "organization_ids": ["cl-county"]},
        "signup_window": {"opens_at": "2026-08-01T15:00:00Z", "soft_deadline": "2026-08-20T00:00:00Z",
                          "closes_at": "2026-09-01T00:00:00Z"},
        "seats": {"capacity": 12, "confirmed": 0, "waitlisted": 0, "available": 12}}
    assert [slot["position"] for slot in body["team_composition"]] == ["specialist", "site_admin", "teacher"]
    assert body["team_composition"][2]["grade_bands"] == ["K-2", "3-5"]
    single = http.request("GET", f"{stack.gateway_url}/api/v1/communities/cl-json").json()
    assert {k: v for k, v in single.items() if k not in ("calendar_id", "library_id")} == {
        k: v for k, v in body.items() if k not in ("calendar_id", "library_id")}
    listed = http.request("GET", f"{stack.gateway_url}/api/v1/communities?program_id=cl-program&kind=math_team"
                                 f"&status=draft&region_id=cl-north").json()
    assert [item["id"] for item in listed["items"]] == ["cl-json"]


def test_patch_and_status_over_http(stack, tree):
    base, token = f"{stack.gateway_url}/api/v1/communities", manager(stack)
    open_community(stack, "cl-http", capacity=1)
    register(stack, "cl-http", "cl-t1")
    register(stack, "cl-http", "cl-t2")
    patched = http.request("PATCH", f"{base}/cl-http", token=token, json_body={"capacity": 2, "grade_bands": ["6-8"]})
    assert patched.status == 200, patched.text
    body = patched.json()
    assert (body["seats"], body["grade_bands"]) == ({"capacity": 2, "confirmed": 2, "waitlisted": 0, "available": 0},
                                                    ["6-8"])
    assert [(r["person_id"], r["status"]) for r in body["promoted"]] == [("cl-t2", "confirmed")]
    below = http.request("PATCH", f"{base}/cl-http", token=token, json_body={"capacity": 1})
    assert (below.status, below.json()["reason"]) == (409, "CAPACITY_BELOW_CONFIRMED")
    bad = http.request("POST", f"{base}/cl-http/status", token=token, json_body={"status": "draft"})
    assert (bad.status, bad.json()["reason"]) == (409, "INVALID_STATUS_TRANSITION")
    assert "from open to draft" in bad.json()["detail"]
    closed = http.request("POST", f"{base}/cl-http/status", token=token, json_body={"status": "closed"})
    assert (closed.status, closed.json()["status"]) == (200, "closed")


@pytest.mark.parametrize(("window_json", "field"), [
    ({"opens_at": "2026-08-01T00:00:00Z", "soft_deadline": "2026-07-01T00:00:00Z",
      "closes_at": "2026-09-01T00:00:00Z"}, "signup_window.soft_deadline"),
    ({"opens_at": "2026-08-01T00:00:00Z", "closes_at": "2026-07-01T00:00:00Z"}, "signup_window.closes_at"),
])
def test_window_problems_name_the_json_field(stack, tree, window_json, field):
    reply = http.request("POST", f"{stack.gateway_url}/api/v1/communities", token=manager(stack), json_body={
        "name": "x", "kind": "plc", "host_organization_id": "cl-school", "signup_window": window_json})
    assert reply.status == 422
    assert (reply.json()["reason"], [e["field"] for e in reply.json()["errors"]]) == ("INVALID_SIGNUP_WINDOW", [field])


def test_http_access(stack, tree):
    base = f"{stack.gateway_url}/api/v1/communities"
    body = {"name": "x", "kind": "plc", "host_organization_id": "cl-school"}
    assert http.request("POST", base, json_body=body).status == 401
    assert http.request("POST", base, token=stack.token("regional_lead", "cl-south"), json_body=body).status == 403
    assert http.request("POST", base, token=manager(stack), json_body=body).status == 201
    create(stack, "cl-http-access")
    assert http.request("PATCH", f"{base}/cl-http-access", json_body={"focus": "x"}).status == 401
    assert http.request("PATCH", f"{base}/cl-http-access", token=stack.token("county_admin", "cl-south-county"),
                        json_body={"focus": "x"}).status == 403
    assert http.request("POST", f"{base}/cl-http-access/status", json_body={"status": "open"}).status == 401
    assert http.request("PATCH", f"{base}/cl-none", token=manager(stack), json_body={"focus": "x"}).status == 404
