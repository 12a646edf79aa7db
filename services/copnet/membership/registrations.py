"""Registrations: a person's sign-up (which never overbooks: seats.py keeps the ledger), reading
them with their place on the waiting list, cancellations that promote the next in line exactly
once, commitments and onboarding. A school team registering as a unit is in teams.py."""

from __future__ import annotations

import bisect
from collections.abc import Sequence

import bson
from pymongo.errors import DuplicateKeyError

from copnet.kernel import db
from copnet.kernel.auth import Identity
from copnet.kernel.errors import FailedPrecondition, InvalidArgument
from copnet.kernel.inputs import optional_label
from copnet.kernel.pagination import decode_token, encode_token, page_size
from copnet.kernel.service import ServiceContext
from copnet.membership import access, events, lookups, seats
from copnet.membership.access import COMMUNITY_MANAGERS, denied, may_run
from copnet.membership.lookups import reread
from copnet.membership.messages import registration_message
from copnet.membership.models import Community, Person, Registration, Team
from copnet.membership.signup_rules import (
    active_key,
    already_registered,
    check_eligible,
    check_plugins_allow,
    check_signup_open,
)
from copnet.membership.v1 import membership_pb2


def leave_team(ctx: ServiceContext, uow: db.UnitOfWork, registration: Registration, changed_by: str, now,
               scope: Sequence[str] = ()) -> None:
    """Take a cancelled registration's person off their team (a team holds registered people; the
    registration keeps its team_id as history)."""
    if not registration.team_id:
        return
    pulled = uow.update_one(Team, {"_id": registration.team_id, "members.person_id": registration.person_id},
                            {"$pull": {"members": {"person_id": registration.person_id}}, "$set": {"updated_at": now}})
    if pulled.modified_count:
        uow.emit(events.team_changed(ctx, "updated", reread(uow, Team, registration.team_id), changed_by, scope))


def current_message(uow: db.UnitOfWork, registration: Registration) -> membership_pb2.Registration:
    """The message with the registration's place on the waiting list as this transaction sees it."""
    return registration_message(registration, seats.waitlist_position(uow, registration))


