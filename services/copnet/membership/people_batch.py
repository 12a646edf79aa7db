"""People by the thousand (a roster import): BatchGetPeople and BatchCreatePeople.

Each person is read or created under the same rules as GetPerson and CreatePerson (people.py);
what changes is the number of round trips: one query for a batch's ids, one lookup per distinct
organization, and one transaction writing every accepted person (with one person.created event
each). A person one call refuses is reported with CreatePerson's reason, and the others go on.
"""

from __future__ import annotations

from dataclasses import dataclass

from pymongo.errors import BulkWriteError, DuplicateKeyError

from copnet.kernel import db
from copnet.kernel.auth import Identity
from copnet.kernel.errors import DomainError, InvalidArgument
from copnet.kernel.inputs import chosen_or_new_id, labels, required_text
from copnet.kernel.service import ServiceContext
from copnet.membership import access, events, lookups
from copnet.membership.access import ORG_MANAGERS
from copnet.membership.messages import person_message
from copnet.membership.models import Affiliation, Organization, Person
from copnet.membership.organizations import union_of_scopes
from copnet.membership.people import duplicate_email, valid_affiliations, valid_email
from copnet.membership.v1 import membership_pb2

# Far above what one transaction of a roster import needs (it sends 500), low enough that one
# request stays a few MiB.
MAX_BATCH = 1000
DUPLICATE_KEY_CODE = 11000


@dataclass
class Candidate:
    """One CreatePersonRequest that passed CreatePerson's checks, not yet written."""

    index: int
    person_id: str
    name: str
    email: str
    grade_bands: list[str]
    affiliations: list[tuple[Organization, str]]


def batch_of(items, field: str) -> list:
    if len(items) > MAX_BATCH:
        raise InvalidArgument.for_field(field, f"at most {MAX_BATCH} per call, not {len(items)}",
                                        reason="BATCH_TOO_LARGE")
    return list(items)


class OrganizationsSeen:
    """lookups.referenced_organization over a batch's organizations, read together up front (a
    missing one is looked up again, for its error naming the request's field)."""

    def __init__(self, org_ids: list[str]):
        wanted = sorted(set(org_ids) - {""})
        self.found: dict[str, Organization] = {
            org.id: org for chunk in db.in_chunks(wanted) for org in Organization.objects(id__in=chunk)}

    def __call__(self, org_id: str, field: str) -> Organization:
        if org_id not in self.found:
            self.found[org_id] = lookups.referenced_organization(org_id, field)  # a miss raises, naming `field`
        return self.found[org_id]


# A unique index refusing a write: insert_one raises the first, insert_many the second.
DUPLICATE_KEY = (DuplicateKeyError, BulkWriteError)


def duplicate_key(error: Exception) -> bool:
    if isinstance(error, DuplicateKeyError):
        return True
    write_errors = error.details.get("writeErrors") or []
    return bool(write_errors) and all(e.get("code") == DUPLICATE_KEY_CODE for e in write_errors)



def refused(person_id: str, error: DomainError) -> membership_pb2.PersonCreation:
    return membership_pb2.PersonCreation(person_id=person_id, created=False, reason=error.reason,
                                         message=error.message)


