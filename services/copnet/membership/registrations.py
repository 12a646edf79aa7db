"""Registrations: sign-ups that never overbook, the waiting list, cancellations that promote the
next in line exactly once, commitments and onboarding, and a school team registering as a unit."""

from __future__ import annotations

import bisect
import logging
from collections.abc import Sequence

import bson
from pymongo.errors import DuplicateKeyError

from copnet.events.v1 import events_pb2
from copnet.kernel import db
from copnet.kernel.auth import Identity
from copnet.kernel.enums import from_label
from copnet.kernel.errors import (
    AlreadyExists,
    FailedPrecondition,
    InvalidArgument,
    PermissionDenied,
)
from copnet.kernel.inputs import optional_label
from copnet.kernel.pagination import decode_token, encode_token, page_of, page_size
from copnet.kernel.service import ServiceContext
from copnet.kernel.timestamps import timestamp
from copnet.membership import access, eligibility, lookups, seats
from copnet.membership.access import COMMUNITY_MANAGERS
from copnet.membership.lookups import reread
from copnet.membership.models import Community, Person, Registration, Team
from copnet.membership.v1 import membership_pb2 as pb
from copnet.pluginapi import GRADE_BAND_OF_LABEL, SignupAffiliation, SignupAttempt, SignupCommunity, SignupPerson

log = logging.getLogger(__name__)


def registration_message(registration, waitlist_position: int = 0):
    """The Registration message for a document; `waitlist_position` is the 1-based place (0 unless waitlisted)."""
    message = pb.Registration(
        id=registration.id, community_id=registration.community_id, person_id=registration.person_id,
        status=from_label(pb.RegistrationStatus, registration.status), waitlist_position=waitlist_position,
        team_id=registration.team_id or "", registered_by=registration.registered_by,
        create_time=timestamp(registration.created_at), cancelled_by=registration.cancelled_by or "",
        sequence=registration.sequence)
    for field, value in (("promote_time", registration.promoted_at), ("cancel_time", registration.cancelled_at),
                         ("commitment_acknowledge_time", registration.commitment_acknowledged_at),
                         ("onboarding_complete_time", registration.onboarding_completed_at)):
        if value is not None:
            getattr(message, field).CopyFrom(timestamp(value))
    return message


def team_message(team: Team) -> pb.Team:
    """The Team message (here beside registrations: a school team registers as a unit)."""
    message = pb.Team(id=team.id, community_id=team.community_id, kind=from_label(pb.TeamKind, team.kind),
                      name=team.name, school_id=team.school_id or "", created_by=team.created_by,
                      create_time=timestamp(team.created_at),
                      members=[pb.TeamMember(person_id=m.person_id, role=from_label(pb.TeamRole, m.role))
                               for m in team.members])
    if team.updated_at is not None:
        message.update_time.CopyFrom(timestamp(team.updated_at))
    return message


def emit_team(ctx: ServiceContext, uow: db.UnitOfWork, verb: str, team: Team, changed_by: str,
              scope: Sequence[str] = ()) -> None:
    """`scope`: the team's community's scope (plugins reacting to the event are those enabled there)."""
    uow.emit(ctx.event(f"copnet.membership.team.{verb}", team.id,
                       events_pb2.TeamChanged(team=team_message(team), changed_by=changed_by), scope=scope))


def leave_team(ctx: ServiceContext, uow: db.UnitOfWork, registration: Registration, changed_by: str, now,
               scope: Sequence[str] = ()) -> None:
    """Take a cancelled registration's person off their team (a team holds registered people; the
    registration keeps its team_id as history)."""
    if not registration.team_id:
        return
    pulled = uow.update_one(Team, {"_id": registration.team_id, "members.person_id": registration.person_id},
                            {"$pull": {"members": {"person_id": registration.person_id}}, "$set": {"updated_at": now}})
    if pulled.modified_count:
        emit_team(ctx, uow, "updated", reread(uow, Team, registration.team_id), changed_by, scope)


def current_message(registration: Registration) -> pb.Registration:
    """The message with the registration's place on the waiting list as it is now."""
    return registration_message(registration, seats.waitlist_position(registration))


def active_key(community_id: str, person_id: str) -> str:
    return f"{community_id} {person_id}"


