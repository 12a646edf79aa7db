"""teams: JSON models <-> membership messages."""

from __future__ import annotations

from copnet.gateway.convert.common import (
    enum_from_proto,
    enum_to_proto,
    or_null,
    rfc3339,
    rfc3339_or_null,
)
from copnet.gateway.schemas import teams as schemas
from copnet.membership.v1 import membership_pb2 as membership


def member_spec(person_id: str, role) -> membership.TeamMemberSpec:
    return membership.TeamMemberSpec(person_id=person_id, role=enum_to_proto(membership.TeamRole, role))


def create_team_request(community_id: str, body: schemas.TeamCreate) -> membership.CreateTeamRequest:
    return membership.CreateTeamRequest(
        community_id=community_id, team_id=body.id or "", kind=enum_to_proto(membership.TeamKind, body.kind),
        name=body.name, school_id=body.school_id or "",
        members=[member_spec(m.person_id, m.role) for m in body.members])


def team(message: membership.Team) -> schemas.Team:
    return schemas.Team(
        id=message.id, community_id=message.community_id, kind=enum_from_proto(membership.TeamKind, message.kind),
        name=message.name, school_id=or_null(message.school_id),
        members=[schemas.TeamMember(person_id=m.person_id, role=enum_from_proto(membership.TeamRole, m.role))
                 for m in message.members],
        created_by=message.created_by, created_at=rfc3339(message.create_time),
        updated_at=rfc3339_or_null(message, "update_time"))
