"""What measures ask of membership, as this service: an organization's scope (who may read its
aggregates), and who participates in a community or a program (the effect size's teachers)."""

from __future__ import annotations

from copnet.membership.v1 import membership_pb2
from copnet.reflection.membership import PAGE_SIZE, AskingMembership

# A program's communities and a community's registrations, bounded before they cost anything more.
MAX_COMMUNITIES = 500
MAX_PARTICIPANTS = 50_000
# A list that names nothing (the item is gone meanwhile) is refused as not found.
NOT_FOUND = {"missing": "not found", "reason": "NOT_FOUND"}


class Membership(AskingMembership):
    INVALID_ID_IS_MISSING = False

    def community(self, community_id: str) -> tuple[tuple[str, ...], frozenset[str]]:
        """(the host organization's scope, the community's facilitators)."""
        community = self._call("GetCommunity", membership_pb2.GetCommunityRequest(id=community_id),
                               missing=f"no community {community_id!r}", field="community_id",
                               reason="UNKNOWN_COMMUNITY").community
        return (self.organization_scope(community.host_organization_id, "community_id"),
                frozenset(community.facilitator_ids))

    def program_scope(self, program_id: str) -> tuple[str, ...]:
        program = self._call("GetProgram", membership_pb2.GetProgramRequest(id=program_id),
                             missing=f"no program {program_id!r}", field="program_id",
                             reason="UNKNOWN_PROGRAM").program
        return self.organization_scope(program.owner_organization_id, "program_id")

    def community_participants(self, community_id: str) -> set[str]:
        """The people confirmed in the community."""
        return {registration.person_id for registration in self._pages(
            "ListRegistrations", lambda token: membership_pb2.ListRegistrationsRequest(
                community_id=community_id, status=membership_pb2.REGISTRATION_STATUS_CONFIRMED, page_size=PAGE_SIZE,
                page_token=token), "registrations", MAX_PARTICIPANTS, **NOT_FOUND)}

    def program_participants(self, program_id: str) -> set[str]:
        """The people confirmed in any community of the program."""
        people: set[str] = set()
        for community in self._pages("ListCommunities", lambda token: membership_pb2.ListCommunitiesRequest(
                program_id=program_id, page_size=PAGE_SIZE, page_token=token), "communities", MAX_COMMUNITIES,
                **NOT_FOUND):
            people |= self.community_participants(community.id)
        return people
