"""membership's gRPC API."""

from __future__ import annotations

import re
import zoneinfo

import bson
from pymongo.errors import DuplicateKeyError

from copnet.events.v1 import events_pb2
from copnet.kernel import auth, db
from copnet.kernel.auth import Role
from copnet.kernel.enums import from_label, to_label
from copnet.kernel.errors import AlreadyExists, InvalidArgument, NotFound
from copnet.kernel.pagination import page_of
from copnet.kernel.service import ServiceContext
from copnet.kernel.timestamps import timestamp
from copnet.membership.models import Community, Organization
from copnet.membership.v1 import membership_pb2 as pb
from copnet.membership.v1 import membership_pb2_grpc

ID_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]{1,62}$")
CODE_PATTERN = re.compile(r"^[A-Za-z0-9-]{1,32}$")
# Which kinds may sit under which: the state at the root, schools under districts, and so on.
ALLOWED_PARENTS = {
    "state": {None},
    "region": {"state"},
    "county_office": {"region", "state"},
    "district": {"county_office"},
    "school": {"district"},
    "network": {None, "state", "region", "county_office", "district"},
    "university": {None, "state", "region", "county_office"},
    "partner": {None, "state", "region", "county_office", "district"},
}
ORG_MANAGERS = {Role.PLATFORM_ADMIN, Role.REGIONAL_LEAD, Role.COUNTY_ADMIN}
COMMUNITY_MANAGERS = {Role.PLATFORM_ADMIN, Role.REGIONAL_LEAD, Role.COUNTY_ADMIN}


def required_label(enum, value: int, field: str) -> str:
    if value == 0 or value not in enum.values():
        raise InvalidArgument.for_field(field, "is required" if value == 0 else f"unknown value {value}")
    return to_label(enum, value)


def chosen_or_new_id(requested: str, field: str) -> str:
    if not requested:
        return str(bson.ObjectId())
    if not ID_PATTERN.match(requested):
        raise InvalidArgument.for_field(field, "must be 2-63 characters: lower-case letters, digits and '-'")
    return requested


def required_text(value: str, field: str, max_length: int = 200) -> str:
    value = value.strip()
    if not value:
        raise InvalidArgument.for_field(field, "is required")
    if len(value) > max_length:
        raise InvalidArgument.for_field(field, f"must be at most {max_length} characters")
    return value


def organization_message(org: Organization) -> pb.Organization:
    return pb.Organization(id=org.id, name=org.name, kind=from_label(pb.OrganizationKind, org.kind),
                           parent_id=org.parent_id or "", ancestor_ids=list(org.ancestor_ids),
                           code=org.code or "", time_zone=org.time_zone, create_time=timestamp(org.created_at))


def community_message(community: Community) -> pb.Community:
    return pb.Community(id=community.id, name=community.name,
                        kind=from_label(pb.CommunityKind, community.kind),
                        description=community.description, host_organization_id=community.host_organization_id,
                        county_office_id=community.county_office_id, create_time=timestamp(community.created_at))


