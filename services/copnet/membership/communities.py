"""Communities of practice: what they are, who hosts and facilitates them, their seats, sign-up
window and eligibility, and their status from draft to completed."""

from __future__ import annotations

from pymongo.errors import DuplicateKeyError

from copnet.events.v1 import events_pb2
from copnet.kernel import db
from copnet.kernel.enums import from_label
from copnet.kernel.errors import (AlreadyExists, FailedPrecondition, FieldViolation, InvalidArgument,
                                  PermissionDenied)
from copnet.kernel.inputs import (
    chosen_or_new_id,
    instant,
    labels,
    optional_text,
    required_instant,
    required_label,
    required_text,
)
from copnet.kernel.pagination import page_of
from copnet.kernel.service import ServiceContext
from copnet.kernel.timestamps import timestamp
from copnet.membership import access, lookups, registrations, seats
from copnet.membership.access import COMMUNITY_MANAGERS
from copnet.membership.models import (Community, Eligibility, Organization, Person, Program, SignupWindow,
                                      TeamSlot)
from copnet.membership.organizations import county_office_of
from copnet.membership.v1 import membership_pb2 as pb

# The status lifecycle: closed -> open reopens sign-up; nothing leaves `completed`.
ALLOWED_TRANSITIONS = {
    ("draft", "open"), ("open", "closed"), ("closed", "open"),
    ("open", "active"), ("closed", "active"), ("active", "completed"),
}
# A facilitator may close the cycle of the community they run; everything else is for managers.
FACILITATOR_TRANSITIONS = {("active", "completed")}
# A school math team: a specialist, their site administrator, and one more K-5 teacher.
MATH_TEAM_COMPOSITION = (("specialist", 1, ()), ("site_admin", 1, ()), ("teacher", 1, ("k_2", "3_5")))


# -- messages -----------------------------------------------------------------------------------
def community_message(community: Community) -> pb.Community:
    message = pb.Community(
        id=community.id, name=community.name, kind=from_label(pb.CommunityKind, community.kind),
        description=community.description, host_organization_id=community.host_organization_id,
        county_office_id=community.county_office_id, create_time=timestamp(community.created_at),
        program_id=community.program_id, focus=community.focus,
        grade_bands=[from_label(pb.GradeBand, band) for band in community.grade_bands],
        facilitator_ids=list(community.facilitator_ids), capacity=community.capacity,
        status=from_label(pb.CommunityStatus, community.status),
        team_composition=[team_slot_message(slot) for slot in community.team_composition],
        confirmed_count=community.confirmed_count, waitlisted_count=community.waitlisted_count,
        region_id=community.region_id)
    if community.signup_window is not None:
        window = community.signup_window
        message.signup_window.open_time.CopyFrom(timestamp(window.opens_at))
        message.signup_window.close_time.CopyFrom(timestamp(window.closes_at))
        if window.soft_deadline is not None:
            message.signup_window.soft_deadline.CopyFrom(timestamp(window.soft_deadline))
    if community.eligibility is not None:
        message.eligibility.CopyFrom(pb.Eligibility(
            positions=[from_label(pb.Position, p) for p in community.eligibility.positions],
            organization_ids=list(community.eligibility.organization_ids)))
    if community.updated_at is not None:
        message.update_time.CopyFrom(timestamp(community.updated_at))
    return message


def team_slot_message(slot: TeamSlot) -> pb.TeamSlot:
    return pb.TeamSlot(position=from_label(pb.Position, slot.position), count=slot.count,
                       grade_bands=[from_label(pb.GradeBand, band) for band in slot.grade_bands])


def community_created_event(ctx: ServiceContext, community: Community, created_by: str):
    # The flat fields are what scheduling, resources and reflection already consume.
    return ctx.event("copnet.membership.community.created", community.id, events_pb2.CommunityCreated(
        community_id=community.id, name=community.name, kind=community.kind,
        host_organization_id=community.host_organization_id, county_office_id=community.county_office_id,
        community=community_message(community), created_by=created_by), scope=community.scope)


