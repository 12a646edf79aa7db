"""Organizations: JSON models <-> membership messages."""

from __future__ import annotations

from copnet.gateway.convert.common import or_null, rfc3339
from copnet.gateway.schemas import organizations as schemas
from copnet.kernel.enums import from_label, to_label
from copnet.membership.v1 import membership_pb2 as membership


def create_organization_request(body: schemas.OrganizationCreate) -> membership.CreateOrganizationRequest:
    return membership.CreateOrganizationRequest(
        organization_id=body.id or "", name=body.name,
        kind=from_label(membership.OrganizationKind, body.kind),
        parent_id=body.parent_id or "", code=body.code or "", time_zone=body.time_zone or "")


def list_organizations_request(query: schemas.OrganizationQuery) -> membership.ListOrganizationsRequest:
    kind = from_label(membership.OrganizationKind, query.kind) if query.kind else 0
    return membership.ListOrganizationsRequest(page_size=query.page_size, page_token=query.page_token,
                                               parent_id=query.parent_id, kind=kind)


def organization(message: membership.Organization) -> schemas.Organization:
    return schemas.Organization(
        id=message.id, name=message.name,
        kind=to_label(membership.OrganizationKind, message.kind),
        parent_id=or_null(message.parent_id), ancestor_ids=list(message.ancestor_ids), code=or_null(message.code),
        time_zone=message.time_zone, created_at=rfc3339(message.create_time))
