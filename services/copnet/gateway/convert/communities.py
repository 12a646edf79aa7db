"""Communities: JSON models <-> membership messages."""

from __future__ import annotations

from copnet.gateway.convert.common import or_null, rfc3339
from copnet.gateway.schemas import communities as schemas
from copnet.kernel.enums import from_label, to_label
from copnet.membership.v1 import membership_pb2 as membership


def create_community_request(body: schemas.CommunityCreate) -> membership.CreateCommunityRequest:
    return membership.CreateCommunityRequest(
        community_id=body.id or "", name=body.name,
        kind=from_label(membership.CommunityKind, body.kind),
        description=body.description, host_organization_id=body.host_organization_id)


def list_communities_request(query: schemas.CommunityQuery) -> membership.ListCommunitiesRequest:
    return membership.ListCommunitiesRequest(page_size=query.page_size, page_token=query.page_token,
                                             host_organization_id=query.host_organization_id)


def community_summary(message: membership.Community) -> schemas.CommunitySummary:
    return schemas.CommunitySummary(**_community_fields(message))


def community(message: membership.Community, calendar_id: str | None, library_id: str | None) -> schemas.Community:
    return schemas.Community(**_community_fields(message), calendar_id=calendar_id, library_id=library_id)


def _community_fields(message: membership.Community) -> dict:
    return dict(id=message.id, name=message.name,
                kind=to_label(membership.CommunityKind, message.kind),
                description=message.description, host_organization_id=message.host_organization_id,
                county_office_id=or_null(message.county_office_id), created_at=rfc3339(message.create_time))