class PeopleBatchApi:
    ctx: ServiceContext

    def BatchGetPeople(self, request: membership_pb2.BatchGetPeopleRequest,
                       _context) -> membership_pb2.BatchGetPeopleResponse:
        identity = access.caller("reading people")
        ids = sorted(set(batch_of(request.ids, "ids")) - {""})
        found = [person for chunk in db.in_chunks(ids) for person in Person.objects(id__in=chunk)]
        return membership_pb2.BatchGetPeopleResponse(
            people=[person_message(p) for p in found if access.may_read_person(identity, p)])

    def BatchCreatePeople(self, request: membership_pb2.BatchCreatePeopleRequest,
                          _context) -> membership_pb2.BatchCreatePeopleResponse:
        identity = access.caller("creating people")
        requests = batch_of(request.requests, "requests")
        results: list[membership_pb2.PersonCreation | None] = [None] * len(requests)
        candidates: list[Candidate] = []
        organizations = OrganizationsSeen([a.organization_id for one in requests for a in one.affiliations])
        for index, one in enumerate(requests):
            try:
                candidates.append(self.checked(index, one, identity, organizations))
            except DomainError as error:
                results[index] = refused(one.person_id, error)
        if candidates:
            for index, result in self.create(candidates, identity).items():
                results[index] = result
        return membership_pb2.BatchCreatePeopleResponse(results=results)

    @staticmethod
    def checked(index: int, request: membership_pb2.CreatePersonRequest, identity: Identity,
                organizations: OrganizationsSeen) -> Candidate:
        """CreatePerson's checks of one request (ids, name, email, grade bands, affiliations, access)."""
        person_id = chosen_or_new_id(request.person_id, "person_id")
        name = required_text(request.name, "name")
        email = valid_email(request.email)
        grade_bands = labels(membership_pb2.GradeBand, request.grade_bands, "grade_bands")
        affiliations = valid_affiliations(request.affiliations, organizations)
        for org, _position in affiliations:
            access.require(ORG_MANAGERS, org.scope, f"creating a person affiliated at {org.id!r}")
        return Candidate(index, person_id, name, email, grade_bands, affiliations)

    def create(self, candidates: list[Candidate], identity: Identity) -> dict[int, membership_pb2.PersonCreation]:
        """Every candidate whose id and email are free, in one transaction; the others refused.

        Optimistic: the unique indexes find a clash. Only then is each id and email looked up (and
        the clashing ones refused); a clash that appears between that look and the write sends
        each candidate through a transaction of its own."""
        try:
            return self.ctx.transaction(lambda uow: self.write(uow, candidates, identity, look_first=False))
        except DUPLICATE_KEY as error:
            if not duplicate_key(error):
                raise
        try:
            return self.ctx.transaction(lambda uow: self.write(uow, candidates, identity, look_first=True))
        except DUPLICATE_KEY as error:
            if not duplicate_key(error):
                raise
            if len(candidates) == 1:  # created meanwhile, between the look and the write
                candidate = candidates[0]
                clash = duplicate_email(candidate.email) if "email_key" in str(error) else \
                    lookups.duplicate_id(Person, candidate.person_id, "person_id")
                return {candidate.index: refused(candidate.person_id, clash)}
            return {index: result for candidate in candidates
                    for index, result in self.create([candidate], identity).items()}

    def write(self, uow: db.UnitOfWork, candidates: list[Candidate], identity: Identity, *,
              look_first: bool) -> dict[int, membership_pb2.PersonCreation]:
        now = db.utcnow()
        outcome: dict[int, membership_pb2.PersonCreation] = {}
        taken_ids: set[str] = set()
        taken_emails: set[str] = set()
        if look_first:
            for chunk in db.in_chunks([c.person_id for c in candidates]):
                taken_ids.update(uow.distinct(Person, "_id", {"_id": {"$in": chunk}}))
            for chunk in db.in_chunks([c.email.lower() for c in candidates]):
                taken_emails.update(uow.distinct(Person, "email_key", {"email_key": {"$in": chunk}}))
        org_ids = sorted({org.id for c in candidates for org, _ in c.affiliations})
        # Each organization's scope as it is inside this transaction (a move may have re-rooted it).
        current = {org.id: org for chunk in db.in_chunks(org_ids)
                   for org in uow.find_all(Organization, {"_id": {"$in": chunk}})}
        people = []
        for candidate in candidates:
            if candidate.person_id in taken_ids:
                outcome[candidate.index] = refused(candidate.person_id,
                                                   lookups.duplicate_id(Person, candidate.person_id, "person_id"))
                continue
            if candidate.email.lower() in taken_emails:
                outcome[candidate.index] = refused(candidate.person_id, duplicate_email(candidate.email))
                continue
            taken_ids.add(candidate.person_id)
            taken_emails.add(candidate.email.lower())
            placed = [Affiliation(organization_id=org.id, position=position, scope=current.get(org.id, org).scope)
                      for org, position in candidate.affiliations]
            people.append(Person(id=candidate.person_id, name=candidate.name, name_key=candidate.name.lower(),
                                 email=candidate.email, email_key=candidate.email.lower(),
                                 grade_bands=candidate.grade_bands, affiliations=placed,
                                 scope=union_of_scopes(a.scope for a in placed), created_at=now, updated_at=now))
            outcome[candidate.index] = membership_pb2.PersonCreation(person_id=candidate.person_id, created=True)
        uow.insert_many(people)
        uow.emit_many([events.person_changed(self.ctx, "created", person, identity.person_id) for person in people])
        return outcome