class RegistrationsApi:
    ctx: ServiceContext

    # -- signing up ----------------------------------------------------------------------------
    def Register(self, request: membership_pb2.RegisterRequest, _context) -> membership_pb2.RegisterResponse:
        identity = access.caller("registering")
        community = lookups.requested(Community, request.community_id, "community_id")
        person_id = request.person_id or identity.person_id
        myself = access.is_self(identity, person_id)
        if not myself:
            access.require(COMMUNITY_MANAGERS, community.scope, "registering someone else")
        if request.acknowledge_commitment and not myself:
            raise InvalidArgument.for_field("acknowledge_commitment",
                                            "only the person themself can acknowledge the commitment")
        person = Person.objects(id=person_id).first()
        if person is None:
            raise InvalidArgument.for_field("person_id", f"no person {person_id!r}", reason="UNKNOWN_PERSON")
        # Answered before queueing for the ledger; inside the transaction the unique index on
        # active_key decides (a duplicate insert aborts it, counters included).
        if Registration.objects(active_key=active_key(community.id, person.id)).only("id").first() is not None:
            raise already_registered(community.id, person.id)
        # Local rules from plugins, before queueing: a plugin never runs inside the transaction.
        check_plugins_allow(self.ctx, person, community)

        def work(uow: db.UnitOfWork) -> tuple[Registration, int]:
            now = db.utcnow()
            current = reread(uow, Community, community.id)
            waitlist_open = check_signup_open(current, now)
            check_eligible(person, current)
            placement = seats.place(uow, current, 1, now, waitlist_open=waitlist_open)
            registration = Registration(
                id=str(bson.ObjectId()), community_id=current.id, person_id=person.id,
                active_key=active_key(current.id, person.id), status=placement.status,
                waitlist_ticket=placement.ticket, sequence=placement.first_sequence,
                registered_by=identity.person_id, created_at=now,
                commitment_acknowledged_at=now if request.acknowledge_commitment else None)
            uow.insert(registration)
            uow.emit(events.registration_changed(self.ctx, "created", registration, identity.person_id,
                                                 placement.waitlist_position, current.scope))
            return registration, placement.waitlist_position

        try:
            registration, position = seats.ledger_transaction(self.ctx, community.id, work)
        except DuplicateKeyError:
            raise already_registered(community.id, person.id) from None
        return membership_pb2.RegisterResponse(registration=registration_message(registration, position))

    # -- reading -------------------------------------------------------------------------------
    def GetRegistration(
        self, request: membership_pb2.GetRegistrationRequest, _context
    ) -> membership_pb2.GetRegistrationResponse:
        identity = access.caller("reading a registration")
        registration = lookups.existing(Registration, request.id)
        if not access.is_self(identity, registration.person_id):
            community = lookups.existing(Community, registration.community_id)
            if not may_run(identity, community):
                raise denied("reading someone else's registration")
        # Its status and its place on the waiting list as one snapshot.
        return membership_pb2.GetRegistrationResponse(
            registration=self.ctx.transaction(
                lambda uow: current_message(uow, reread(uow, Registration, registration.id))
            )
        )

    def ListRegistrations(
        self, request: membership_pb2.ListRegistrationsRequest, _context
    ) -> membership_pb2.ListRegistrationsResponse:
        identity = access.caller("listing registrations")
        status = optional_label(membership_pb2.RegistrationStatus, request.status, "status")
        if not request.community_id and not request.person_id:
            raise InvalidArgument.for_field("community_id", "one of community_id and person_id is required")
        query: dict = {}
        if request.person_id:
            self._require_reader_of(identity, request.person_id)
            query["person_id"] = request.person_id
        if request.community_id:
            community = lookups.existing(Community, request.community_id)
            if not request.person_id and not access.may_read_roster(identity, community):
                raise denied("reading the roster of this community (its facilitators and managers)")
            query["community_id"] = community.id
        if status:
            query["status"] = status

        # The page and the waiting list it is ranked against are one snapshot (one transaction):
        # read apart, a promotion in between would list the promoted person still waiting.
        def read(uow: db.UnitOfWork) -> membership_pb2.ListRegistrationsResponse:
            if request.person_id:
                found, token = registrations_page(uow, query, "_id", request.page_size, request.page_token)
                messages = [current_message(uow, r) for r in found]
            else:
                found, token = registrations_page(uow, query, "sequence", request.page_size, request.page_token)
                tickets = seats.waiting_tickets(uow, request.community_id)
                messages = [registration_message(r, roster_position(r, tickets)) for r in found]
            return membership_pb2.ListRegistrationsResponse(registrations=messages, next_page_token=token)

        return self.ctx.transaction(read)

    @staticmethod
    def _require_reader_of(identity: Identity, person_id: str) -> None:
        if access.is_self(identity, person_id) or access.reads_as_service(identity):
            return
        person = Person.objects(id=person_id).only("scope").first()
        if person is None or not access.may(COMMUNITY_MANAGERS, person.scope):
            raise denied("reading someone else's registrations")

    # -- changing ------------------------------------------------------------------------------
    def CancelRegistration(
        self, request: membership_pb2.CancelRegistrationRequest, _context
    ) -> membership_pb2.CancelRegistrationResponse:
        identity = access.caller("cancelling a registration")
        registration = lookups.existing(Registration, request.id)
        community = lookups.existing(Community, registration.community_id)
        if not (access.is_self(identity, registration.person_id) or access.may(COMMUNITY_MANAGERS, community.scope)):
            raise denied("cancelling someone else's registration")

        def work(uow: db.UnitOfWork) -> tuple[Registration, list[Registration]]:
            current = reread(uow, Registration, registration.id)
            if current.status == seats.CANCELLED:
                raise FailedPrecondition(
                    f"registration {current.id!r} is already cancelled", reason="ALREADY_CANCELLED"
                )
            now = db.utcnow()
            uow.update_one(
                Registration,
                {"_id": current.id, "status": current.status},
                {
                    "$set": {
                        "status": seats.CANCELLED,
                        "cancelled_at": now,
                        "cancelled_by": identity.person_id,
                        "waitlist_ticket": 0,
                    },
                    "$unset": {"active_key": ""},
                },
            )
            seats.release(uow, current)
            leave_team(self.ctx, uow, current, identity.person_id, now, community.scope)
            cancelled = reread(uow, Registration, current.id)
            uow.emit(
                events.registration_changed(self.ctx, "cancelled", cancelled, identity.person_id, scope=community.scope)
            )
            promoted = seats.promote_from_waitlist(uow, current.community_id)
            uow.emit_many(events.promotions(self.ctx, promoted, identity.person_id, community.scope))
            return cancelled, promoted

        cancelled, promoted = seats.ledger_transaction(self.ctx, registration.community_id, work)
        return membership_pb2.CancelRegistrationResponse(
            registration=registration_message(cancelled), promoted=[registration_message(r) for r in promoted]
        )

    def AcknowledgeCommitment(
        self, request: membership_pb2.AcknowledgeCommitmentRequest, _context
    ) -> membership_pb2.AcknowledgeCommitmentResponse:
        identity = access.caller("acknowledging the commitment")
        registration = lookups.existing(Registration, request.id)
        if not access.is_self(identity, registration.person_id):
            raise denied("acknowledging the commitment (only the registered person)")
        community = lookups.existing(Community, registration.community_id)
        updated = self._stamp(
            registration, "commitment_acknowledged_at", "commitment_acknowledged", identity, community.scope
        )
        return membership_pb2.AcknowledgeCommitmentResponse(registration=updated)

    def RecordOnboarding(
        self, request: membership_pb2.RecordOnboardingRequest, _context
    ) -> membership_pb2.RecordOnboardingResponse:
        identity = access.caller("recording onboarding")
        registration = lookups.existing(Registration, request.id)
        community = lookups.existing(Community, registration.community_id)
        if not may_run(identity, community):
            raise denied("recording onboarding (the community's facilitators and managers)")
        updated = self._stamp(
            registration, "onboarding_completed_at", "onboarding_completed", identity, community.scope
        )
        return membership_pb2.RecordOnboardingResponse(registration=updated)

    def _stamp(
        self, registration: Registration, field: str, verb: str, identity: Identity, scope: Sequence[str]
    ) -> membership_pb2.Registration:
        """Set `field` to now once (idempotent: a second call changes nothing and emits nothing);
        the registration as it then is."""

        def work(uow: db.UnitOfWork) -> membership_pb2.Registration:
            current = reread(uow, Registration, registration.id)
            if current.status == seats.CANCELLED:
                raise FailedPrecondition(f"registration {current.id!r} is cancelled", reason="ALREADY_CANCELLED")
            if getattr(current, field) is not None:
                return current_message(uow, current)
            now = db.utcnow()
            uow.update_one(Registration, {"_id": current.id, field: None}, {"$set": {field: now}})
            setattr(current, field, now)
            message = current_message(uow, current)
            uow.emit(
                events.registration_changed(
                    self.ctx, verb, current, identity.person_id, message.waitlist_position, scope
                )
            )
            return message

        return self.ctx.transaction(work)


# -- pages of registrations ------------------------------------------------------------------------
def registrations_page(
    uow: db.UnitOfWork, query: dict, key: str, requested_size: int, page_token: str
) -> tuple[list[Registration], str]:
    """One page of the registrations matching `query`, as this transaction sees them, ordered by
    `key`: `sequence` (a community's roster, in arrival order) or `_id` (a person's)."""
    size = page_size(requested_size)
    after = decode_token(page_token, query)
    filters = dict(query)
    if after is not None:
        try:
            filters[key] = {"$gt": int(after) if key == "sequence" else after}
        except ValueError:
            raise InvalidArgument.for_field("page_token", "is not a token this service issued") from None
    found = uow.find_all(Registration, filters, sort=[(key, 1)], limit=size + 1)
    last = found[size - 1] if len(found) > size else None
    token = encode_token(str(last.sequence if key == "sequence" else last.id), query) if last else ""
    return found[:size], token


def roster_position(registration: Registration, waiting_tickets: list[int]) -> int:
    if registration.status != seats.WAITLISTED:
        return 0
    return bisect.bisect_left(waiting_tickets, registration.waitlist_ticket) + 1
