"""scheduling's directory: a community's facts come from membership; its host organization is
remembered for a while (asked on nearly every request, changed rarely), a missing one is not."""

import types

import grpc
import pytest

from copnet.kernel.errors import NotFound
from copnet.kernel.plugin_host import PluginHost
from copnet.kernel.service import ServiceContext
from tests.support import tokens
from copnet.membership.v1 import membership_pb2
from copnet.scheduling import directory as directory_module
from copnet.scheduling.directory import Audiences, Directory
from tests.support.fake_grpc import clients_answered_by


class Membership:
    """membership as scheduling's directory sees it: community "plc" has members ana, ben (a team
    lead), cy (a site administrator) and dee; team "t-1" is ben's and dee's."""

    def __init__(self):
        self.calls: list[str] = []
        self.time_zone = "America/Los_Angeles"
        self.missing: set[str] = set()

    def call(self, method, request, *, token=None):
        self.calls.append(method)
        if method == "GetCommunity":
            return membership_pb2.GetCommunityResponse(community=membership_pb2.Community(
                id=request.id, name=request.id, host_organization_id="district-1", facilitator_ids=["fac"]))
        if method == "ListRegistrations":
            return membership_pb2.ListRegistrationsResponse(registrations=[
                membership_pb2.Registration(community_id=request.community_id, person_id=p) for p in ("ana", "ben", "cy", "dee")])
        if method in ("GetTeam", "ListTeams"):
            team = membership_pb2.Team(id="t-1", community_id="plc", members=[
                membership_pb2.TeamMember(person_id="ben", role=membership_pb2.TEAM_ROLE_LEAD),
                membership_pb2.TeamMember(person_id="dee", role=membership_pb2.TEAM_ROLE_MEMBER)])
            if method == "ListTeams":
                return membership_pb2.ListTeamsResponse(teams=[team])
            if request.id in self.missing:
                raise Missing()
            return membership_pb2.GetTeamResponse(team=team)
        if method == "GetPerson":
            if request.id in self.missing:
                raise Missing()
            positions = [membership_pb2.Affiliation(organization_id="school-1", position=membership_pb2.POSITION_SITE_ADMIN)] \
                if request.id == "cy" else []
            return membership_pb2.GetPersonResponse(person=membership_pb2.Person(id=request.id, name=request.id, affiliations=positions))
        if request.id in self.missing:
            raise Missing()
        return membership_pb2.GetOrganizationResponse(organization=membership_pb2.Organization(
            id=request.id, ancestor_ids=["state", "region"], time_zone=self.time_zone))


class Missing(grpc.RpcError):
    def code(self):
        return grpc.StatusCode.NOT_FOUND


@pytest.fixture
def membership():
    return Membership()


@pytest.fixture
def directory(membership):
    found = Directory(ServiceContext("scheduling", tokens.settings("scheduling"), PluginHost()))
    found.__dict__["_clients"] = clients_answered_by(
        membership=lambda call: membership.call(call.method, call.request, token=call.token))
    return found


def test_a_community_carries_its_hosts_scope_and_time_zone(directory):
    community = directory.community("plc")
    assert community.scope == ("state", "region", "district-1")
    assert community.time_zone == "America/Los_Angeles"
    assert community.facilitator_ids == ("fac",)


def test_the_host_is_asked_for_once_within_its_time_to_live(directory, membership):
    directory.community("plc")
    directory.community("other-plc")
    assert membership.calls == ["GetCommunity", "GetOrganization", "GetCommunity"]


def test_after_its_time_to_live_the_host_is_asked_for_again(directory, membership, monkeypatch):
    clock = [1000.0]
    monkeypatch.setattr(directory_module.time, "monotonic", lambda: clock[0])
    directory.community("plc")
    membership.time_zone = "America/New_York"
    clock[0] += directory_module.ORGANIZATION_TTL_SECONDS - 1
    assert directory.community("plc").time_zone == "America/Los_Angeles"
    clock[0] += 2
    assert directory.community("plc").time_zone == "America/New_York"
    assert membership.calls.count("GetOrganization") == 2


def test_a_missing_organization_is_not_remembered(directory, membership):
    membership.missing.add("gone")
    for _ in range(2):
        with pytest.raises(NotFound):
            directory.organization("gone")
    assert membership.calls == ["GetOrganization", "GetOrganization"]


def test_an_audience_is_its_facilitators_and_the_members_it_names(directory):
    audiences = Audiences(directory)
    community = directory.community("plc")
    assert audiences.of(community, "all_members", "") == {"fac", "ana", "ben", "cy", "dee"}
    assert audiences.of(community, "team", "t-1") == {"fac", "ben", "dee"}
    assert audiences.of(community, "leaders_only", "") == {"fac", "ben", "cy"}


def test_each_roster_and_audience_is_asked_for_once_while_the_audiences_live(directory, membership):
    audiences = Audiences(directory)
    community = directory.community("plc")
    for _ in range(2):
        for audience, team_id in (("all_members", ""), ("team", "t-1"), ("leaders_only", "")):
            audiences.of(community, audience, team_id)
    assert membership.calls.count("ListRegistrations") == 1
    assert membership.calls.count("GetTeam") == 1
    assert membership.calls.count("ListTeams") == 1


def test_a_team_that_is_gone_leaves_its_occurrences_to_their_facilitators(directory, membership):
    membership.missing.add("t-1")
    occurrence = types.SimpleNamespace(audience="team", team_id="t-1", facilitator_ids=["guest"])
    assert Audiences(directory).at(directory.community("plc"), occurrence) == {"fac", "guest"}


def test_a_member_membership_no_longer_has_is_no_leader_and_the_others_still_are(directory, membership):
    membership.missing.add("ana")
    assert Audiences(directory).of(directory.community("plc"), "leaders_only", "") == {"fac", "ben", "cy"}