def community_changed_event(ctx: ServiceContext, verb: str, community: Community, changed_by: str,
                            previous_status: str = ""):
    return ctx.event(f"copnet.membership.community.{verb}", community.id, events_pb2.CommunityChanged(
        community=community_message(community), changed_by=changed_by, previous_status=previous_status),
        scope=community.scope)


# -- input rules (pure: no database) ------------------------------------------------------------
def valid_capacity(value: int, field: str = "capacity", *, allow_unset: bool = True) -> int:
    """Seats; 0 means "not set yet" where `allow_unset` (a draft may not know its size)."""
    if value < 0 or (value == 0 and not allow_unset):
        raise InvalidArgument.for_field(field, "capacity must be positive", reason="CAPACITY_NOT_POSITIVE")
    return value


def valid_signup_window(window: pb.SignupWindow, path: str = "signup_window") -> SignupWindow:
    """opens < soft deadline (optional) <= closes."""
    opens_at = required_instant(window, "open_time", f"{path}.open_time")
    closes_at = required_instant(window, "close_time", f"{path}.close_time")
    soft_deadline = instant(window, "soft_deadline")
    if closes_at <= opens_at:
        raise InvalidArgument.for_field(f"{path}.close_time", "must be after the window opens",
                                        reason="INVALID_SIGNUP_WINDOW")
    if soft_deadline is not None and not opens_at < soft_deadline <= closes_at:
        raise InvalidArgument.for_field(f"{path}.soft_deadline",
                                        "must be after the window opens and no later than it closes",
                                        reason="INVALID_SIGNUP_WINDOW")
    return SignupWindow(opens_at=opens_at, soft_deadline=soft_deadline, closes_at=closes_at)


def valid_team_composition(slots, kind: str, path: str = "team_composition") -> list[TeamSlot]:
    """The slots as given, or the kind's default when none are (only math teams have one)."""
    if not slots:
        return default_team_composition(kind)
    found = []
    for index, slot in enumerate(slots):
        position = required_label(pb.Position, slot.position, f"{path}[{index}].position")
        if slot.count < 1:
            raise InvalidArgument.for_field(f"{path}[{index}].count", "must be at least 1")
        found.append(TeamSlot(position=position, count=slot.count,
                              grade_bands=labels(pb.GradeBand, slot.grade_bands, f"{path}[{index}].grade_bands")))
    return found


def default_team_composition(kind: str) -> list[TeamSlot]:
    if kind != "math_team":
        return []
    return [TeamSlot(position=position, count=count, grade_bands=list(bands))
            for position, count, bands in MATH_TEAM_COMPOSITION]


def status_transition_error(previous: str, target: str) -> FailedPrecondition | None:
    if (previous, target) in ALLOWED_TRANSITIONS:
        return None
    return FailedPrecondition(f"a community cannot go from {previous} to {target}",
                              reason="INVALID_STATUS_TRANSITION", metadata={"from": previous, "to": target})


def missing_to_open(community: Community) -> list[str]:
    """What a community lacks before sign-up can open."""
    missing = []
    if community.capacity <= 0:
        missing.append("capacity")
    if community.signup_window is None:
        missing.append("signup_window")
    return missing


def seats_available(community: Community) -> int:
    return max(community.capacity - community.confirmed_count, 0)


# -- input rules that read the database ---------------------------------------------------------
def existing_organization(org_id: str, field: str) -> Organization:
    if not org_id:
        raise InvalidArgument.for_field(field, "is required")
    org = Organization.objects(id=org_id).first()
    if org is None:
        raise InvalidArgument.for_field(field, f"no organization {org_id!r}", reason="UNKNOWN_ORGANIZATION")
    return org


