"""Who works on an inquiry cycle, asked of membership and scheduling over gRPC: the community's
confirmed participants and facilitators (a team's cycle: the team's members and the community's
facilitators), and the community's managers (county admins and regional leads over its host
organization, platform admins). Anyone else in scope — a state coordinator among them — reads
counts of cycles only (GetCycleCounts)."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

import grpc

from copnet.kernel import auth
from copnet.kernel.auth import Identity, Role
from copnet.kernel.errors import (
    InvalidArgument,
    NotFound,
    PermissionDenied,
    Unavailable,
)
from copnet.membership.v1 import membership_pb2
from copnet.reflection.measures.membership import NOT_FOUND, PAGE_SIZE, Membership
from copnet.scheduling.client import SCHEDULING
from copnet.scheduling.v1 import scheduling_pb2

MANAGERS = frozenset({Role.COUNTY_ADMIN, Role.REGIONAL_LEAD, Role.PLATFORM_ADMIN})
# A person's registrations read to find one community's, at most.
MAX_OWN_REGISTRATIONS = 2000


@dataclass(frozen=True)
class Community:
    id: str
    host_organization_id: str
    # The host organization's ancestry and itself.
    scope: tuple[str, ...]
    facilitators: frozenset[str]
    program_id: str


@dataclass(frozen=True)
class Team:
    id: str
    community_id: str
    members: frozenset[str]


def is_manager(identity: Identity | None, scope: Collection[str]) -> bool:
    return identity is not None and (auth.is_service(identity) or identity.may(set(MANAGERS), list(scope)))


def refused(action: str) -> PermissionDenied:
    return PermissionDenied(f"{action} is for the community's members and facilitators (a team's cycle: the "
                            "team's members) and its managers; others in scope read counts of cycles only",
                            reason="NOT_A_MEMBER")


class CycleMembership(Membership):
    def community_facts(self, community_id: str, field: str = "community_id") -> Community:
        community = self._call("GetCommunity", membership_pb2.GetCommunityRequest(id=community_id),
                               missing=f"no community {community_id!r}", field=field,
                               reason="UNKNOWN_COMMUNITY").community
        return Community(community.id, community.host_organization_id,
                         self.organization_scope(community.host_organization_id, field),
                         frozenset(community.facilitator_ids), community.program_id)

    def team(self, team_id: str, field: str = "team_id") -> Team:
        team = self._call("GetTeam", membership_pb2.GetTeamRequest(id=team_id), missing=f"no team {team_id!r}",
                          field=field, reason="UNKNOWN_TEAM").team
        return Team(team.id, team.community_id, frozenset(m.person_id for m in team.members))

    def program_year(self, program_id: str) -> str:
        return self._call("GetProgram", membership_pb2.GetProgramRequest(id=program_id),
                          missing=f"no program {program_id!r}", field="community_id",
                          reason="UNKNOWN_PROGRAM").program.program_year

    def is_confirmed(self, community_id: str, person_id: str) -> bool:
        """Whether `person_id` holds a confirmed place in the community (their own registrations)."""
        return any(r.community_id == community_id for r in self._pages(
            "ListRegistrations", lambda token: membership_pb2.ListRegistrationsRequest(
                person_id=person_id, status=membership_pb2.REGISTRATION_STATUS_CONFIRMED, page_size=PAGE_SIZE,
                page_token=token), "registrations", MAX_OWN_REGISTRATIONS, **NOT_FOUND))

    def may_work_on(self, community: Community, team: Team | None) -> bool:
        """Whether the caller reads and writes the cycles of `community` (of `team`, when given)."""
        identity = auth.current_identity()
        if identity is None:
            return False
        if is_manager(identity, community.scope) or identity.person_id in community.facilitators:
            return True
        if team is not None:
            return identity.person_id in team.members
        return bool(identity.person_id) and self.is_confirmed(community.id, identity.person_id)

    def require_worker(self, community: Community, team: Team | None, action: str) -> Identity:
        identity = auth.require_authenticated(action)
        if not self.may_work_on(community, team):
            raise refused(action)
        return identity

    def people_of(self, community: Community, team: Team | None) -> frozenset[str]:
        """Who may own an action of the cycle."""
        people = team.members if team is not None else frozenset(self.community_participants(community.id))
        return people | community.facilitators

    # -- scheduling ---------------------------------------------------------------------------
    def session(self, session_id: str, field: str) -> scheduling_pb2.Session:
        stub = self.ctx.clients.stub(SCHEDULING, token=self.ctx.service_token())
        try:
            return stub.GetSession(scheduling_pb2.GetSessionRequest(id=session_id)).session
        except grpc.RpcError as error:
            if error.code() in (grpc.StatusCode.NOT_FOUND, grpc.StatusCode.INVALID_ARGUMENT):
                raise InvalidArgument.for_field(field, f"no session {session_id!r}", reason="UNKNOWN_SESSION") \
                    from None
            raise Unavailable(f"scheduling did not answer: {error.code().name}",
                              reason="SCHEDULING_UNAVAILABLE") from None

    def session_to_read(self, session_id: str) -> scheduling_pb2.Session:
        try:
            return self.session(session_id, "session_id")
        except InvalidArgument:
            raise NotFound(f"no session {session_id!r}", reason="UNKNOWN_SESSION",
                           metadata={"field": "session_id"}) from None
