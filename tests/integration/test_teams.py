"""Teams over the real stack: a school team signs up as a unit (all seats, one waiting-list entry,
or nothing at all), and teams of registered people with at most one team per person."""

from __future__ import annotations

import datetime as dt
from concurrent.futures import ThreadPoolExecutor

import grpc
import pytest
from copnet.membership.v1 import membership_pb2

from tests.integration.http import request
from tests.integration.signup_world import (
    World,
    check_ledger,
    rpc_error,
    wait_for_events,
)

pytestmark = pytest.mark.integration

EMPTY = {"confirmed_count": 0, "waitlisted_count": 0, "waitlist_entries": 0}


@pytest.fixture(scope="module")
def world(stack):
    made = World(stack, "tm")
    yield made
    made.close()


def school_team(world: World, name: str, school: str | None = None) -> dict[str, str]:
    """A specialist, a site administrator and a grades 3-5 teacher at one school: the math-team default."""
    school = school or world.school
    return {"specialist": world.person(f"{name}-spec", (school, "specialist"), bands=()),
            "site_admin": world.person(f"{name}-admin", (school, "site_admin"), bands=()),
            "teacher": world.person(f"{name}-teacher", (school, "teacher"), bands=("3_5",))}


def members(people: dict[str, str]) -> list[membership_pb2.TeamMemberSpec]:
    roles = {"site_admin": membership_pb2.TEAM_ROLE_ADMINISTRATOR, "specialist": membership_pb2.TEAM_ROLE_LEAD}
    return [membership_pb2.TeamMemberSpec(person_id=p, role=roles.get(position, membership_pb2.TEAM_ROLE_MEMBER))
            for position, p in people.items()]


def register_team(world: World, community: str, people: dict[str, str], *, school: str | None = None,
                  token: str | None = None, name: str = "team", team_id: str = "") -> membership_pb2.RegisterTeamResponse:
    return world.membership(token or world.token_of(people["site_admin"], org=school or world.school)).RegisterTeam(membership_pb2.RegisterTeamRequest(
        community_id=community, team_name=name, school_id=school or world.school, members=members(people),
        team_id=team_id))


def nothing_written(world: World, community: str) -> None:
    assert world.ledger(community) == EMPTY
    assert world.registrations(community) == []
    assert world.db.teams.count_documents({"community_id": community}) == 0


def test_a_school_team_that_fits_is_confirmed_together_over_http(world):
    community = world.community("fits", capacity=5, kind="math_team")
    people = school_team(world, "fits")
    body = {"team_id": "tm-fits-team", "team_name": "Fits Elementary", "school_id": world.school,
            "members": [{"person_id": s.person_id, "role": "administrator" if s.role == membership_pb2.TEAM_ROLE_ADMINISTRATOR
                         else "lead" if s.role == membership_pb2.TEAM_ROLE_LEAD else "member"} for s in members(people)]}
    reply = request("POST", f"{world.services.gateway_url}/api/v1/communities/{community}/team-registrations",
                    json_body=body, token=world.token_of(people["site_admin"]))
    assert reply.status == 201, reply.text
    created = reply.json()
    assert reply.headers["location"].endswith("/api/v1/teams/tm-fits-team")
    assert (created["team"]["kind"], created["team"]["school_id"]) == ("school", world.school)
    assert {r["status"] for r in created["registrations"]} == {"confirmed"}
    assert {r["team_id"] for r in created["registrations"]} == {"tm-fits-team"}
    assert [r["sequence"] for r in created["registrations"]] == [1, 2, 3]
    assert check_ledger(world, community) == {"confirmed_count": 3, "waitlisted_count": 0, "waitlist_entries": 0}
    read = request("GET", world.services.gateway_url + reply.headers["location"],
                   token=world.token_of(people["teacher"]))
    assert read.status == 200 and read.json() == created["team"]
    wait_for_events(world.services, "copnet.membership.team.created", {"tm-fits-team"})
    wait_for_events(world.services, "copnet.membership.registration.created",
                    {r["id"] for r in created["registrations"]})


