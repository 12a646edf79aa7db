"""What surveys ask of membership, as this service: a program, an organization, the communities
of a program, and whether a person holds a confirmed place in one of them."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from copnet.membership.v1 import membership_pb2
from copnet.reflection.membership import PAGE_SIZE, AskingMembership

# Bounds on what one call walks through.
MAX_COMMUNITIES = 2000
MAX_REGISTRATIONS = 2000


@dataclass(frozen=True)
class Placement:
    """Where a program's community sits, for breakdowns."""

    community_id: str
    county_office_id: str
    region_id: str


class Membership(AskingMembership):
    def program(self, program_id: str, field: str = "program_id") -> membership_pb2.Program:
        return self._call("GetProgram", membership_pb2.GetProgramRequest(id=program_id),
                          missing=f"no program {program_id!r}", field=field, reason="UNKNOWN_PROGRAM").program

    def program_communities(self, program_id: str) -> dict[str, Placement]:
        found: dict[str, Placement] = {}
        token = ""
        while len(found) < MAX_COMMUNITIES:
            reply = self._call("ListCommunities", membership_pb2.ListCommunitiesRequest(
                program_id=program_id, page_size=PAGE_SIZE, page_token=token),
                missing=f"no program {program_id!r}", field="program_id", reason="UNKNOWN_PROGRAM")
            for community in reply.communities:
                found[community.id] = Placement(community.id, community.county_office_id, community.region_id)
            token = reply.next_page_token
            if not token:
                break
        return found

    def confirmed_communities(self, person_id: str) -> Iterator[str]:
        """The communities `person_id` holds a confirmed registration in."""
        token, seen = "", 0
        while seen < MAX_REGISTRATIONS:
            reply = self._call("ListRegistrations", membership_pb2.ListRegistrationsRequest(
                person_id=person_id, status=membership_pb2.REGISTRATION_STATUS_CONFIRMED, page_size=PAGE_SIZE,
                page_token=token), missing="no such person", field="person_id", reason="UNKNOWN_PERSON")
            seen += len(reply.registrations)
            yield from (registration.community_id for registration in reply.registrations)
            token = reply.next_page_token
            if not token:
                return

    def participation(self, program_id: str, person_id: str) -> Placement | None:
        """The program community a person takes part in (the first by id when several), or None."""
        communities = self.program_communities(program_id)
        mine = sorted(set(self.confirmed_communities(person_id)) & communities.keys())
        return communities[mine[0]] if mine else None
