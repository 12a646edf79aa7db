"""Organizations: JSON models <-> membership messages."""

from __future__ import annotations

from copnet.gateway.convert.common import or_null, rfc3339, rfc3339_or_null
from copnet.gateway.schemas import organizations as schemas
from copnet.kernel.enums import from_label, to_label
from copnet.membership.v1 import membership_pb2

def create_organization_request(body: schemas.OrganizationCreate) -> membership_pb2.CreateOrganizationRequest:
    return membership_pb2.CreateOrganizationRequest(
        organization_id=body.id or "", name=body.name,
        kind=from_label(membership_pb2.OrganizationKind, body.kind),
        parent_id=body.parent_id or "", code=body.code or "", time_zone=body.time_zone or "")


def list_organizations_request(query: schemas.OrganizationQuery) -> membership_pb2.ListOrganizationsRequest:
    kind = from_label(membership_pb2.OrganizationKind, query.kind) if query.kind else 0
    return membership_pb2.ListOrganizationsRequest(page_size=query.page_size, page_token=query.page_token,
                                                   parent_id=query.parent_id, kind=kind, region_id=query.region_id,
                                                   network_id=query.network_id, ancestor_id=query.ancestor_id)


def update_organization_request(org_id: str,
                                body: schemas.OrganizationUpdate) -> membership_pb2.UpdateOrganizationRequest:
    request = membership_pb2.UpdateOrganizationRequest(id=org_id)
    if body.name is not None:
        request.name = body.name
    if body.time_zone is not None:
        request.time_zone = body.time_zone
    if "code" in body.model_fields_set:
        request.code = body.code or ""
    return request


def organization(message: membership_pb2.Organization) -> schemas.Organization:
    return schemas.Organization(
        id=message.id, name=message.name,
        kind=to_label(membership_pb2.OrganizationKind, message.kind),
        parent_id=or_null(message.parent_id), ancestor_ids=list(message.ancestor_ids),
        region_id=or_null(message.region_id), network_ids=list(message.network_ids),
        parent_history=[schemas.ParentChange(parent_id=or_null(change.parent_id), from_at=rfc3339(change.from_time),
                                             until_at=rfc3339(change.until_time), moved_by=or_null(change.moved_by))
                        for change in message.parent_history],
        code=or_null(message.code), time_zone=message.time_zone, created_at=rfc3339(message.create_time),
        updated_at=rfc3339_or_null(message, "update_time"))
