"""Organizations: the tree (state > region > county office > district > school), networks beside
it, external codes, moves that keep history."""

from __future__ import annotations

import re

from pymongo.errors import DuplicateKeyError

from copnet.kernel import auth, db
from copnet.kernel.auth import Identity, Role
from copnet.kernel.errors import (
    AlreadyExists,
    FailedPrecondition,
    InvalidArgument,
)
from copnet.kernel.inputs import chosen_or_new_id, required_label, required_text, valid_time_zone
from copnet.kernel.pagination import page_of
from copnet.kernel.service import ServiceContext
from copnet.membership import events, lookups
from copnet.membership.access import ORG_MANAGERS
from copnet.membership.messages import organization_message
from copnet.membership.models import (
    Community,
    Organization,
    ParentChange,
    Person,
    Program,
    Proposal,
)
from copnet.membership.v1 import membership_pb2

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


def valid_code(code: str) -> str | None:
    """The trimmed external code, None when empty."""
    code = code.strip()
    if code and not CODE_PATTERN.match(code):
        raise InvalidArgument.for_field("code", "must be 1-32 letters, digits or '-'")
    return code or None


def code_key(kind: str, code: str | None) -> str | None:
    return f"{kind}:{code}" if code else None


def region_below(parent: Organization | None, kind: str, org_id: str) -> str:
    """The region of an organization of `kind` under `parent`: itself when a region, else inherited."""
    if kind == "region":
        return org_id
    return parent.region_id if parent else ""


def check_parent_kind(kind: str, parent: Organization | None, field: str) -> None:
    parent_kind = parent.kind if parent else None
    if parent_kind not in ALLOWED_PARENTS[kind]:
        allowed = ", ".join(sorted(k or "none" for k in ALLOWED_PARENTS[kind]))
        raise InvalidArgument.for_field(field, f"a {kind} must sit under: {allowed}", reason="INVALID_PARENT_KIND")


def duplicate_code(kind: str, code: str | None) -> AlreadyExists:
    return AlreadyExists(f"a {kind} with code {code!r} already exists", reason="DUPLICATE_CODE",
                         metadata={"field": "code"})


