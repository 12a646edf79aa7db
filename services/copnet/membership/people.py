"""People: who they are, where they work (affiliations), the roles they were granted, and who may
see them (themself, and managers over any organization they are affiliated at)."""

from __future__ import annotations

import re

from pymongo.errors import DuplicateKeyError

from copnet.kernel import db
from copnet.kernel.auth import Identity, Role
from copnet.kernel.errors import (
    AlreadyExists,
    FieldViolation,
    InvalidArgument,
    NotFound,
)
from copnet.kernel.inputs import chosen_or_new_id, labels, optional_label, required_label, required_text
from copnet.kernel.pagination import page_of
from copnet.kernel.service import ServiceContext
from copnet.membership import access, events, lookups
from copnet.membership.access import GRANTORS, ORG_MANAGERS
from copnet.membership.messages import person_message
from copnet.membership.models import Affiliation, Organization, Person, RoleGrant
from copnet.membership.organizations import union_of_scopes
from copnet.membership.v1 import membership_pb2

# Deliberately loose: one "@", something before it, a dotted domain after it, no spaces. Whether
# the mailbox exists is for a confirmation mail to find out, not for a pattern.
EMAIL_PATTERN = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s.]+$")
MAX_EMAIL_LENGTH = 254


def valid_email(value: str, field: str = "email") -> str:
    email = value.strip()
    if not email:
        raise InvalidArgument.for_field(field, "is required")
    if len(email) > MAX_EMAIL_LENGTH or not EMAIL_PATTERN.match(email):
        raise InvalidArgument.for_field(field, "is not an email address", reason="INVALID_EMAIL")
    return email


def valid_affiliations(requested, find=lookups.referenced_organization) -> list[tuple[Organization, str]]:
    """(organization, position) for each requested affiliation; at least one; duplicates dropped.
    `find(org_id, field)` looks an organization up (a batch passes one that remembers)."""
    if not requested:
        raise InvalidArgument.for_field("affiliations", "at least one is required", reason="AFFILIATION_REQUIRED")
    found: list[tuple[Organization, str]] = []
    for index, affiliation in enumerate(requested):
        field = f"affiliations[{index}]"
        position = required_label(membership_pb2.Position, affiliation.position, f"{field}.position")
        org = find(affiliation.organization_id, f"{field}.organization_id")
        if all((org.id, position) != (seen.id, seen_position) for seen, seen_position in found):
            found.append((org, position))
    return found


def affiliations_as_of(uow: db.UnitOfWork, affiliations: list[tuple[Organization, str]]) -> list[Affiliation]:
    """The affiliations with each organization's scope as it is inside this transaction (a move may
    have re-rooted it since it was validated)."""
    result = []
    for org, position in affiliations:
        current = uow.find_one(Organization, {"_id": org.id}) or org
        result.append(Affiliation(organization_id=org.id, position=position, scope=current.scope))
    return result


def duplicate_email(email: str) -> AlreadyExists:
    return AlreadyExists(f"someone already has the email {email!r}", reason="DUPLICATE_EMAIL",
                         fields=[FieldViolation("email", "is already used by another person")],
                         metadata={"field": "email"})


def holds(person: Person, role: str, org_id: str) -> bool:
    return any(grant.role == role and grant.organization_id == org_id for grant in person.roles)


# -- whom a caller may reach ----------------------------------------------------------------------
# Someone outside the caller's reach is answered exactly like nobody (404, "no person 'x'"): whether
# a person exists outside one's organizations is not one's to learn.
def readable_person(identity: Identity, person_id: str) -> Person:
    """The person, if `identity` may read them (themself, or a manager over one of their affiliations)."""
    person = Person.objects(id=person_id).first() if person_id else None
    if person is None or not access.may_read_person(identity, person):
        raise lookups.not_found(Person, person_id)
    return person


def managed_person(identity: Identity, person_id: str, uow: db.UnitOfWork | None = None) -> Person:
    """The person, if affiliated under an organization `identity` manages (a platform admin: anyone);
    as the transaction `uow` sees them when given."""
    if uow is not None:
        person = uow.find_one(Person, {"_id": person_id})
    else:
        person = Person.objects(id=person_id).first() if person_id else None
    if person is None or not identity.may(ORG_MANAGERS, list(person.scope)):
        raise lookups.not_found(Person, person_id)
    return person


