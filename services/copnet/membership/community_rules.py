"""The rules of a community's settings and lifecycle, and of its place in a program: what a
valid capacity, sign-up window, team composition and eligibility are, which status changes are
allowed, and how a new community (created directly or from an accepted proposal) takes its host's
place and its program's sign-up window."""

from __future__ import annotations

from copnet.kernel import db
from copnet.kernel.errors import FailedPrecondition, FieldViolation, InvalidArgument
from copnet.kernel.inputs import instant, labels, required_instant, required_label
from copnet.membership import lookups
from copnet.membership.models import Community, Eligibility, Organization, Person, Program, SignupWindow, TeamSlot
from copnet.membership.organizations import county_office_of
from copnet.membership.v1 import membership_pb2

# The status lifecycle: closed -> open reopens sign-up; nothing leaves `completed`.
ALLOWED_TRANSITIONS = {
    ("draft", "open"), ("open", "closed"), ("closed", "open"),
    ("open", "active"), ("closed", "active"), ("active", "completed"),
}
# A facilitator may close the cycle of the community they run; everything else is for managers.
FACILITATOR_TRANSITIONS = {("active", "completed")}
# A school math team: a specialist, their site administrator, and one more K-5 teacher.
MATH_TEAM_COMPOSITION = (("specialist", 1, ()), ("site_admin", 1, ()), ("teacher", 1, ("k_2", "3_5")))


# -- input rules (pure: no database) ------------------------------------------------------------
def valid_capacity(value: int, field: str = "capacity", *, allow_unset: bool = True) -> int:
    """Seats; 0 means "not set yet" where `allow_unset` (a draft may not know its size)."""
    if value < 0 or (value == 0 and not allow_unset):
        raise InvalidArgument.for_field(field, "capacity must be positive", reason="CAPACITY_NOT_POSITIVE")
    return value


def valid_signup_window(window: membership_pb2.SignupWindow, path: str = "signup_window") -> SignupWindow:
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
        position = required_label(membership_pb2.Position, slot.position, f"{path}[{index}].position")
        if slot.count < 1:
            raise InvalidArgument.for_field(f"{path}[{index}].count", "must be at least 1")
        found.append(
            TeamSlot(
                position=position,
                count=slot.count,
                grade_bands=labels(membership_pb2.GradeBand, slot.grade_bands, f"{path}[{index}].grade_bands"),
            )
        )
    return found


def default_team_composition(kind: str) -> list[TeamSlot]:
    if kind != "math_team":
        return []
    return [
        TeamSlot(position=position, count=count, grade_bands=list(bands))
        for position, count, bands in MATH_TEAM_COMPOSITION
    ]


def status_transition_error(previous: str, target: str) -> FailedPrecondition | None:
    if (previous, target) in ALLOWED_TRANSITIONS:
        return None
    return FailedPrecondition(
        f"a community cannot go from {previous} to {target}",
        reason="INVALID_STATUS_TRANSITION",
        metadata={"from": previous, "to": target},
    )


def missing_to_open(community: Community) -> list[str]:
    """What a community lacks before sign-up can open."""
    missing = []
    if community.capacity <= 0:
        missing.append("capacity")
    if community.signup_window is None:
        missing.append("signup_window")
    return missing


# -- input rules that read the database ---------------------------------------------------------
def valid_facilitators(person_ids, field: str = "facilitator_ids") -> list[str]:
    found: list[str] = []
    for index, person_id in enumerate(person_ids):
        if not person_id or Person.objects(id=person_id).only("id").first() is None:
            raise InvalidArgument.for_field(f"{field}[{index}]", f"no person {person_id!r}", reason="UNKNOWN_PERSON")
        if person_id not in found:
            found.append(person_id)
    return found


def valid_eligibility(eligibility: membership_pb2.Eligibility, path: str = "eligibility") -> Eligibility:
    organization_ids: list[str] = []
    for index, org_id in enumerate(eligibility.organization_ids):
        lookups.referenced_organization(org_id, f"{path}.organization_ids[{index}]")
        if org_id not in organization_ids:
            organization_ids.append(org_id)
    return Eligibility(
        positions=labels(membership_pb2.Position, eligibility.positions, f"{path}.positions"),
        organization_ids=organization_ids,
    )


def program_hosting(program_id: str, host: Organization) -> Program:
    """The program a community (or proposal) at `host` belongs to: it must exist and own the host."""
    program = Program.objects(id=program_id).first()
    if program is None:
        raise InvalidArgument.for_field("program_id", f"no program {program_id!r}", reason="UNKNOWN_PROGRAM")
    if program.owner_organization_id not in host.scope:
        raise InvalidArgument.for_field(
            "host_organization_id",
            f"{host.id!r} is outside program {program.id!r}'s organization {program.owner_organization_id!r}",
            reason="HOST_OUTSIDE_PROGRAM",
        )
    return program


def same_window(one: SignupWindow, other: SignupWindow) -> bool:
    return (one.opens_at, one.soft_deadline, one.closes_at) == (other.opens_at, other.soft_deadline, other.closes_at)


def require_window_not_managed(program: Program, requested: SignupWindow | None) -> None:
    """A program whose timeline sets the sign-up dates gives every community that window; asking
    for the same window is no edit and passes."""
    managed = program.managed_signup_window()
    if managed is None or requested is None or same_window(requested, managed):
        return
    message = (
        f"program {program.id!r}'s timeline sets its communities' sign-up window (opens "
        f"{managed.opens_at.isoformat()}, closes {managed.closes_at.isoformat()}); move the sign-up "
        "milestones instead"
    )
    raise FailedPrecondition(
        message,
        reason="MANAGED_BY_TIMELINE",
        metadata={"field": "signup_window"},
        fields=[FieldViolation("signup_window", message)],
    )


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
    return Community(
        id=community_id,
        host_organization_id=host.id,
        scope=host.scope,
        county_office_id=county_office_of(host),
        region_id=host.region_id or "",
        status="draft",
        created_at=db.utcnow(),
        **fields,
    )