class OrganizationsApi:
    ctx: ServiceContext

    def _organization_changed(self, uow: db.UnitOfWork, verb: str, org_id: str, identity: Identity) -> Organization:
        """Re-read `org_id` as written in this unit of work and emit organization.<verb> with it."""
        org = lookups.reread(uow, Organization, org_id)
        uow.emit(events.organization_changed(self.ctx, verb, org, identity.person_id))
        return org

    # -- organizations -------------------------------------------------------------------------
    def CreateOrganization(
        self, request: membership_pb2.CreateOrganizationRequest, _context
    ) -> membership_pb2.CreateOrganizationResponse:
        auth.require_authenticated("creating an organization")
        kind = required_label(membership_pb2.OrganizationKind, request.kind, "kind")
        name = required_text(request.name, "name")
        org_id = chosen_or_new_id(request.organization_id, "organization_id")
        code = valid_code(request.code)
        parent = None
        if request.parent_id:
            parent = Organization.objects(id=request.parent_id).first()
            if parent is None:
                raise InvalidArgument.for_field(
                    "parent_id", f"no organization {request.parent_id!r}", reason="UNKNOWN_PARENT"
                )
        check_parent_kind(kind, parent, "parent_id")
        time_zone = request.time_zone or (parent.time_zone if parent else "")
        if not time_zone:
            raise InvalidArgument.for_field("time_zone", "is required for an organization without a parent")
        valid_time_zone(time_zone)
        auth.require(
            ORG_MANAGERS if parent else {Role.PLATFORM_ADMIN},
            parent.scope if parent else [],
            "creating an organization",
        )

        now = db.utcnow()
        org = Organization(
            id=org_id,
            name=name,
            kind=kind,
            parent_id=parent.id if parent else "",
            ancestor_ids=parent.scope if parent else [],
            region_id=region_below(parent, kind, org_id),
            code=code,
            code_key=code_key(kind, code),
            time_zone=time_zone,
            created_at=now,
            parent_since=now,
            updated_at=now,
        )

        def work(uow: db.UnitOfWork) -> None:
            uow.insert(org)
            uow.emit(events.organization_created(self.ctx, org))

        try:
            self.ctx.transaction(work)
        except DuplicateKeyError:
            # Which unique key clashed first is up to the server; the id is what callers re-send.
            if not Organization.objects(id=org_id).only("id").first():
                raise duplicate_code(kind, code) from None
            raise lookups.duplicate_id(Organization, org_id, "organization_id") from None
        return membership_pb2.CreateOrganizationResponse(organization=organization_message(org))

    def GetOrganization(
        self, request: membership_pb2.GetOrganizationRequest, _context
    ) -> membership_pb2.GetOrganizationResponse:
        return membership_pb2.GetOrganizationResponse(
            organization=organization_message(lookups.existing(Organization, request.id))
        )

    def ListOrganizations(
        self, request: membership_pb2.ListOrganizationsRequest, _context
    ) -> membership_pb2.ListOrganizationsResponse:
        query: dict = {}
        if request.parent_id:
            query["parent_id"] = request.parent_id
        if request.kind:
            query["kind"] = required_label(membership_pb2.OrganizationKind, request.kind, "kind")
        if request.region_id:
            query["region_id"] = request.region_id
        if request.network_id:
            query["network_ids"] = request.network_id
        if request.ancestor_id:
            query["ancestor_ids"] = request.ancestor_id
        found, token = page_of(Organization, query, request.page_size, request.page_token)
        return membership_pb2.ListOrganizationsResponse(
            organizations=[organization_message(o) for o in found], next_page_token=token
        )

    def UpdateOrganization(
        self, request: membership_pb2.UpdateOrganizationRequest, _context
    ) -> membership_pb2.UpdateOrganizationResponse:
        identity = auth.require_authenticated("changing an organization")
        changes: dict = {}
        if request.HasField("name"):
            changes["name"] = required_text(request.name, "name")
        if request.HasField("time_zone"):
            changes["time_zone"] = valid_time_zone(request.time_zone.strip())
        new_code = valid_code(request.code) if request.HasField("code") else None
        org = lookups.existing(Organization, request.id)
        auth.require(ORG_MANAGERS, org.scope, "changing an organization")

        def work(uow: db.UnitOfWork) -> Organization:
            current = uow.find_one(Organization, {"_id": org.id})
            update: dict = {"$set": {**changes, "updated_at": db.utcnow()}}
            if request.HasField("code"):
                if new_code:
                    update["$set"].update(code=new_code, code_key=code_key(current.kind, new_code))
                else:
                    update["$unset"] = {"code": "", "code_key": ""}
            uow.update_one(Organization, {"_id": org.id}, update)
            return self._organization_changed(uow, "updated", org.id, identity)

        try:
            updated = self.ctx.transaction(work)
        except DuplicateKeyError:
            raise duplicate_code(org.kind, new_code) from None
        return membership_pb2.UpdateOrganizationResponse(organization=organization_message(updated))

    def MoveOrganization(
        self, request: membership_pb2.MoveOrganizationRequest, _context
    ) -> membership_pb2.MoveOrganizationResponse:
        identity = auth.require_authenticated("moving an organization")
        org = lookups.existing(Organization, request.id)
        new_parent = Organization.objects(id=request.new_parent_id).first() if request.new_parent_id else None
        if new_parent is None:
            raise InvalidArgument.for_field(
                "new_parent_id", f"no organization {request.new_parent_id!r}", reason="UNKNOWN_PARENT"
            )
        refuse_move_into_own_subtree(org, new_parent)
        check_parent_kind(org.kind, new_parent, "new_parent_id")
        old_parent_scope = [*org.ancestor_ids]
        auth.require(
            ORG_MANAGERS if old_parent_scope else {Role.PLATFORM_ADMIN},
            old_parent_scope,
            "moving an organization away from its parent",
        )
        auth.require(ORG_MANAGERS, new_parent.scope, "moving an organization under this parent")
        if org.parent_id == new_parent.id:
            return membership_pb2.MoveOrganizationResponse(organization=organization_message(org))

        def work(uow: db.UnitOfWork) -> Organization:
            moving = uow.find_one(Organization, {"_id": org.id})
            parent = uow.find_one(Organization, {"_id": new_parent.id})
            refuse_move_into_own_subtree(moving, parent)
            move_subtree(uow, moving, parent, identity.person_id, db.utcnow())
            return self._organization_changed(uow, "moved", org.id, identity)

        moved = self.ctx.transaction(work)
        return membership_pb2.MoveOrganizationResponse(organization=organization_message(moved))

    def AddNetworkMember(
        self, request: membership_pb2.AddNetworkMemberRequest, _context
    ) -> membership_pb2.AddNetworkMemberResponse:
        identity, network, member = self._network_and_member(request, "adding a network member")

        def work(uow: db.UnitOfWork) -> Organization:
            current = uow.find_one(Organization, {"_id": member.id})
            if network.id in current.network_ids:  # already a member: nothing changes, nothing to announce
                return current
            uow.update_one(
                Organization,
                {"_id": member.id},
                {"$push": {"network_ids": network.id}, "$set": {"updated_at": db.utcnow()}},
            )
            return self._organization_changed(uow, "network_member_added", member.id, identity)

        return membership_pb2.AddNetworkMemberResponse(organization=organization_message(self.ctx.transaction(work)))

    def RemoveNetworkMember(
        self, request: membership_pb2.RemoveNetworkMemberRequest, _context
    ) -> membership_pb2.RemoveNetworkMemberResponse:
        identity, network, member = self._network_and_member(request, "removing a network member")

        def work(uow: db.UnitOfWork) -> Organization:
            if network.id not in uow.find_one(Organization, {"_id": member.id}).network_ids:
                raise FailedPrecondition(
                    f"{member.id!r} is not a member of network {network.id!r}", reason="NOT_A_MEMBER"
                )
            uow.update_one(
                Organization,
                {"_id": member.id},
                {"$pull": {"network_ids": network.id}, "$set": {"updated_at": db.utcnow()}},
            )
            return self._organization_changed(uow, "network_member_removed", member.id, identity)

        return membership_pb2.RemoveNetworkMemberResponse(organization=organization_message(self.ctx.transaction(work)))

    def _network_and_member(self, request, action: str) -> tuple[Identity, Organization, Organization]:
        identity = auth.require_authenticated(action)
        network = lookups.existing(Organization, request.network_id)
        if network.kind != "network":
            raise InvalidArgument.for_field(
                "network_id", f"{network.id!r} is a {network.kind}, not a network", reason="NOT_A_NETWORK"
            )
        member = lookups.existing(Organization, request.organization_id)
        if member.kind == "network":
            raise InvalidArgument.for_field(
                "organization_id", "a network cannot be a member of a network", reason="NETWORK_CANNOT_JOIN_NETWORK"
            )
        if not (identity.may(ORG_MANAGERS, network.scope) or identity.may(ORG_MANAGERS, member.scope)):
            auth.require(ORG_MANAGERS, network.scope, action)  # raises, naming the roles that would do
        return identity, network, member


