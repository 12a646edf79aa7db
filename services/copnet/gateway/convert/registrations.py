"""registrations: JSON models <-> membership messages."""

from __future__ import annotations

from copnet.gateway.convert.common import (
    enum_from_proto,
    enum_to_proto,
    or_null,
    rfc3339,
    rfc3339_or_null,
)
from copnet.gateway.convert.teams import member_spec, team
from copnet.gateway.schemas import registrations as schemas
from copnet.membership.v1 import membership_pb2


def register_request(community_id: str, body: schemas.RegistrationCreate) -> membership_pb2.RegisterRequest:
    return membership_pb2.RegisterRequest(community_id=community_id, person_id=body.person_id or "",
                                          acknowledge_commitment=body.acknowledge_commitment)


def list_request(query: schemas.RegistrationQuery, *, community_id: str = "",
                 person_id: str = "") -> membership_pb2.ListRegistrationsRequest:
    return membership_pb2.ListRegistrationsRequest(
        community_id=community_id, person_id=person_id, page_size=query.page_size, page_token=query.page_token,
        status=enum_to_proto(membership_pb2.RegistrationStatus, query.status))


def register_team_request(community_id: str,
                          body: schemas.TeamRegistrationCreate) -> membership_pb2.RegisterTeamRequest:
    return membership_pb2.RegisterTeamRequest(
        community_id=community_id, team_id=body.team_id or "", team_name=body.team_name, school_id=body.school_id,
        members=[member_spec(m.person_id, m.role) for m in body.members])


def registration(message: membership_pb2.Registration) -> schemas.Registration:
    return schemas.Registration(
        id=message.id, community_id=message.community_id, person_id=message.person_id,
        status=enum_from_proto(membership_pb2.RegistrationStatus, message.status),
        waitlist_position=message.waitlist_position or None, team_id=or_null(message.team_id),
        registered_by=message.registered_by, sequence=message.sequence, created_at=rfc3339(message.create_time),
        promoted_at=rfc3339_or_null(message, "promote_time"), cancelled_at=rfc3339_or_null(message, "cancel_time"),
        cancelled_by=or_null(message.cancelled_by),
        commitment_acknowledged_at=rfc3339_or_null(message, "commitment_acknowledge_time"),
        onboarding_completed_at=rfc3339_or_null(message, "onboarding_complete_time"))


def team_registration(reply: membership_pb2.RegisterTeamResponse) -> schemas.TeamRegistration:
    return schemas.TeamRegistration(team=team(reply.team), registrations=[registration(r) for r in reply.registrations])
