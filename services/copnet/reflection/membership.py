"""What reflection's areas ask of membership, as this service (its own token): one way to call it,
to page through its lists and to map its refusals. Each area's own questions build on this class."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import grpc

from copnet.kernel.errors import InvalidArgument, NotFound, Unavailable
from copnet.kernel.service import ServiceContext
from copnet.membership.client import MEMBERSHIP
from copnet.membership.v1 import membership_pb2

PAGE_SIZE = 1000


class AskingMembership:
    # What membership's INVALID_ARGUMENT about an id means to the caller: an id that names nothing
    # (NotFound, as the areas that look ids up by reference answer) or one that is malformed.
    INVALID_ID_IS_MISSING = True

    def __init__(self, ctx: ServiceContext):
        self.ctx = ctx

    def _stub(self):
        return self.ctx.clients.stub(MEMBERSHIP, token=self.ctx.service_token())

    def _call(self, method: str, request, *, missing: str = "", field: str = "", reason: str = ""):
        """membership's answer; NotFound (`missing`, naming `field`) when it knows no such item and
        `missing` is given; Unavailable for anything else."""
        try:
            return getattr(self._stub(), method)(request)
        except grpc.RpcError as error:
            code = error.code()
            if missing and code == grpc.StatusCode.INVALID_ARGUMENT and not self.INVALID_ID_IS_MISSING:
                raise InvalidArgument.for_field(field, "is not a valid id") from None
            if missing and code in (grpc.StatusCode.NOT_FOUND, grpc.StatusCode.INVALID_ARGUMENT):
                raise NotFound(missing, reason=reason, metadata={"field": field}) from None
            raise Unavailable(f"membership did not answer: {code.name}", reason="MEMBERSHIP_UNAVAILABLE") from None

    def _pages(self, method: str, request_for: Callable[[str], object], items: str, limit: int, **refusal) -> Iterator:
        """The items of every page of a list, at most `limit` of them."""
        token, seen = "", 0
        while True:
            reply = self._call(method, request_for(token), **refusal)
            for item in getattr(reply, items):
                seen += 1
                if seen > limit:
                    return
                yield item
            token = reply.next_page_token
            if not token:
                return

    def organization(self, organization_id: str, field: str = "organization_id") -> membership_pb2.Organization:
        return self._call("GetOrganization", membership_pb2.GetOrganizationRequest(id=organization_id),
                          missing=f"no organization {organization_id!r}", field=field,
                          reason="UNKNOWN_ORGANIZATION").organization

    def organization_scope(self, organization_id: str, field: str = "organization_id") -> tuple[str, ...]:
        """The organization's ancestry plus itself."""
        organization = self.organization(organization_id, field)
        return (*organization.ancestor_ids, organization.id)
