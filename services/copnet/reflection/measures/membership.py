"""What measures ask of membership, as this service: an organization's scope (who may read its
aggregates), and who participates in a community or a program (the effect size's teachers)."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import grpc

from copnet.kernel.errors import InvalidArgument, NotFound, Unavailable
from copnet.kernel.service import ServiceContext
from copnet.membership.client import MEMBERSHIP
from copnet.membership.v1 import membership_pb2

PAGE_SIZE = 1000
# A program's communities and a community's registrations, bounded before they cost anything more.
MAX_COMMUNITIES = 500
MAX_PARTICIPANTS = 50_000


class Membership:
    def __init__(self, ctx: ServiceContext):
        self.ctx = ctx

    def _stub(self):
        return self.ctx.clients.stub(MEMBERSHIP, token=self.ctx.service_token())

    def _call(self, method: str, request, *, missing: str, field: str, reason: str):
        try:
            return getattr(self._stub(), method)(request)
        except grpc.RpcError as error:
            if error.code() == grpc.StatusCode.NOT_FOUND:
                raise NotFound(missing, reason=reason, metadata={"field": field}) from None
            if error.code() == grpc.StatusCode.INVALID_ARGUMENT:
                raise InvalidArgument.for_field(field, "is not a valid id") from None
            raise Unavailable(f"membership did not answer: {error.code().name}",
                              reason="MEMBERSHIP_UNAVAILABLE") from None

    def organization_scope(self, organization_id: str, field: str = "organization_id") -> tuple[str, ...]:
        """The organization's ancestry plus itself."""
        organization = self._call("GetOrganization", membership_pb2.GetOrganizationRequest(id=organization_id),
                                  missing=f"no organization {organization_id!r}", field=field,
                                  reason="UNKNOWN_ORGANIZATION").organization
        return (*organization.ancestor_ids, organization.id)

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

    def _pages(self, method: str, request_for: Callable[[str], object], items: str, limit: int) -> Iterator:
        token, seen = "", 0
        while True:
            reply = self._call(method, request_for(token), missing="not found", field="", reason="NOT_FOUND")
            for item in getattr(reply, items):
                seen += 1
                if seen > limit:
                    return
                yield item
            token = reply.next_page_token
            if not token:
                return

    def community_participants(self, community_id: str) -> set[str]:
        """The people confirmed in the community."""
        return {registration.person_id for registration in self._pages(
            "ListRegistrations", lambda token: membership_pb2.ListRegistrationsRequest(
                community_id=community_id, status=membership_pb2.REGISTRATION_STATUS_CONFIRMED, page_size=PAGE_SIZE,
                page_token=token), "registrations", MAX_PARTICIPANTS)}

    def program_participants(self, program_id: str) -> set[str]:
        """The people confirmed in any community of the program."""
        people: set[str] = set()
        for community in self._pages("ListCommunities", lambda token: membership_pb2.ListCommunitiesRequest(
                program_id=program_id, page_size=PAGE_SIZE, page_token=token), "communities", MAX_COMMUNITIES):
            people |= self.community_participants(community.id)
        return people
