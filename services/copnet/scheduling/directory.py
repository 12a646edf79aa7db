"""What scheduling asks membership (over gRPC, with the service token): communities, programs,
people, rosters and teams. Membership is the system of record; scheduling keeps no copy, so a
roster is never stale when attendance is checked or a reminder goes out.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
import threading
import time
import zoneinfo
from collections.abc import Iterator
from dataclasses import dataclass

import grpc

from copnet.kernel.clients import Clients
from copnet.kernel.errors import InvalidArgument, NotFound, Unavailable
from copnet.kernel.service import ServiceContext
from copnet.membership.client import MEMBERSHIP
from copnet.membership.v1 import membership_pb2
from copnet.membership.v1.membership_pb2_grpc import MembershipServiceStub

log = logging.getLogger(__name__)
PAGE_SIZE = 500
# Organizations (a community's host: its time zone and ancestry) are asked for on almost every
# request and change rarely (a move, a new time zone): a process keeps each for this long.
ORGANIZATION_TTL_SECONDS = 30.0
# Positions whose holders are "leaders" for a leaders-only convening.
LEADER_POSITIONS = frozenset({"site_admin", "district_admin", "county_leader"})
LEADER_TEAM_ROLES = frozenset({"lead", "administrator"})


@dataclass(frozen=True)
class CommunityFacts:
    id: str
    name: str
    program_id: str
    host_organization_id: str
    region_id: str
    # The host's ancestry plus the host: plugin configuration and roles apply over it.
    scope: tuple[str, ...]
    time_zone: str
    facilitator_ids: tuple[str, ...]
    status: str


@dataclass(frozen=True)
class ProgramFacts:
    id: str
    name: str
    program_year: str
    owner_organization_id: str
    owner_name: str
    scope: tuple[str, ...]
    time_zone: str
    # July 1 of the first year to July 1 of the next, in the owner's time zone (as UTC instants).
    year_start: dt.datetime
    year_end: dt.datetime


@dataclass(frozen=True)
class PersonFacts:
    id: str
    name: str
    email: str
    positions: tuple[str, ...]
    organization_ids: tuple[str, ...] = ()


def program_year_bounds(program_year: str, time_zone: str) -> tuple[dt.datetime, dt.datetime]:
    """[July 1 of the first year, July 1 of the next) in `time_zone`, as UTC instants."""
    first = int(program_year[:4])
    zone = zoneinfo.ZoneInfo(time_zone)
    start = dt.datetime(first, 7, 1, tzinfo=zone).astimezone(dt.UTC)
    end = dt.datetime(first + 1, 7, 1, tzinfo=zone).astimezone(dt.UTC)
    return start, end


class _Recent:
    """Values remembered for `ttl` seconds (thread-safe)."""

    def __init__(self, ttl: float):
        self.ttl = ttl
        self._lock = threading.Lock()
        self._items: dict[str, tuple[float, object]] = {}

    def get(self, key: str):
        with self._lock:
            found = self._items.get(key)
            if found is None or found[0] < time.monotonic():
                self._items.pop(key, None)
                return None
            return found[1]

    def put(self, key: str, value) -> None:
        with self._lock:
            self._items[key] = (time.monotonic() + self.ttl, value)


class Directory:
    def __init__(self, context: ServiceContext):
        self.ctx = context
        self._organizations = _Recent(ORGANIZATION_TTL_SECONDS)

    @functools.cached_property
    def _clients(self) -> Clients:
        return self.ctx.clients

    @property
    def _membership(self) -> MembershipServiceStub:
        """Membership's stub, called with this service's token."""
        return self._clients.stub(MEMBERSHIP, token=self.ctx.service_token())

    @staticmethod
    def _call(rpc, request, *, missing: str | None = None, field: str | None = None, reason: str = "NOT_FOUND"):
        """`rpc(request)` (one of membership's); NOT_FOUND becomes a field error on `field` (or
        NotFound), anything else Unavailable."""
        try:
            return rpc(request)
        except grpc.RpcError as error:
            if error.code() == grpc.StatusCode.NOT_FOUND and missing is not None:
                if field:
                    raise InvalidArgument.for_field(field, missing, reason=reason) from None
                raise NotFound(missing, reason=reason) from None
            raise Unavailable(f"membership could not answer: {error.code().name}",
                              reason="MEMBERSHIP_UNAVAILABLE") from None

    # -- organizations, communities, programs --------------------------------------------------
    def organization(self, organization_id: str):
        """The organization (remembered for ORGANIZATION_TTL_SECONDS; a missing one is not)."""
        found = self._organizations.get(organization_id)
        if found is None:
            found = self._call(self._membership.GetOrganization,
                               membership_pb2.GetOrganizationRequest(id=organization_id),
                               missing=f"no organization {organization_id!r}",
                               reason="UNKNOWN_ORGANIZATION").organization
            self._organizations.put(organization_id, found)
        return found

    def community(self, community_id: str, *, field: str | None = "community_id") -> CommunityFacts:
        """The community, or a field error on `field` (NotFound when `field` is None)."""
        from copnet.kernel.enums import to_label
        if not community_id:
            raise InvalidArgument.for_field(field or "community_id", "is required")
        community = self._call(self._membership.GetCommunity, membership_pb2.GetCommunityRequest(id=community_id),
                               missing=f"no community {community_id!r}", field=field,
                               reason="UNKNOWN_COMMUNITY").community
        host = self.organization(community.host_organization_id)
        return CommunityFacts(id=community.id, name=community.name, program_id=community.program_id,
                              host_organization_id=host.id, region_id=community.region_id,
                              scope=(*host.ancestor_ids, host.id), time_zone=host.time_zone,
                              facilitator_ids=tuple(community.facilitator_ids),
                              status=to_label(membership_pb2.CommunityStatus, community.status))

    def program(self, program_id: str, *, field: str | None = "program_id") -> ProgramFacts:
        if not program_id:
            raise InvalidArgument.for_field(field or "program_id", "is required")
        program = self._call(self._membership.GetProgram, membership_pb2.GetProgramRequest(id=program_id),
                             missing=f"no program {program_id!r}", field=field, reason="UNKNOWN_PROGRAM").program
        owner = self.organization(program.owner_organization_id)
        start, end = program_year_bounds(program.program_year, owner.time_zone)
        return ProgramFacts(id=program.id, name=program.name, program_year=program.program_year,
                            owner_organization_id=owner.id, owner_name=owner.name,
                            scope=(*owner.ancestor_ids, owner.id), time_zone=owner.time_zone,
                            year_start=start, year_end=end)

    # -- people ----------------------------------------------------------------------------------
    def person(self, person_id: str, *, field: str | None = "person_id") -> PersonFacts:
        from copnet.kernel.enums import to_label
        person = self._call(self._membership.GetPerson, membership_pb2.GetPersonRequest(id=person_id),
                            missing=f"no person {person_id!r}", field=field, reason="UNKNOWN_PERSON").person
        return PersonFacts(id=person.id, name=person.name, email=person.email,
                           positions=tuple(to_label(membership_pb2.Position, a.position) for a in person.affiliations),
                           organization_ids=tuple(a.organization_id for a in person.affiliations))

    def person_scope(self, person: PersonFacts) -> tuple[str, ...]:
        """The person's affiliated organizations with their ancestry: a manager's role over any
        of them reaches the person (as in membership)."""
        scope: list[str] = []
        for organization_id in dict.fromkeys(person.organization_ids):
            try:
                organization = self.organization(organization_id)
            except NotFound:
                continue
            scope.extend([*organization.ancestor_ids, organization.id])
        return tuple(dict.fromkeys(scope))

    def members(self, community_id: str) -> set[str]:
        """People with a confirmed registration in the community (facilitators not included)."""
        return {registration.person_id for registration in self._pages(
            self._membership.ListRegistrations, lambda token: membership_pb2.ListRegistrationsRequest(
                community_id=community_id, status=membership_pb2.REGISTRATION_STATUS_CONFIRMED, page_size=PAGE_SIZE,
                page_token=token), "registrations")}

    def communities_of(self, person_id: str) -> set[str]:
        """Communities the person is a confirmed member of or facilitates."""
        registered = {registration.community_id for registration in self._pages(
            self._membership.ListRegistrations, lambda token: membership_pb2.ListRegistrationsRequest(
                person_id=person_id, status=membership_pb2.REGISTRATION_STATUS_CONFIRMED, page_size=PAGE_SIZE,
                page_token=token), "registrations")}
        facilitated = {community.id for community in self._pages(
            self._membership.ListCommunities, lambda token: membership_pb2.ListCommunitiesRequest(
                facilitator_id=person_id, page_size=PAGE_SIZE, page_token=token), "communities")}
        return registered | facilitated

    def team(self, team_id: str, *, field: str | None = "team_id"):
        return self._call(self._membership.GetTeam, membership_pb2.GetTeamRequest(id=team_id),
                          missing=f"no team {team_id!r}", field=field, reason="UNKNOWN_TEAM").team

    def expected_attendees(self, community: CommunityFacts, audience: str, team_id: str,
                           facilitator_ids: tuple[str, ...] | list[str] = (), *,
                           members: set[str] | None = None) -> set[str]:
        """Who an occurrence with this audience is for: its facilitators plus all confirmed
        members, the members who lead, or one team's members. `members` is the community's
        confirmed members when the caller already has them."""
        people = set(facilitator_ids) | set(community.facilitator_ids)
        if members is None:
            members = self.members(community.id)
        if audience == "team":
            team = self.team(team_id, field=None)
            return people | {m.person_id for m in team.members if m.person_id in members}
        if audience == "leaders_only":
            leaders = self.team_leaders(self.teams(community.id)) & members
            leaders |= {person_id for person_id in members - leaders if self.holds_leading_position(person_id)}
            return people | leaders
        return people | members

    def teams(self, community_id: str) -> list:
        """The community's teams (membership Team messages)."""
        return list(self._pages(self._membership.ListTeams, lambda token: membership_pb2.ListTeamsRequest(
            community_id=community_id, page_size=PAGE_SIZE, page_token=token), "teams"))

    @staticmethod
    def team_leaders(teams: list) -> set[str]:
        """The leads and administrators of `teams` (leaders for a leaders-only convening)."""
        from copnet.kernel.enums import to_label
        return {m.person_id for team in teams for m in team.members
                if to_label(membership_pb2.TeamRole, m.role) in LEADER_TEAM_ROLES}

    def holds_leading_position(self, person_id: str) -> bool:
        """A site, district or county leader by position (a leader for a leaders-only convening).
        A person membership no longer has holds none (and does not empty the audience for others)."""
        try:
            return bool(LEADER_POSITIONS & set(self.person(person_id, field=None).positions))
        except NotFound:
            return False

    def _pages(self, rpc, request_for_token, items: str) -> Iterator:
        token = ""
        while True:
            reply = self._call(rpc, request_for_token(token))
            yield from getattr(reply, items)
            token = reply.next_page_token
            if not token:
                return