def refuse_move_into_own_subtree(org: Organization, new_parent: Organization) -> None:
    if new_parent.id == org.id or org.id in new_parent.ancestor_ids:
        raise InvalidArgument.for_field(
            "new_parent_id",
            "an organization cannot move under itself or its own subtree",
            reason="MOVE_INTO_OWN_SUBTREE",
        )


def move_subtree(uow: db.UnitOfWork, org: Organization, new_parent: Organization, moved_by: str, now) -> None:
    """Re-root `org` under `new_parent`, and rewrite everything that copied the subtree's ancestry:
    descendants, hosted communities, affiliated people, owned programs and their proposals."""
    descendants = uow.find_all(Organization, {"ancestor_ids": org.id})
    above = {o.id: o for o in uow.find_all(Organization, {"_id": {"$in": new_parent.scope}})}
    kinds = {**{o.id: o.kind for o in above.values()}, org.id: org.kind, **{d.id: d.kind for d in descendants}}
    old_depth = len(org.ancestor_ids)
    new_scopes = {org.id: [*new_parent.scope, org.id]}
    for descendant in descendants:
        new_scopes[descendant.id] = [*new_parent.scope, *descendant.ancestor_ids[old_depth:], descendant.id]

    history = ParentChange(
        parent_id=org.parent_id, from_time=org.parent_since or org.created_at, until_time=now, moved_by=moved_by
    )
    uow.update_one(
        Organization,
        {"_id": org.id},
        {
            "$set": {
                "parent_id": new_parent.id,
                "ancestor_ids": new_parent.scope,
                "parent_since": now,
                "region_id": nearest(new_scopes[org.id], kinds, "region"),
                "updated_at": now,
            },
            "$push": {"parent_history": history.to_mongo()},
        },
    )
    for descendant in descendants:
        scope = new_scopes[descendant.id]
        uow.update_one(
            Organization,
            {"_id": descendant.id},
            {"$set": {"ancestor_ids": scope[:-1], "region_id": nearest(scope, kinds, "region"), "updated_at": now}},
        )

    for host_id, scope in new_scopes.items():
        uow.update_many(
            Community,
            {"host_organization_id": host_id},
            {
                "$set": {
                    "scope": scope,
                    "region_id": nearest(scope, kinds, "region"),
                    "county_office_id": nearest(scope, kinds, "county_office"),
                    "updated_at": now,
                }
            },
        )
        for program in uow.find_all(Program, {"owner_organization_id": host_id}):
            uow.update_one(Program, {"_id": program.id}, {"$set": {"scope": scope, "updated_at": now}})
            uow.update_many(Proposal, {"program_id": program.id}, {"$set": {"scope": scope}})
    for person in uow.find_all(Person, {"affiliations.organization_id": {"$in": list(new_scopes)}}):
        for affiliation in person.affiliations:
            affiliation.scope = new_scopes.get(affiliation.organization_id, affiliation.scope)
        uow.update_one(
            Person,
            {"_id": person.id},
            {
                "$set": {
                    "affiliations": [a.to_mongo() for a in person.affiliations],
                    "scope": union_of_scopes(a.scope for a in person.affiliations),
                    "updated_at": now,
                }
            },
        )


def nearest(scope: list[str], kinds: dict[str, str], kind: str) -> str:
    """The organization of `kind` closest to the end of `scope` (the organization itself first)."""
    for org_id in reversed(scope):
        if kinds.get(org_id) == kind:
            return org_id
    return ""


def union_of_scopes(scopes) -> list[str]:
    """Every organization in any of `scopes`, once, in first-seen order."""
    union: list[str] = []
    for scope in scopes:
        union += [org_id for org_id in scope if org_id not in union]
    return union


def county_office_of(org: Organization) -> str:
    """The county office at or above `org`, or "" when it sits above county level."""
    if org.kind == "county_office":
        return org.id
    for ancestor in Organization.objects(id__in=org.ancestor_ids, kind="county_office").only("id"):
        return ancestor.id
    return ""