def test_a_team_that_does_not_fit_waits_as_one_entry_and_moves_up_only_as_a_whole(world):
    community = world.community("queue", capacity=4, kind="math_team")
    first = register_team(world, community, school_team(world, "q1"), team_id="tm-q1")
    second = register_team(world, community, school_team(world, "q2", world.other_school),
                           school=world.other_school, team_id="tm-q2")
    assert {r.status for r in second.registrations} == {membership_pb2.REGISTRATION_STATUS_WAITLISTED}
    assert {r.waitlist_position for r in second.registrations} == {1}
    solo = world.register(community, world.person("q-solo"))
    assert (solo.status, solo.waitlist_position) == (membership_pb2.REGISTRATION_STATUS_WAITLISTED, 2)
    assert check_ledger(world, community) == {"confirmed_count": 3, "waitlisted_count": 4, "waitlist_entries": 2}

    # Two seats free: the team of three does not fit, and the person behind it waits too.
    leaving = first.registrations[0]
    reply = world.cancel(leaving.id, world.token_of(leaving.person_id))
    assert list(reply.promoted) == []
    left = world.membership(world.manager()).GetTeam(membership_pb2.GetTeamRequest(id="tm-q1")).team
    assert leaving.person_id not in [x.person_id for x in left.members] and len(left.members) == 2
    # Three seats free: the whole team moves up, in one step.
    reply = world.cancel(first.registrations[1].id, world.manager())
    assert sorted(r.id for r in reply.promoted) == sorted(r.id for r in second.registrations)
    assert world.membership(world.token_of(solo.person_id)).GetRegistration(membership_pb2.GetRegistrationRequest(id=solo.id)).registration.waitlist_position == 1
    assert check_ledger(world, community) == {"confirmed_count": 4, "waitlisted_count": 1, "waitlist_entries": 1}


@pytest.mark.parametrize("problem", ["composition", "ineligible", "registered", "not_at_school", "full"])
def test_a_team_registration_that_breaks_any_rule_takes_no_seat(world, problem):
    fields = {"kind": "math_team", "capacity": 5}
    if problem == "ineligible":
        fields["positions"] = ["teacher", "specialist"]          # the site administrator is not eligible
    if problem == "full":
        fields.update(capacity=2, soft_deadline_in=-dt.timedelta(hours=1))
    community = world.community(f"bad-{problem}".replace("_", "-"), **fields)
    people = school_team(world, f"bad-{problem}".replace("_", "-"))
    if problem == "composition":
        people.pop("specialist")                                   # no specialist: that slot is unfilled
    if problem == "registered":
        world.register(community, people["teacher"])
    if problem == "not_at_school":
        people["teacher"] = world.person("bad-elsewhere", (world.other_school, "teacher"))
    before = world.ledger(community), len(world.registrations(community))
    error = rpc_error(register_team, world, community, people, name="bad",
                      token=world.token_of(people["site_admin"]))
    expected = {"composition": (grpc.StatusCode.INVALID_ARGUMENT, "TEAM_COMPOSITION_INVALID"),
                "ineligible": (grpc.StatusCode.FAILED_PRECONDITION, "NOT_ELIGIBLE"),
                "registered": (grpc.StatusCode.ALREADY_EXISTS, "ALREADY_REGISTERED"),
                "not_at_school": (grpc.StatusCode.INVALID_ARGUMENT, "NOT_AT_SCHOOL"),
                "full": (grpc.StatusCode.FAILED_PRECONDITION, "SIGNUP_FULL")}[problem]
    assert (error.code, error.reason) == expected
    if problem == "composition":
        assert [f.field for f in error.fields] == ["members"] and "specialist" in error.message
    assert (world.ledger(community), len(world.registrations(community))) == before
    assert world.db.teams.count_documents({"community_id": community}) == 0


def test_who_may_register_a_school_team(world):
    community = world.community("who", capacity=9, kind="math_team")
    people = school_team(world, "who")
    other_admin = world.person("who-other-admin", (world.other_school, "site_admin"))
    for token in (world.token_of(other_admin, org=world.other_school), world.token_of(people["teacher"])):
        error = rpc_error(register_team, world, community, people, token=token)
        assert (error.code, error.reason) == (grpc.StatusCode.PERMISSION_DENIED, "OUT_OF_SCOPE")
    nothing_written(world, community)
    not_a_school = rpc_error(register_team, world, community, people, school=world.district, token=world.manager())
    assert (not_a_school.reason, [f.field for f in not_a_school.fields]) == ("NOT_A_SCHOOL", ["school_id"])
    made = register_team(world, community, people, token=world.manager())
    assert {r.registered_by for r in made.registrations} == {"tm-manager"}