# -- the sign-up rules (checked on the community as re-read inside the transaction) ---------------
def check_signup_open(community: Community, now) -> bool:
    """Raises unless sign-up is taking people now; True while the waiting list is open too."""
    if community.status != "open":
        raise FailedPrecondition(f"community {community.id!r} is {community.status}: sign-up needs it open",
                                 reason="SIGNUP_NOT_OPEN")
    window = community.signup_window
    if window is None or now < window.opens_at:
        opens = f" until {window.opens_at.isoformat()}" if window else ""
        raise FailedPrecondition(f"sign-up for {community.id!r} is not open yet{opens}", reason="SIGNUP_NOT_YET_OPEN")
    if now >= window.closes_at:
        raise FailedPrecondition(f"sign-up for {community.id!r} closed at {window.closes_at.isoformat()}",
                                 reason="SIGNUP_CLOSED")
    return window.soft_deadline is None or now < window.soft_deadline


def check_eligible(person: Person, community: Community, field: str = "person_id") -> None:
    rules = community.eligibility
    why = eligibility.ineligibility(person, rules.positions if rules else [], rules.organization_ids if rules else [])
    if why:
        raise FailedPrecondition(f"{person.id} is not eligible for {community.id!r}: {why}", reason="NOT_ELIGIBLE",
                                 metadata={"field": field})


def signup_attempt(person: Person, community: Community, team_id: str = "") -> SignupAttempt:
    """The frozen snapshot `validate_registration` plugins see: this person and community only."""
    return SignupAttempt(
        person=SignupPerson(id=person.id, grade_bands=plugin_grade_bands(person.grade_bands), affiliations=tuple(
            SignupAffiliation(organization_id=a.organization_id, position=a.position, scope=tuple(a.scope))
            for a in person.affiliations)),
        community=SignupCommunity(id=community.id, kind=community.kind,
                                  host_organization_id=community.host_organization_id,
                                  region_id=community.region_id or "", county_office_id=community.county_office_id or "",
                                  grade_bands=plugin_grade_bands(community.grade_bands), scope=tuple(community.scope)),
        team_id=team_id)


def plugin_grade_bands(labels) -> tuple[str, ...]:
    """Stored labels (`k_2`) in the spelling plugins get (`K-2`, as in the REST API)."""
    return tuple(GRADE_BAND_OF_LABEL[label] for label in labels)


def check_plugins_allow(ctx: ServiceContext, person: Person, community: Community, team_id: str = "",
                        field: str = "person_id") -> None:
    """Ask the plugins enabled for the community's scope; any reason they give refuses the sign-up.

    A plugin that raises or times out is skipped by the host: that is not a refusal.
    """
    attempt = signup_attempt(person, community, team_id)
    vetoes = []
    for result in ctx.plugins.call("validate_registration", scope=community.scope, attempt=attempt):
        if isinstance(result.value, str):
            if result.value.strip():
                vetoes.append((result.plugin, result.value.strip()))
        else:
            log.warning("plugins: %s.validate_registration returned %s, not a reason or None; ignored",
                        result.plugin, type(result.value).__name__)
    if vetoes:
        reasons = "; ".join(f"plugin {plugin}: {reason}" for plugin, reason in vetoes)
        raise FailedPrecondition(f"the sign-up of {person.id} for {community.id!r} is refused by {reasons}",
                                 reason="PLUGIN_VETO", metadata={"field": field, "plugin": vetoes[0][0],
                                                                 "plugins": ",".join(p for p, _ in vetoes)})


def check_not_registered(uow: db.UnitOfWork, community_id: str, person_id: str) -> None:
    if uow.find_one(Registration, {"active_key": active_key(community_id, person_id)}) is not None:
        raise already_registered(community_id, person_id)


def already_registered(community_id: str, person_id: str) -> AlreadyExists:
    return AlreadyExists(f"{person_id} is already registered for {community_id!r}", reason="ALREADY_REGISTERED")


# -- who may do what --------------------------------------------------------------------------------
def is_facilitator(identity: Identity | None, community: Community) -> bool:
    return identity is not None and identity.person_id in community.facilitator_ids


def may_run(identity: Identity | None, community: Community) -> bool:
    """The community's facilitators and the managers over its host."""
    return is_facilitator(identity, community) or access.may(COMMUNITY_MANAGERS, community.scope)


