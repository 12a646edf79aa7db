"""What the share service asks of membership and reflection, as itself (its service token): an
entity's current public state (None when it is gone), and every organization, program and
community page by page."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import grpc

from copnet.membership.client import MEMBERSHIP
from copnet.membership.v1 import membership_pb2
from copnet.reflection.client import REFLECTION
from copnet.reflection.v1 import cycles_pb2

PAGE_SIZE = 500
# Items read from one list at most (a region's whole directory is a few thousand).
MAX_ITEMS = 200_000


class Sources:
    def __init__(self, ctx):
        self.ctx = ctx

    def _membership(self):
        return self.ctx.clients.stub(MEMBERSHIP, token=self.ctx.service_token())

    def _one(self, method: str, request, field: str):
        """The entity, or None when membership knows none by that id."""
        try:
            return getattr(getattr(self._membership(), method)(request), field)
        except grpc.RpcError as error:
            if error.code() in (grpc.StatusCode.NOT_FOUND, grpc.StatusCode.INVALID_ARGUMENT):
                return None
            raise

    def community(self, community_id: str) -> membership_pb2.Community | None:
        return self._one("GetCommunity", membership_pb2.GetCommunityRequest(id=community_id), "community")

    def program(self, program_id: str) -> membership_pb2.Program | None:
        return self._one("GetProgram", membership_pb2.GetProgramRequest(id=program_id), "program")

    def organization(self, organization_id: str) -> membership_pb2.Organization | None:
        return self._one("GetOrganization", membership_pb2.GetOrganizationRequest(id=organization_id),
                         "organization")

    def _pages(self, method: str, make: Callable[..., object], items: str, **filters) -> Iterator:
        token, seen = "", 0
        while True:
            reply = getattr(self._membership(), method)(make(page_size=PAGE_SIZE, page_token=token, **filters))
            for item in getattr(reply, items):
                seen += 1
                if seen > MAX_ITEMS:
                    raise RuntimeError(f"membership's {items} go on beyond {MAX_ITEMS}; not read further")
                yield item
            token = reply.next_page_token
            if not token:
                return

    def organizations(self, **filters) -> Iterator[membership_pb2.Organization]:
        return self._pages("ListOrganizations", membership_pb2.ListOrganizationsRequest, "organizations", **filters)

    def programs(self) -> Iterator[membership_pb2.Program]:
        return self._pages("ListPrograms", membership_pb2.ListProgramsRequest, "programs")

    def communities(self) -> Iterator[membership_pb2.Community]:
        return self._pages("ListCommunities", membership_pb2.ListCommunitiesRequest, "communities")

    def cycle_counts(self, organization_id: str, program_year: str) -> cycles_pb2.CycleCounts:
        stub = self.ctx.clients.stub(REFLECTION, token=self.ctx.service_token())
        return stub.GetCycleCounts(cycles_pb2.GetCycleCountsRequest(organization_id=organization_id,
                                                                    program_year=program_year)).counts