def test_cross_district_teams_hold_registered_people_each_on_one_team(world):
    facilitator = world.person("x-facilitator")
    community = world.community("cross", capacity=9, facilitators=[facilitator], kind="cross_district_team")
    a = world.person("x-a")
    b = world.person("x-b", (world.other_school, "teacher"))
    c = world.person("x-c")
    stranger = world.person("x-stranger")
    for person in (a, b, c):
        world.register(community, person)
    spec = [membership_pb2.TeamMemberSpec(person_id=p, role=membership_pb2.TEAM_ROLE_MEMBER) for p in (a, b)]
    request_ = membership_pb2.CreateTeamRequest(community_id=community, team_id="tm-cross", kind=membership_pb2.TEAM_KIND_CROSS_DISTRICT,
                                                name="Bridges", members=spec)
    assert rpc_error(world.membership(world.token_of(a)).CreateTeam, request_).code == \
        grpc.StatusCode.PERMISSION_DENIED
    team = world.membership(world.token_of(facilitator)).CreateTeam(request_).team
    assert [x.person_id for x in team.members] == [a, b]

    taken = rpc_error(world.membership(world.manager()).CreateTeam, membership_pb2.CreateTeamRequest(
        community_id=community, team_id="tm-cross2", kind=membership_pb2.TEAM_KIND_CROSS_DISTRICT, name="Other",
        members=[membership_pb2.TeamMemberSpec(person_id=a, role=membership_pb2.TEAM_ROLE_LEAD)]))
    assert taken.reason == "ALREADY_ON_A_TEAM"
    unregistered = rpc_error(world.membership(world.manager()).AddTeamMember, membership_pb2.AddTeamMemberRequest(
        team_id="tm-cross", member=membership_pb2.TeamMemberSpec(person_id=stranger, role=membership_pb2.TEAM_ROLE_MEMBER)))
    assert (unregistered.reason, [f.field for f in unregistered.fields]) == ("NOT_REGISTERED", ["member.person_id"])
    assert world.db.teams.count_documents({"community_id": community}) == 1

    # Members read their team; a registered colleague on no team does not.
    assert world.membership(world.token_of(b)).GetTeam(membership_pb2.GetTeamRequest(id="tm-cross")).team.name == "Bridges"
    assert rpc_error(world.membership(world.token_of(c)).GetTeam, membership_pb2.GetTeamRequest(id="tm-cross")).code == grpc.StatusCode.PERMISSION_DENIED
    assert [t.id for t in world.membership(world.token_of(c)).ListTeams(membership_pb2.ListTeamsRequest(community_id=community)).teams] == []
    assert [t.id for t in world.membership(world.token_of(facilitator)).ListTeams(membership_pb2.ListTeamsRequest(community_id=community)).teams] == ["tm-cross"]

    # Over HTTP: add c, take a off; a may then join another team.
    base = f"{world.services.gateway_url}/api/v1/teams/tm-cross/members"
    added = request("PUT", f"{base}/{c}", json_body={"role": "lead"}, token=world.token_of(facilitator))
    assert added.status == 200 and [x["person_id"] for x in added.json()["members"]] == [a, b, c]
    removed = request("DELETE", f"{base}/{a}", token=world.token_of(facilitator))
    assert removed.status == 200 and [x["person_id"] for x in removed.json()["members"]] == [b, c]
    assert request("DELETE", f"{base}/{a}", token=world.token_of(facilitator)).status == 404
    other = request("POST", f"{world.services.gateway_url}/api/v1/communities/{community}/teams",
                    json_body={"id": "tm-cross3", "kind": "cross_district", "name": "Next",
                               "members": [{"person_id": a, "role": "lead"}]}, token=world.manager())
    assert other.status == 201 and other.headers["location"].endswith("/api/v1/teams/tm-cross3")
    events = wait_for_events(world.services, "copnet.membership.team.updated", {"tm-cross"})
    assert len(events["tm-cross"]) == 2


def test_two_teams_racing_for_the_same_person_take_them_once(world):
    community = world.community("tug", capacity=9, kind="cross_district_team")
    shared = world.person("tug-shared")
    world.register(community, shared)

    def create(n: int):
        try:
            return world.membership(world.manager()).CreateTeam(membership_pb2.CreateTeamRequest(
                community_id=community, team_id=f"tm-tug{n}", kind=membership_pb2.TEAM_KIND_CROSS_DISTRICT, name=f"T{n}",
                members=[membership_pb2.TeamMemberSpec(person_id=shared, role=membership_pb2.TEAM_ROLE_MEMBER)]))
        except grpc.RpcError as error:
            return error.code()

    with ThreadPoolExecutor(8) as pool:
        outcomes = list(pool.map(create, range(8)))
    assert sum(isinstance(o, membership_pb2.CreateTeamResponse) for o in outcomes) == 1
    assert world.db.teams.count_documents({"community_id": community, "members.person_id": shared}) == 1