class Audiences:
    """Who occurrences are for (Directory.expected_attendees), each community's roster and each
    (community, audience, team) asked of membership once while this lives: one request, or one
    reminder scan. A team that no longer exists leaves its occurrences to their facilitators."""

    def __init__(self, directory: Directory):
        self.directory = directory
        self._members: dict[str, set[str]] = {}
        self._people: dict[tuple[str, str, str], set[str]] = {}

    def members(self, community_id: str) -> set[str]:
        if community_id not in self._members:
            self._members[community_id] = self.directory.members(community_id)
        return self._members[community_id]

    def of(self, community: CommunityFacts, audience: str, team_id: str) -> set[str]:
        key = (community.id, audience, team_id)
        if key not in self._people:
            try:
                self._people[key] = self.directory.expected_attendees(community, audience, team_id,
                                                                      members=self.members(community.id))
            except NotFound:
                log.warning("team %s of community %s is gone: its sessions are for their facilitators only",
                            team_id, community.id)
                self._people[key] = set(community.facilitator_ids)
        return self._people[key]

    def at(self, community: CommunityFacts, occurrence) -> set[str]:
        """Who one occurrence (or session) of `community` is for: its audience and its facilitators."""
        return self.of(community, occurrence.audience, occurrence.team_id) | set(occurrence.facilitator_ids)