def valid_facilitators(person_ids, field: str = "facilitator_ids") -> list[str]:
    found: list[str] = []
    for index, person_id in enumerate(person_ids):
        if not person_id or Person.objects(id=person_id).only("id").first() is None:
            raise InvalidArgument.for_field(f"{field}[{index}]", f"no person {person_id!r}", reason="UNKNOWN_PERSON")
        if person_id not in found:
            found.append(person_id)
    return found


def valid_eligibility(eligibility: pb.Eligibility, path: str = "eligibility") -> Eligibility:
    organization_ids: list[str] = []
    for index, org_id in enumerate(eligibility.organization_ids):
        existing_organization(org_id, f"{path}.organization_ids[{index}]")
        if org_id not in organization_ids:
            organization_ids.append(org_id)
    return Eligibility(positions=labels(pb.Position, eligibility.positions, f"{path}.positions"),
                       organization_ids=organization_ids)


def program_hosting(program_id: str, host: Organization) -> Program:
    """The program a community (or proposal) at `host` belongs to: it must exist and own the host."""
    program = Program.objects(id=program_id).first()
    if program is None:
        raise InvalidArgument.for_field("program_id", f"no program {program_id!r}", reason="UNKNOWN_PROGRAM")
    if program.owner_organization_id not in host.scope:
        raise InvalidArgument.for_field("host_organization_id",
                                        f"{host.id!r} is outside program {program.id!r}'s organization "
                                        f"{program.owner_organization_id!r}", reason="HOST_OUTSIDE_PROGRAM")
    return program


def same_window(one: SignupWindow, other: SignupWindow) -> bool:
    return (one.opens_at, one.soft_deadline, one.closes_at) == (other.opens_at, other.soft_deadline, other.closes_at)


def require_window_not_managed(program: Program, requested: SignupWindow | None) -> None:
    """A program whose timeline sets the sign-up dates gives every community that window; asking
    for the same window is no edit and passes."""
    managed = program.managed_signup_window()
    if managed is None or requested is None or same_window(requested, managed):
        return
    message = (f"program {program.id!r}'s timeline sets its communities' sign-up window (opens "
               f"{managed.opens_at.isoformat()}, closes {managed.closes_at.isoformat()}); move the sign-up "
               "milestones instead")
    raise FailedPrecondition(message, reason="MANAGED_BY_TIMELINE", metadata={"field": "signup_window"},
                             fields=[FieldViolation("signup_window", message)])


def claim_window_write(uow: db.UnitOfWork, program_id: str, requested: SignupWindow | None) -> SignupWindow | None:
    """Inside a transaction that gives a program's community its window (adding the community, or
    setting its own): refuses `requested` unless the program's timeline gives that window, and
    writes the program so that a concurrent application of the timeline conflicts with this
    transaction (see Program.community_window_writes). The window the timeline gives, if any."""
    program = lookups.reread(uow, Program, program_id)
    require_window_not_managed(program, requested)
    uow.update_one(Program, {"_id": program_id}, {"$inc": {"community_window_writes": 1}})
    return program.managed_signup_window()


def join_program(uow: db.UnitOfWork, community: Community, requested: SignupWindow | None) -> None:
    """Inside the transaction that inserts `community` (of a program): it takes the window the
    program's timeline gives."""
    managed = claim_window_write(uow, community.program_id, requested)
    if managed is not None:
        community.signup_window = managed


def new_community(community_id: str, host: Organization, **fields) -> Community:
    """A draft community at `host`, placed (scope, county office, region) by the host."""
    kind = fields["kind"]
    fields.setdefault("team_composition", default_team_composition(kind))
    return Community(id=community_id, host_organization_id=host.id, scope=host.scope,
                     county_office_id=county_office_of(host), region_id=host.region_id or "", status="draft",
                     created_at=db.utcnow(), **fields)


def find_community(community_id: str) -> Community:
    return lookups.existing(Community, community_id)


def reread_community(uow: db.UnitOfWork, community_id: str) -> Community:
    return lookups.reread(uow, Community, community_id)


