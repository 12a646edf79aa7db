"""What an import asks membership about the organization tree: the data set's organization (its
scope, for access) and, once per import, every organization under it with its code."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import grpc

from copnet.kernel.enums import to_label
from copnet.kernel.errors import InvalidArgument, NotFound, Unavailable, details_of
from copnet.membership.client import MEMBERSHIP
from copnet.membership.v1 import membership_pb2
from copnet.reflection.datasets.validation import OrganizationTree, Placement

# The levels measures are kept at, from the bottom; an aggregate file's entity levels for them.
LEVELS = ("school", "district", "county_office", "region")
ENTITY_LEVEL = {"school": "school", "district": "district", "county_office": "county"}
PAGE_SIZE = 1000
# Organizations one import reads from membership at most (a region has a few thousand schools).
MAX_ORGANIZATIONS = 100_000


@dataclass(frozen=True)
class Organization:
    id: str
    kind: str
    parent_id: str
    code: str
    ancestor_ids: tuple[str, ...]

    @property
    def scope(self) -> list[str]:
        return [*self.ancestor_ids, self.id]


def _organization(message: membership_pb2.Organization) -> Organization:
    return Organization(message.id, to_label(membership_pb2.OrganizationKind, message.kind), message.parent_id,
                        message.code, tuple(message.ancestor_ids))


def _call(rpc, request):
    try:
        return rpc(request)
    except grpc.RpcError as error:
        details = details_of(error)
        if details.code == grpc.StatusCode.NOT_FOUND:
            raise NotFound(details.message, reason=details.reason or "ORGANIZATION_NOT_FOUND") from None
        raise Unavailable(f"membership could not be asked about the organization tree ({details.code.name})",
                          reason="MEMBERSHIP_UNAVAILABLE") from None


class Membership:
    """Membership's organizations, read with this service's own token."""

    def __init__(self, ctx):
        self.ctx = ctx

    def stub(self):
        return self.ctx.clients.stub(MEMBERSHIP, token=self.ctx.service_token())

    def organization(self, organization_id: str, field: str = "organization_id") -> Organization:
        if not organization_id:
            raise InvalidArgument.for_field(field, "is required")
        try:
            reply = _call(self.stub().GetOrganization, membership_pb2.GetOrganizationRequest(id=organization_id))
        except NotFound:
            raise NotFound(f"no organization {organization_id!r}", reason="ORGANIZATION_NOT_FOUND",
                           metadata={"organization_id": organization_id}) from None
        return _organization(reply.organization)

    def below(self, organization_id: str) -> list[Organization]:
        found, token = [], ""
        while True:
            reply = _call(self.stub().ListOrganizations, membership_pb2.ListOrganizationsRequest(
                ancestor_id=organization_id, page_size=PAGE_SIZE, page_token=token))
            found += [_organization(message) for message in reply.organizations]
            token = reply.next_page_token
            if not token or len(found) >= MAX_ORGANIZATIONS:
                return found

    def tree(self, top: Organization) -> OrganizationTree:
        """The tree under `top` (and `top`'s own ancestors, so a school knows its county office)."""
        above = [self.organization(ancestor) for ancestor in top.ancestor_ids]
        return tree_of([*above, top, *self.below(top.id)])


def tree_of(organizations: Iterable[Organization]) -> OrganizationTree:
    """Schools by code placed under their district, county office and region; every measured
    organization's parent and level; every code by entity level."""
    by_id = {org.id: org for org in organizations}
    tree = OrganizationTree()

    def nearest(org: Organization, levels: tuple[str, ...]) -> dict[str, str]:
        """The nearest ancestor of each of `levels`."""
        found: dict[str, str] = {}
        for ancestor_id in reversed(org.ancestor_ids):
            ancestor = by_id.get(ancestor_id)
            if ancestor is not None and ancestor.kind in levels and ancestor.kind not in found:
                found[ancestor.kind] = ancestor.id
        return found

    for org in by_id.values():
        if org.kind not in LEVELS:
            continue
        above = nearest(org, LEVELS[LEVELS.index(org.kind) + 1:])
        parent = next((above[level] for level in LEVELS[LEVELS.index(org.kind) + 1:] if level in above), "")
        tree.parents[org.id] = (parent, org.kind)
        if org.code and org.kind in ENTITY_LEVEL:
            tree.ids_by_code[f"{ENTITY_LEVEL[org.kind]}|{org.code.strip()}"] = org.id
        if org.kind == "school" and org.code:
            tree.schools[org.code.strip()] = Placement(org.id, above.get("district", ""),
                                                       above.get("county_office", ""), above.get("region", ""))
    return tree
