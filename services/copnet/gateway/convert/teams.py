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
from copnet.membership.v1 import membership_pb2


def member_spec(person_id: str, role) -> membership_pb2.TeamMemberSpec:
    return membership_pb2.TeamMemberSpec(person_id=person_id, role=enum_to_proto(membership_pb2.TeamRole, role))


def create_team_request(community_id: str, body: schemas.TeamCreate) -> membership_pb2.CreateTeamRequest:
    return membership_pb2.CreateTeamRequest(
        community_id=community_id, team_id=body.id or "", kind=enum_to_proto(membership_pb2.TeamKind, body.kind),
        name=body.name, school_id=body.school_id or "",
        members=[member_spec(m.person_id, m.role) for m in body.members])


def team(message: membership_pb2.Team) -> schemas.Team:
    return schemas.Team(
        id=message.id, community_id=message.community_id, kind=enum_from_proto(membership_pb2.TeamKind, message.kind),
        name=message.name, school_id=or_null(message.school_id),
        members=[schemas.TeamMember(person_id=m.person_id, role=enum_from_proto(membership_pb2.TeamRole, m.role))
                 for m in message.members],
        created_by=message.created_by, created_at=rfc3339(message.create_time),
        updated_at=rfc3339_or_null(message, "update_time"))