class CommunitiesApi:
    ctx: ServiceContext

    # -- communities ---------------------------------------------------------------------------
    def CreateCommunity(self, request: pb.CreateCommunityRequest, _context) -> pb.CreateCommunityResponse:
        access.caller("creating a community")
        name = required_text(request.name, "name")
        kind = required_label(pb.CommunityKind, request.kind, "kind")
        description = optional_text(request.description, "description", 5000)
        focus = optional_text(request.focus, "focus", 500)
        community_id = chosen_or_new_id(request.community_id, "community_id")
        grade_bands = labels(pb.GradeBand, request.grade_bands, "grade_bands")
        capacity = valid_capacity(request.capacity)
        window = valid_signup_window(request.signup_window) if request.HasField("signup_window") else None
        team_composition = valid_team_composition(request.team_composition, kind)
        host = existing_organization(request.host_organization_id, "host_organization_id")
        identity = access.require(COMMUNITY_MANAGERS, host.scope, "creating a community")
        program = program_hosting(request.program_id, host) if request.program_id else None
        facilitator_ids = valid_facilitators(request.facilitator_ids)
        eligibility = valid_eligibility(request.eligibility)
        community = new_community(community_id, host, name=name, kind=kind, description=description, focus=focus,
                                  program_id=program.id if program else "", grade_bands=grade_bands,
                                  facilitator_ids=facilitator_ids, capacity=capacity, signup_window=window,
                                  eligibility=eligibility, team_composition=team_composition)

        def work(uow: db.UnitOfWork) -> None:
            if community.program_id:
                join_program(uow, community, window)
            uow.insert(community)
            uow.emit(community_created_event(self.ctx, community, identity.person_id))

        try:
            self.ctx.transaction(work)
        except DuplicateKeyError:
            raise AlreadyExists(f"community {community_id!r} already exists", reason="DUPLICATE_ID",
                                metadata={"field": "community_id"}) from None
        return pb.CreateCommunityResponse(community=community_message(community))

    def GetCommunity(self, request: pb.GetCommunityRequest, _context) -> pb.GetCommunityResponse:
        return pb.GetCommunityResponse(community=community_message(find_community(request.id)))

    def ListCommunities(self, request: pb.ListCommunitiesRequest, _context) -> pb.ListCommunitiesResponse:
        query: dict = {}
        for field in ("host_organization_id", "program_id", "region_id"):
            if getattr(request, field):
                query[field] = getattr(request, field)
        if request.facilitator_id:
            query["facilitator_ids"] = request.facilitator_id
        if request.status:
            query["status"] = required_label(pb.CommunityStatus, request.status, "status")
        if request.kind:
            query["kind"] = required_label(pb.CommunityKind, request.kind, "kind")
        found, token = page_of(Community, query, request.page_size, request.page_token)
        return pb.ListCommunitiesResponse(communities=[community_message(c) for c in found],
                                          next_page_token=token)

    def UpdateCommunity(self, request: pb.UpdateCommunityRequest, _context) -> pb.UpdateCommunityResponse:
        access.caller("updating a community")
        community = find_community(request.id)
        identity = access.require(COMMUNITY_MANAGERS, community.scope, "updating a community")
        changes = self._community_changes(request, community.kind)
        if not changes:
            return pb.UpdateCommunityResponse(community=community_message(community))
        requested_window = SignupWindow._from_son(changes["signup_window"]) if "signup_window" in changes else None

        def work(uow: db.UnitOfWork):
            current = reread_community(uow, community.id)
            if current.status == "completed":
                raise FailedPrecondition(f"community {current.id!r} is completed and can no longer change",
                                         reason="COMMUNITY_COMPLETED")
            if requested_window is not None and current.program_id:
                claim_window_write(uow, current.program_id, requested_window)
            capacity = changes.get("capacity", current.capacity)
            if capacity < current.confirmed_count:
                raise FailedPrecondition(f"capacity {capacity} is below the {current.confirmed_count} confirmed "
                                         f"registrations", reason="CAPACITY_BELOW_CONFIRMED")
            uow.update_one(Community, {"_id": current.id}, {"$set": {**changes, "updated_at": db.utcnow()}})
            # Promotion reads the capacity just written, in this same transaction.
            promoted = (seats.promote_from_waitlist(uow, current.id, identity.person_id, self.ctx)
                        if capacity > current.capacity else [])
            updated = reread_community(uow, current.id)
            uow.emit(community_changed_event(self.ctx, "updated", updated, identity.person_id))
            return updated, promoted

        updated, promoted = seats.ledger_transaction(self.ctx, community.id, work)
        return pb.UpdateCommunityResponse(community=community_message(updated),
                                          promoted=[registrations.registration_message(r) for r in promoted])

    def ChangeCommunityStatus(self, request: pb.ChangeCommunityStatusRequest,
                              _context) -> pb.ChangeCommunityStatusResponse:
        identity = access.caller("changing a community's status")
        community = find_community(request.id)
        target = required_label(pb.CommunityStatus, request.status, "status")
        self._require_status_changer(identity, community, target)

        def work(uow: db.UnitOfWork) -> Community:
            current = reread_community(uow, community.id)
            error = status_transition_error(current.status, target)
            if error is not None:
                raise error
            if target == "open" and missing_to_open(current):
                missing = missing_to_open(current)
                raise FailedPrecondition(f"a community opens for sign-up only with a capacity and a sign-up "
                                         f"window; missing: {', '.join(missing)}", reason="COMMUNITY_NOT_READY",
                                         metadata={"missing": ",".join(missing)})
            uow.update_one(Community, {"_id": current.id, "status": current.status},
                           {"$set": {"status": target, "updated_at": db.utcnow()}})
            updated = reread_community(uow, current.id)
            uow.emit(community_changed_event(self.ctx, "status_changed", updated, identity.person_id,
                                             previous_status=current.status))
            return updated

        return pb.ChangeCommunityStatusResponse(community=community_message(self.ctx.transaction(work)))

    # -- helpers -------------------------------------------------------------------------------
    @staticmethod
    def _require_status_changer(identity, community: Community, target: str) -> None:
        if access.may(COMMUNITY_MANAGERS, community.scope):
            return
        if identity.person_id in community.facilitator_ids and (community.status, target) in FACILITATOR_TRANSITIONS:
            return
        if identity.person_id in community.facilitator_ids:
            raise PermissionDenied("a facilitator may only complete an active community; other status changes "
                                   "need a community manager", reason="OUT_OF_SCOPE")
        access.require(COMMUNITY_MANAGERS, community.scope, "changing a community's status")

    @staticmethod
    def _community_changes(request: pb.UpdateCommunityRequest, kind: str) -> dict:
        """The validated fields the request sets, as MongoDB values."""
        changes: dict = {}
        if request.HasField("name"):
            changes["name"] = required_text(request.name, "name")
        if request.HasField("description"):
            changes["description"] = optional_text(request.description, "description", 5000)
        if request.HasField("focus"):
            changes["focus"] = optional_text(request.focus, "focus", 500)
        if request.HasField("capacity"):
            changes["capacity"] = valid_capacity(request.capacity, allow_unset=False)
        if request.HasField("signup_window"):
            changes["signup_window"] = valid_signup_window(request.signup_window).to_mongo()
        if request.HasField("eligibility"):
            changes["eligibility"] = valid_eligibility(request.eligibility).to_mongo()
        if request.set_grade_bands:
            changes["grade_bands"] = labels(pb.GradeBand, request.grade_bands, "grade_bands")
        if request.set_facilitator_ids:
            changes["facilitator_ids"] = valid_facilitators(request.facilitator_ids)
        if request.set_team_composition:
            changes["team_composition"] = [slot.to_mongo() for slot in
                                           valid_team_composition(request.team_composition, kind)]
        return changes
