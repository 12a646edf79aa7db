"""Proto messages <-> the HTTP API's JSON models: enum spelling, ids, timestamps, empty = null."""

from __future__ import annotations

from datetime import UTC, datetime

from google.protobuf import timestamp_pb2

from copnet.gateway import schemas
from copnet.kernel.enums import from_label, to_label
from copnet.membership.v1 import membership_pb2 as membership
from copnet.reflection.v1 import reflection_pb2 as reflection
from copnet.scheduling.v1 import scheduling_pb2 as scheduling

# Proto request fields whose JSON name differs, so a service's field violation names what the
# caller actually sent (AIP-133's `organization_id` is the body's `id`).
JSON_FIELD_FOR_PROTO_FIELD = {"organization_id": "id", "community_id": "id"}


def json_field(proto_field: str) -> str:
    return JSON_FIELD_FOR_PROTO_FIELD.get(proto_field, proto_field)


def rfc3339(timestamp: timestamp_pb2.Timestamp) -> datetime:
    """The API's instants carry milliseconds, the precision MongoDB stores, whatever a reply holds."""
    moment = timestamp.ToDatetime(tzinfo=UTC)
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


def or_null(text: str) -> str | None:
    """proto3 has no null: an empty string there means "absent" here."""
    return text or None


# -- organizations --------------------------------------------------------------------------------
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


# -- communities ----------------------------------------------------------------------------------
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


# -- catalog and reports --------------------------------------------------------------------------
def session_type(message: scheduling.SessionType) -> schemas.SessionType:
    return schemas.SessionType(key=message.key, title=message.title, description=message.description,
                               default_duration_minutes=message.default_duration_minutes, plugin=message.plugin)


def community_count(message: reflection.CommunityCount) -> schemas.CommunityCount:
    return schemas.CommunityCount(county_office_id=message.county_office_id, communities=message.communities)