def manages(identity: Identity, affiliation: Affiliation) -> bool:
    return identity.may(ORG_MANAGERS, list(affiliation.scope))


def affiliations_within_reach(identity: Identity, person: Person, requested: list[Affiliation]) -> list[Affiliation]:
    """A manager's new list replaces the affiliations they manage; those outside their reach stay as
    they are (first, in their order), and one the list repeats is kept once."""
    kept = [a for a in person.affiliations if not manages(identity, a)]
    seen = {(a.organization_id, a.position) for a in kept}
    return kept + [a for a in requested if (a.organization_id, a.position) not in seen]


class PeopleApi:
    ctx: ServiceContext

    def _person_changed(self, uow: db.UnitOfWork, verb: str, person_id: str, identity: Identity) -> Person:
        """Re-read `person_id` as written in this unit of work and emit person.<verb> with it."""
        person = lookups.reread(uow, Person, person_id)
        uow.emit(events.person_changed(self.ctx, verb, person, identity.person_id))
        return person

    def CreatePerson(
        self, request: membership_pb2.CreatePersonRequest, _context
    ) -> membership_pb2.CreatePersonResponse:
        identity = access.caller("creating a person")
        person_id = chosen_or_new_id(request.person_id, "person_id")
        name = required_text(request.name, "name")
        email = valid_email(request.email)
        grade_bands = labels(membership_pb2.GradeBand, request.grade_bands, "grade_bands")
        affiliations = valid_affiliations(request.affiliations)
        for org, _position in affiliations:
            access.require(ORG_MANAGERS, org.scope, f"creating a person affiliated at {org.id!r}")
        now = db.utcnow()

        def work(uow: db.UnitOfWork) -> Person:
            placed = affiliations_as_of(uow, affiliations)
            uow.insert(
                Person(
                    id=person_id,
                    name=name,
                    name_key=name.lower(),
                    email=email,
                    email_key=email.lower(),
                    grade_bands=grade_bands,
                    affiliations=placed,
                    scope=union_of_scopes(a.scope for a in placed),
                    created_at=now,
                    updated_at=now,
                )
            )
            return self._person_changed(uow, "created", person_id, identity)

        try:
            person = self.ctx.transaction(work)
        except DuplicateKeyError as error:
            if "email_key" in str(error):
                raise duplicate_email(email) from None
            raise lookups.duplicate_id(Person, person_id, "person_id") from None
        return membership_pb2.CreatePersonResponse(person=person_message(person))

    def GetPerson(self, request: membership_pb2.GetPersonRequest, _context) -> membership_pb2.GetPersonResponse:
        identity = access.caller("reading a person")
        return membership_pb2.GetPersonResponse(person=person_message(readable_person(identity, request.id)))

    def ListPeople(self, request: membership_pb2.ListPeopleRequest, _context) -> membership_pb2.ListPeopleResponse:
        identity = access.caller("listing people")
        position = optional_label(membership_pb2.Position, request.position, "position")
        clauses: list[dict] = []
        visible = access.people_visible_to(identity)
        if visible is not None:
            clauses.append(visible)
        text = request.query.strip().lower()
        if text:
            pattern = re.escape(text)
            clauses.append({"$or": [{"name_key": {"$regex": pattern}}, {"email_key": {"$regex": pattern}}]})
        if request.organization_id:
            # `scope` (indexed) narrows it down; the affiliation itself must match with the position.
            placed: dict = {"scope": request.organization_id}
            if position:
                placed["position"] = position
            clauses += [{"scope": request.organization_id}, {"affiliations": {"$elemMatch": placed}}]
        elif position:
            clauses.append({"affiliations.position": position})
        query = {"__raw__": {"$and": clauses}} if clauses else {}
        found, token = page_of(Person, query, request.page_size, request.page_token)
        return membership_pb2.ListPeopleResponse(people=[person_message(p) for p in found], next_page_token=token)

    def UpdatePerson(
        self, request: membership_pb2.UpdatePersonRequest, _context
    ) -> membership_pb2.UpdatePersonResponse:
        identity = access.caller("changing a person")
        changes: dict = {}
        if request.HasField("name"):
            changes["name"] = required_text(request.name, "name")
            changes["name_key"] = changes["name"].lower()
        if request.HasField("email"):
            changes["email"] = valid_email(request.email)
            changes["email_key"] = changes["email"].lower()
        if request.set_grade_bands:
            changes["grade_bands"] = labels(membership_pb2.GradeBand, request.grade_bands, "grade_bands")
        affiliations = valid_affiliations(request.affiliations) if request.set_affiliations else None
        person = readable_person(identity, request.id)
        myself = access.is_self(identity, person.id)
        if not myself or affiliations is not None:
            access.require(ORG_MANAGERS, list(person.scope), "changing this person")
        if "email" in changes and not myself and not all(manages(identity, a) for a in person.affiliations):
            raise access.denied(
                "changing the e-mail of someone also affiliated outside your organizations "
                "(the person themself, or a manager over all their affiliations)"
            )
        held = {(a.organization_id, a.position) for a in person.affiliations}
        for org, position in affiliations or ():
            if (org.id, position) not in held:  # keeping what they have is no change
                access.require(ORG_MANAGERS, org.scope, f"affiliating a person at {org.id!r}")

        def work(uow: db.UnitOfWork) -> Person:
            update = {**changes, "updated_at": db.utcnow()}
            if affiliations is not None:
                current = lookups.reread(uow, Person, person.id)
                placed = affiliations_within_reach(identity, current, affiliations_as_of(uow, affiliations))
                update["affiliations"] = [a.to_mongo() for a in placed]
                update["scope"] = union_of_scopes(a.scope for a in placed)
            if not uow.update_one(Person, {"_id": person.id}, {"$set": update}).matched_count:
                raise NotFound(f"no person {person.id!r}")
            return self._person_changed(uow, "updated", person.id, identity)

        try:
            updated = self.ctx.transaction(work)
        except DuplicateKeyError:
            raise duplicate_email(changes["email"]) from None
        return membership_pb2.UpdatePersonResponse(person=person_message(updated))

    def GrantRole(self, request: membership_pb2.GrantRoleRequest, _context) -> membership_pb2.GrantRoleResponse:
        identity, role, org_id = self._check_grantor(request, "granting a role")
        managed_person(identity, request.person_id)

        def work(uow: db.UnitOfWork) -> Person:
            person = managed_person(identity, request.person_id, uow)
            if holds(person, role, org_id):  # granting again changes nothing
                return person
            grant = RoleGrant(role=role, organization_id=org_id, granted_by=identity.person_id, granted_at=db.utcnow())
            uow.update_one(
                Person,
                {"_id": person.id},
                {"$push": {"roles": grant.to_mongo()}, "$set": {"updated_at": grant.granted_at}},
            )
            return self._person_changed(uow, "role_granted", person.id, identity)

        return membership_pb2.GrantRoleResponse(person=person_message(self.ctx.transaction(work)))

    def RevokeRole(self, request: membership_pb2.RevokeRoleRequest, _context) -> membership_pb2.RevokeRoleResponse:
        identity, role, org_id = self._check_grantor(request, "revoking a role")
        managed_person(identity, request.person_id)

        def work(uow: db.UnitOfWork) -> Person:
            person = managed_person(identity, request.person_id, uow)
            if not holds(person, role, org_id):
                raise NotFound(
                    f"{person.id!r} does not hold {role} at {org_id or 'the instance'}", reason="ROLE_NOT_GRANTED"
                )
            uow.update_one(
                Person,
                {"_id": person.id},
                {"$pull": {"roles": {"role": role, "organization_id": org_id}}, "$set": {"updated_at": db.utcnow()}},
            )
            return self._person_changed(uow, "role_revoked", person.id, identity)

        return membership_pb2.RevokeRoleResponse(person=person_message(self.ctx.transaction(work)))

    def _check_grantor(self, request, action: str) -> tuple[Identity, str, str]:
        """The caller (who must be a grantor of the role over its organization), the role, its organization."""
        identity = access.caller(action)
        role = required_label(membership_pb2.Role, request.role, "role")
        org_id = request.organization_id.strip()
        if role == Role.PLATFORM_ADMIN:
            if org_id:
                raise InvalidArgument.for_field(
                    "organization_id",
                    "platform_admin is held instance-wide, with no organization",
                    reason="PLATFORM_ADMIN_HAS_NO_ORGANIZATION",
                )
            scope: list[str] = []
        else:
            if not org_id:
                raise InvalidArgument.for_field("organization_id", f"is required for {role}")
            org = lookups.referenced_organization(org_id, "organization_id")
            scope = org.scope
        access.require(GRANTORS[Role(role)], scope, action)
        return identity, role, org_id
