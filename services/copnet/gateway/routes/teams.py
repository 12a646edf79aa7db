"""/api/v1 (teams): school and cross-district teams inside a community (membership). Every route
needs a token: a team is seen by its members, the community's facilitators and managers, and the
school's site administrator."""

from __future__ import annotations

from flask import url_for
from flask_openapi3 import APIBlueprint, Tag

from copnet.gateway.auth import BEARER_REQUIRED
from copnet.gateway.backend import membership
from copnet.gateway.convert import teams as convert
from copnet.gateway.openapi import READ_PROBLEMS, WRITE_PROBLEMS, operation_id, problem_responses
from copnet.gateway.schemas.teams import (
    CommunityTeamsPath,
    Team,
    TeamCreate,
    TeamList,
    TeamMemberPath,
    TeamMemberRole,
    TeamPath,
    TeamQuery,
)
from copnet.membership.v1 import membership_pb2

blueprint = APIBlueprint("teams", __name__, url_prefix="/api/v1", operation_id_callback=operation_id,
                         abp_tags=[Tag(name="teams", description="School and cross-district teams inside a community.")])


@blueprint.post("/communities/<id>/teams", responses={201: Team, **WRITE_PROBLEMS}, security=BEARER_REQUIRED)
def create_team(path: CommunityTeamsPath, body: TeamCreate):
    """A team of people already registered in the community, each on no other team there."""
    reply = membership().CreateTeam(convert.create_team_request(path.id, body))
    created = convert.team(reply.team)
    return created.model_dump(mode="json"), 201, {"Location": url_for(".get_team", id=created.id)}


@blueprint.get("/communities/<id>/teams", responses={200: TeamList, **problem_responses(404, 422, 503, 504)},
               security=BEARER_REQUIRED)
def list_teams(path: CommunityTeamsPath, query: TeamQuery):
    """The community's teams the caller may see, in id order."""
    reply = membership().ListTeams(membership_pb2.ListTeamsRequest(community_id=path.id, page_size=query.page_size,
                                                                   page_token=query.page_token))
    return TeamList(items=[convert.team(t) for t in reply.teams],
                    next_page_token=reply.next_page_token).model_dump(mode="json")


@blueprint.get("/teams/<id>", responses={200: Team, **READ_PROBLEMS}, security=BEARER_REQUIRED)
def get_team(path: TeamPath):
    """One team (its members, the community's facilitators and managers, the school's site administrator)."""
    reply = membership().GetTeam(membership_pb2.GetTeamRequest(id=path.id))
    return convert.team(reply.team).model_dump(mode="json")


@blueprint.put("/teams/<id>/members/<person_id>", responses={200: Team, **WRITE_PROBLEMS}, security=BEARER_REQUIRED)
def add_team_member(path: TeamMemberPath, body: TeamMemberRole):
    """Put a registered person on the team (they may be on no other team in the community)."""
    reply = membership().AddTeamMember(membership_pb2.AddTeamMemberRequest(
        team_id=path.id, member=convert.member_spec(path.person_id, body.role)))
    return convert.team(reply.team).model_dump(mode="json")


@blueprint.delete("/teams/<id>/members/<person_id>", responses={200: Team, **WRITE_PROBLEMS}, security=BEARER_REQUIRED)
def remove_team_member(path: TeamMemberPath):
    """Take a person off the team."""
    reply = membership().RemoveTeamMember(membership_pb2.RemoveTeamMemberRequest(team_id=path.id,
                                                                                 person_id=path.person_id))
    return convert.team(reply.team).model_dump(mode="json")