class MembershipServicer(membership_pb2_grpc.MembershipServiceServicer):
    def __init__(self, context: ServiceContext):
        self.ctx = context

    # -- organizations -------------------------------------------------------------------------
    def CreateOrganization(self, request: pb.CreateOrganizationRequest, _context) -> pb.CreateOrganizationResponse:
        auth.require_authenticated("creating an organization")
        kind = required_label(pb.OrganizationKind, request.kind, "kind")
        name = required_text(request.name, "name")
        org_id = chosen_or_new_id(request.organization_id, "organization_id")
        code = request.code.strip() or None
        if code is not None and not CODE_PATTERN.match(code):
            raise InvalidArgument.for_field("code", "must be 1-32 letters, digits or '-'")
        parent = None
        if request.parent_id:
            parent = Organization.objects(id=request.parent_id).first()
            if parent is None:
                raise InvalidArgument.for_field("parent_id", f"no organization {request.parent_id!r}",
                                                reason="UNKNOWN_PARENT")
        parent_kind = parent.kind if parent else None
        if parent_kind not in ALLOWED_PARENTS[kind]:
            allowed = ", ".join(sorted(k or "none" for k in ALLOWED_PARENTS[kind]))
            raise InvalidArgument.for_field("parent_id", f"a {kind} must sit under: {allowed}",
                                            reason="INVALID_PARENT_KIND")
        time_zone = request.time_zone or (parent.time_zone if parent else "")
        if not time_zone:
            raise InvalidArgument.for_field("time_zone", "is required for an organization without a parent")
        try:
            zoneinfo.ZoneInfo(time_zone)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            raise InvalidArgument.for_field("time_zone", f"unknown IANA time zone {time_zone!r}") from None
        auth.require(ORG_MANAGERS if parent else {Role.PLATFORM_ADMIN}, parent.scope if parent else [],
                     "creating an organization")

        org = Organization(id=org_id, name=name, kind=kind, parent_id=parent.id if parent else "",
                           ancestor_ids=parent.scope if parent else [], code=code,
                           code_key=f"{kind}:{code}" if code else None, time_zone=time_zone,
                           created_at=db.utcnow())
        payload = events_pb2.OrganizationCreated(organization_id=org.id, name=org.name, kind=kind,
                                                 parent_id=org.parent_id, ancestor_ids=org.ancestor_ids)

        def work(uow: db.UnitOfWork) -> None:
            uow.insert(org)
            uow.emit(self.ctx.event("copnet.membership.organization.created", org.id, payload))

        try:
            self.ctx.transaction(work)
        except DuplicateKeyError as error:
            if "code_key" in str(error):
                raise AlreadyExists(f"a {kind} with code {code!r} already exists", reason="DUPLICATE_CODE",
                                    metadata={"field": "code"}) from None
            raise AlreadyExists(f"organization {org_id!r} already exists", reason="DUPLICATE_ID",
                                metadata={"field": "organization_id"}) from None
        return pb.CreateOrganizationResponse(organization=organization_message(org))

    def GetOrganization(self, request: pb.GetOrganizationRequest, _context) -> pb.GetOrganizationResponse:
        org = Organization.objects(id=request.id).first() if request.id else None
        if org is None:
            raise NotFound(f"no organization {request.id!r}")
        return pb.GetOrganizationResponse(organization=organization_message(org))

    def ListOrganizations(self, request: pb.ListOrganizationsRequest, _context) -> pb.ListOrganizationsResponse:
        query: dict = {}
        if request.parent_id:
            query["parent_id"] = request.parent_id
        if request.kind:
            query["kind"] = required_label(pb.OrganizationKind, request.kind, "kind")
        found, token = page_of(Organization, query, request.page_size, request.page_token)
        return pb.ListOrganizationsResponse(organizations=[organization_message(o) for o in found],
                                            next_page_token=token)

    # -- communities ---------------------------------------------------------------------------
    def CreateCommunity(self, request: pb.CreateCommunityRequest, _context) -> pb.CreateCommunityResponse:
        auth.require_authenticated("creating a community")
        name = required_text(request.name, "name")
        kind = required_label(pb.CommunityKind, request.kind, "kind")
        description = request.description.strip()
        if len(description) > 5000:
            raise InvalidArgument.for_field("description", "must be at most 5000 characters")
        community_id = chosen_or_new_id(request.community_id, "community_id")
        if not request.host_organization_id:
            raise InvalidArgument.for_field("host_organization_id", "is required")
        host = Organization.objects(id=request.host_organization_id).first()
        if host is None:
            raise InvalidArgument.for_field("host_organization_id",
                                            f"no organization {request.host_organization_id!r}",
                                            reason="UNKNOWN_ORGANIZATION")
        auth.require(COMMUNITY_MANAGERS, host.scope, "creating a community")
        county_office_id = county_office_of(host)
        community = Community(id=community_id, name=name, kind=kind, description=description,
                              host_organization_id=host.id, county_office_id=county_office_id, scope=host.scope,
                              created_at=db.utcnow())
        payload = events_pb2.CommunityCreated(community_id=community.id, name=name, kind=kind,
                                              host_organization_id=host.id, county_office_id=county_office_id)

        def work(uow: db.UnitOfWork) -> None:
            uow.insert(community)
            uow.emit(self.ctx.event("copnet.membership.community.created", community.id, payload))

        try:
            self.ctx.transaction(work)
        except DuplicateKeyError:
            raise AlreadyExists(f"community {community_id!r} already exists", reason="DUPLICATE_ID",
                                metadata={"field": "community_id"}) from None
        return pb.CreateCommunityResponse(community=community_message(community))

    def GetCommunity(self, request: pb.GetCommunityRequest, _context) -> pb.GetCommunityResponse:
        community = Community.objects(id=request.id).first() if request.id else None
        if community is None:
            raise NotFound(f"no community {request.id!r}")
        return pb.GetCommunityResponse(community=community_message(community))

    def ListCommunities(self, request: pb.ListCommunitiesRequest, _context) -> pb.ListCommunitiesResponse:
        query: dict = {}
        if request.host_organization_id:
            query["host_organization_id"] = request.host_organization_id
        found, token = page_of(Community, query, request.page_size, request.page_token)
        return pb.ListCommunitiesResponse(communities=[community_message(c) for c in found],
                                          next_page_token=token)


def county_office_of(org: Organization) -> str:
    """The county office at or above `org`, or "" when it sits above county level."""
    if org.kind == "county_office":
        return org.id
    for ancestor in Organization.objects(id__in=org.ancestor_ids, kind="county_office").only("id"):
        return ancestor.id
    return ""
