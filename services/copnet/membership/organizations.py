"""Organizations: the tree (state > region > county office > district > school), networks beside
it, external codes, moves that keep history."""

from __future__ import annotations

import re

from pymongo.errors import DuplicateKeyError

from copnet.events.v1 import events_pb2
from copnet.kernel import auth, db
from copnet.kernel.auth import Role
from copnet.kernel.enums import from_label
from copnet.kernel.errors import AlreadyExists, InvalidArgument, NotFound
from copnet.kernel.pagination import page_of
from copnet.kernel.service import ServiceContext
from copnet.kernel.timestamps import timestamp
from copnet.membership.access import ORG_MANAGERS
from copnet.membership.models import Organization
from copnet.membership.rules import chosen_or_new_id, required_label, required_text, valid_time_zone
from copnet.membership.v1 import membership_pb2 as pb

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


def organization_message(org: Organization) -> pb.Organization:
    return pb.Organization(id=org.id, name=org.name, kind=from_label(pb.OrganizationKind, org.kind),
                           parent_id=org.parent_id or "", ancestor_ids=list(org.ancestor_ids),
                           code=org.code or "", time_zone=org.time_zone, create_time=timestamp(org.created_at))


class OrganizationsApi:
    ctx: ServiceContext

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
        valid_time_zone(time_zone)
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

def county_office_of(org: Organization) -> str:
    """The county office at or above `org`, or "" when it sits above county level."""
    if org.kind == "county_office":
        return org.id
    for ancestor in Organization.objects(id__in=org.ancestor_ids, kind="county_office").only("id"):
        return ancestor.id
    return ""