def is_site_admin(identity: Identity | None, school_id: str) -> bool:
    if identity is None or not identity.person_id:
        return False
    person = Person.objects(id=identity.person_id).only("affiliations").first()
    return person is not None and any(a.organization_id == school_id and a.position == "site_admin"
                                      for a in person.affiliations)


def denied(action: str) -> PermissionDenied:
    return PermissionDenied(f"{action} is not open to this caller", reason="OUT_OF_SCOPE")


def find_community(community_id: str, field: str = "community_id") -> Community:
    if not community_id:
        raise InvalidArgument.for_field(field, "is required")
    return lookups.existing(Community, community_id)


def find_registration(registration_id: str) -> Registration:
    return lookups.existing(Registration, registration_id)


def emit_registration(ctx: ServiceContext, uow: db.UnitOfWork, verb: str, registration: Registration,
                      changed_by: str, position: int = 0, scope: Sequence[str] = ()) -> None:
    """`scope`: the community's scope (plugins reacting to the event are those enabled there)."""
    payload = events_pb2.RegistrationChanged(registration=registration_message(registration, position),
                                             changed_by=changed_by)
    uow.emit(ctx.event(f"copnet.membership.registration.{verb}", registration.id, payload, scope=scope))


class RegistrationsApi:
    ctx: ServiceContext

    # -- signing up ----------------------------------------------------------------------------
    def Register(self, request: pb.RegisterRequest, _context) -> pb.RegisterResponse:
        identity = access.caller("registering")
        community = find_community(request.community_id)
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
            emit_registration(self.ctx, uow, "created", registration, identity.person_id, placement.waitlist_position,
                              current.scope)
            return registration, placement.waitlist_position

        try:
            registration, position = seats.ledger_transaction(self.ctx, community.id, work)
        except DuplicateKeyError:
            raise already_registered(community.id, person.id) from None
        return pb.RegisterResponse(registration=registration_message(registration, position))

    # -- reading -------------------------------------------------------------------------------
    def GetRegistration(self, request: pb.GetRegistrationRequest, _context) -> pb.GetRegistrationResponse:
        identity = access.caller("reading a registration")
        registration = find_registration(request.id)
        if not access.is_self(identity, registration.person_id):
            community = find_community(registration.community_id)
            if not may_run(identity, community):
                raise denied("reading someone else's registration")
        return pb.GetRegistrationResponse(registration=current_message(registration))

    def ListRegistrations(self, request: pb.ListRegistrationsRequest, _context) -> pb.ListRegistrationsResponse:
        identity = access.caller("listing registrations")
        status = optional_label(pb.RegistrationStatus, request.status, "status")
        if not request.community_id and not request.person_id:
            raise InvalidArgument.for_field("community_id", "one of community_id and person_id is required")
        query: dict = {}
        if request.person_id:
            self._require_reader_of(identity, request.person_id)
            query["person_id"] = request.person_id
        if request.community_id:
            community = find_community(request.community_id)
            if not request.person_id and not may_run(identity, community):
                raise denied("reading the roster of this community (its facilitators and managers)")
            query["community_id"] = community.id
        if status:
            query["status"] = status
        if request.person_id:
            found, token = page_of(Registration, query, request.page_size, request.page_token)
            messages = [current_message(r) for r in found]
        else:
            found, token = roster_page(query, request.page_size, request.page_token)
            tickets = seats.waiting_tickets(request.community_id)
            messages = [registration_message(r, roster_position(r, tickets)) for r in found]
        return pb.ListRegistrationsResponse(registrations=messages, next_page_token=token)

    @staticmethod
    def _require_reader_of(identity: Identity, person_id: str) -> None:
        if access.is_self(identity, person_id):
            return
        person = Person.objects(id=person_id).only("scope").first()
        if person is None or not access.may(COMMUNITY_MANAGERS, person.scope):
            raise denied("reading someone else's registrations")

    # -- changing ------------------------------------------------------------------------------
    def CancelRegistration(self, request: pb.CancelRegistrationRequest, _context) -> pb.CancelRegistrationResponse:
        identity = access.caller("cancelling a registration")
        registration = find_registration(request.id)
        community = find_community(registration.community_id)
        if not (access.is_self(identity, registration.person_id) or access.may(COMMUNITY_MANAGERS, community.scope)):
            raise denied("cancelling someone else's registration")

        def work(uow: db.UnitOfWork) -> tuple[Registration, list[Registration]]:
            current = reread(uow, Registration, registration.id)
            if current.status == seats.CANCELLED:
                raise FailedPrecondition(f"registration {current.id!r} is already cancelled",
                                         reason="ALREADY_CANCELLED")
            now = db.utcnow()
            uow.update_one(Registration, {"_id": current.id, "status": current.status},
                           {"$set": {"status": seats.CANCELLED, "cancelled_at": now,
                                     "cancelled_by": identity.person_id, "waitlist_ticket": 0},
                            "$unset": {"active_key": ""}})
            seats.release(uow, current)
            leave_team(self.ctx, uow, current, identity.person_id, now, community.scope)
            cancelled = reread(uow, Registration, current.id)
            emit_registration(self.ctx, uow, "cancelled", cancelled, identity.person_id, scope=community.scope)
            promoted = seats.promote_from_waitlist(uow, current.community_id, identity.person_id, self.ctx)
            return cancelled, promoted

        cancelled, promoted = seats.ledger_transaction(self.ctx, registration.community_id, work)
        return pb.CancelRegistrationResponse(registration=registration_message(cancelled),
                                             promoted=[registration_message(r) for r in promoted])

    def AcknowledgeCommitment(self, request: pb.AcknowledgeCommitmentRequest,
                              _context) -> pb.AcknowledgeCommitmentResponse:
        identity = access.caller("acknowledging the commitment")
        registration = find_registration(request.id)
        if not access.is_self(identity, registration.person_id):
            raise denied("acknowledging the commitment (only the registered person)")
        community = find_community(registration.community_id)
        updated = self._stamp(registration, "commitment_acknowledged_at", "commitment_acknowledged", identity,
                              community.scope)
        return pb.AcknowledgeCommitmentResponse(registration=current_message(updated))

    def RecordOnboarding(self, request: pb.RecordOnboardingRequest, _context) -> pb.RecordOnboardingResponse:
        identity = access.caller("recording onboarding")
        registration = find_registration(request.id)
        community = find_community(registration.community_id)
        if not may_run(identity, community):
            raise denied("recording onboarding (the community's facilitators and managers)")
        updated = self._stamp(registration, "onboarding_completed_at", "onboarding_completed", identity,
                              community.scope)
        return pb.RecordOnboardingResponse(registration=current_message(updated))

    def _stamp(self, registration: Registration, field: str, verb: str, identity: Identity,
               scope: Sequence[str]) -> Registration:
        """Set `field` to now once (idempotent: a second call changes nothing and emits nothing)."""
        def work(uow: db.UnitOfWork) -> Registration:
            current = reread(uow, Registration, registration.id)
            if current.status == seats.CANCELLED:
                raise FailedPrecondition(f"registration {current.id!r} is cancelled", reason="ALREADY_CANCELLED")
            if getattr(current, field) is not None:
                return current
            now = db.utcnow()
            uow.update_one(Registration, {"_id": current.id, field: None}, {"$set": {field: now}})
            setattr(current, field, now)
            emit_registration(self.ctx, uow, verb, current, identity.person_id, seats.waitlist_position(current),
                              scope)
            return current

        return self.ctx.transaction(work)


# -- a roster, in arrival order ---------------------------------------------------------------------
def roster_page(query: dict, requested_size: int, page_token: str) -> tuple[list[Registration], str]:
    """One page of a community's registrations ordered by sequence (arrival order)."""
    size = page_size(requested_size)
    after = decode_token(page_token, query)
    filters = dict(query)
    if after is not None:
        try:
            filters["sequence__gt"] = int(after)
        except ValueError:
            raise InvalidArgument.for_field("page_token", "is not a token this service issued") from None
    found = list(Registration.objects(**filters).order_by("sequence").limit(size + 1))
    token = encode_token(str(found[size - 1].sequence), query) if len(found) > size else ""
    return found[:size], token


def roster_position(registration: Registration, waiting_tickets: list[int]) -> int:
    if registration.status != seats.WAITLISTED:
        return 0
    return bisect.bisect_left(waiting_tickets, registration.waitlist_ticket) + 1
