"""What participation asks of membership, as this service: a community's program year and place,
a person's placement and whether they teach at a school, an organization's kind and ancestry."""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass

import grpc

from copnet.kernel.errors import NotFound, Unavailable
from copnet.kernel.timestamps import instant
from copnet.membership.v1 import membership_pb2
from copnet.reflection.membership import AskingMembership

PAGE_SIZE = 1000
COUNTED_LEVELS = ("school", "district", "county_office", "region", "state")
TEACHING = frozenset({membership_pb2.POSITION_TEACHER, membership_pb2.POSITION_COACH,
                      membership_pb2.POSITION_SPECIALIST})


def level_of(kind: int) -> str:
    return membership_pb2.OrganizationKind.Name(kind).removeprefix("ORGANIZATION_KIND_").lower()


def changed_at(created, updated) -> dt.datetime | None:
    stamp = updated if updated.seconds or updated.nanos else created
    return instant(stamp) if stamp.seconds or stamp.nanos else None


@dataclass(frozen=True)
class Community:
    community_id: str
    program_year: str  # empty outside any program
    host_organization_id: str
    county_office_id: str
    region_id: str
    facilitator_ids: tuple[str, ...] = ()


@dataclass(frozen=True)
class Person:
    person_id: str
    # (organization id, level) from the person's school (or office) up to the state.
    placement: tuple[tuple[str, str], ...]
    teaching_at_school: bool
    as_of: dt.datetime | None


class Directory(AskingMembership):
    # Organizations' kinds and ancestry, kept for the process a few minutes (they are asked for
    # every new person; a moved organization is seen again once its entry expires).
    _organizations: dict[str, tuple[float, membership_pb2.Organization]] = {}
    _lock = threading.Lock()
    KEPT_SECONDS = 300.0

    def organization(self, organization_id: str, field: str = "organization_id") -> membership_pb2.Organization:
        with self._lock:
            kept = self._organizations.get(organization_id)
        if kept is not None and time.monotonic() - kept[0] < self.KEPT_SECONDS:
            return kept[1]
        found = super().organization(organization_id, field)
        with self._lock:
            self._organizations[organization_id] = (time.monotonic(), found)
        return found

    def fresh_organization(self, organization_id: str, field: str = "organization_id") -> membership_pb2.Organization:
        """As membership has it now (for access checks: the ancestry may have moved)."""
        with self._lock:
            self._organizations.pop(organization_id, None)
        return self.organization(organization_id, field)

    def community(self, community_id: str, field: str = "community_id") -> Community:
        found = self._call("GetCommunity", membership_pb2.GetCommunityRequest(id=community_id),
                           missing=f"no community {community_id!r}", field=field,
                           reason="UNKNOWN_COMMUNITY").community
        program_year = ""
        if found.program_id:
            program_year = self._call("GetProgram", membership_pb2.GetProgramRequest(id=found.program_id),
                                      missing=f"no program {found.program_id!r}", field="program_id",
                                      reason="UNKNOWN_PROGRAM").program.program_year
        return Community(found.id, program_year, found.host_organization_id, found.county_office_id, found.region_id,
                         tuple(found.facilitator_ids))

    def person(self, person_id: str) -> Person | None:
        """The person as membership has them now, or None when membership knows no such person."""
        try:
            found = self._stub().GetPerson(membership_pb2.GetPersonRequest(id=person_id)).person
        except grpc.RpcError as error:
            if error.code() == grpc.StatusCode.NOT_FOUND:
                return None
            raise Unavailable(f"membership did not answer: {error.code().name}",
                              reason="MEMBERSHIP_UNAVAILABLE") from None
        teaching = [a for a in found.affiliations if a.position in TEACHING
                    and self.kind_of(a.organization_id) == membership_pb2.ORGANIZATION_KIND_SCHOOL]
        placed = teaching[0] if teaching else (found.affiliations[0] if found.affiliations else None)
        try:
            placement = self.placement(placed.organization_id) if placed else ()
        except NotFound:  # an organization removed since: counted in communities only
            placement = ()
        return Person(found.id, placement, bool(teaching), changed_at(found.create_time, found.update_time))

    def kind_of(self, organization_id: str) -> int:
        try:
            return self.organization(organization_id).kind
        except NotFound:
            return membership_pb2.ORGANIZATION_KIND_UNSPECIFIED

    def placement(self, organization_id: str) -> tuple[tuple[str, str], ...]:
        """`organization_id` and its ancestors, nearest first, at the levels participation counts."""
        organization = self.organization(organization_id)
        chain = [organization_id, *reversed(organization.ancestor_ids)]
        levels = [(org_id, level_of(self.organization(org_id).kind)) for org_id in chain]
        return tuple((org_id, level) for org_id, level in levels if level in COUNTED_LEVELS)

    def communities(self) -> Iterator[membership_pb2.Community]:
        token = ""
        while True:
            reply = self._call("ListCommunities", membership_pb2.ListCommunitiesRequest(
                page_size=PAGE_SIZE, page_token=token))
            yield from reply.communities
            token = reply.next_page_token
            if not token:
                return

    def holds_confirmed_place(self, person_id: str, community_id: str, limit: int = 2000) -> bool:
        """Whether membership has `person_id` confirmed in the community now (their own places,
        bounded: a person holds a handful)."""
        token, seen = "", 0
        while seen < limit:
            reply = self._call("ListRegistrations", membership_pb2.ListRegistrationsRequest(
                person_id=person_id, status=membership_pb2.REGISTRATION_STATUS_CONFIRMED, page_size=PAGE_SIZE,
                page_token=token))
            if any(registration.community_id == community_id for registration in reply.registrations):
                return True
            seen += len(reply.registrations)
            token = reply.next_page_token
            if not token:
                return False
        return False

    def confirmed_registrations(self, community_id: str) -> Iterator[membership_pb2.Registration]:
        token = ""
        while True:
            reply = self._call("ListRegistrations", membership_pb2.ListRegistrationsRequest(
                community_id=community_id, status=membership_pb2.REGISTRATION_STATUS_CONFIRMED,
                page_size=PAGE_SIZE, page_token=token))
            yield from reply.registrations
            token = reply.next_page_token
            if not token:
                return
