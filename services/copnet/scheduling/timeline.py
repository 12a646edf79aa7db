"""Program timelines: a program year's milestones, each an instant shown in a time zone.

The linked kinds (call opens, proposals due, sign-up opens, soft deadline, sign-up closes) are
dates membership applies to the program's proposal call and to every community's sign-up
window. Scheduling owns them: every change bumps the timeline's revision and emits, in the same
transaction, a `milestone.*` event carrying all linked dates at that revision; membership applies
the newest revision it has seen and ignores older ones, so the two never disagree for long and
never go backwards. A proposal call opened in membership before the timeline had one is taken
over here (`seed_from_program`).
"""

from __future__ import annotations

import datetime as dt
import logging
import zoneinfo
from collections.abc import Mapping

import bson
from pymongo.errors import DuplicateKeyError

from copnet.events.v1 import events_pb2
from copnet.kernel import db, timestamps
from copnet.kernel.bus import Subscription
from copnet.kernel.enums import from_label
from copnet.kernel.errors import AlreadyExists, FailedPrecondition, InvalidArgument, NotFound
from copnet.kernel.events import CloudEvent
from copnet.kernel.inputs import optional_text, required_instant, required_label, required_text, valid_time_zone
from copnet.kernel.service import ServiceContext
from copnet.kernel.timestamps import timestamp
from copnet.scheduling import access
from copnet.scheduling.directory import Directory, ProgramFacts
from copnet.scheduling.models import LINKED_MILESTONE_KINDS, Milestone, Timeline
from copnet.scheduling.v1 import scheduling_pb2

log = logging.getLogger(__name__)

TITLE_MAX = 200
DESCRIPTION_MAX = 2000
KIND_TITLES = {
    "call_opens": "Call for facilitators opens",
    "proposals_due": "Proposals due",
    "offerings_finalized": "Offerings finalized",
    "signup_opens": "Sign-up opens",
    "soft_deadline": "Sign-up soft deadline",
    "signup_closes": "Sign-up closes",
    "kick_off": "Kick-off",
    "orientation": "Orientation",
    "in_person_session": "In-person session",
    "final_product_due": "Final product due",
}
# (earlier kind, later kind, strictly before). The sign-up rules are membership's own window rule
# (opens < soft deadline <= closes), so a window membership is handed is one it would accept.
ORDER_RULES = (
    ("call_opens", "proposals_due", True),
    ("signup_opens", "signup_closes", True),
    ("signup_opens", "soft_deadline", True),
    ("soft_deadline", "signup_closes", False),
)
SEED_EVENTS = ("copnet.membership.program.created", "copnet.membership.program.updated",
               "copnet.membership.program.proposal_call_opened")


# -- input rules (pure) -------------------------------------------------------------------------
def valid_title(title: str, kind: str, field: str = "title") -> str:
    """The title as given, or the kind's name; a custom milestone must be named."""
    if not title.strip() and kind in KIND_TITLES:
        return KIND_TITLES[kind]
    return required_text(title, field, TITLE_MAX)


def describe(milestone: Milestone) -> str:
    local = milestone.at.astimezone(zoneinfo.ZoneInfo(milestone.time_zone))
    return f"{milestone.title!r} ({local.isoformat()}, {milestone.time_zone})"


def order_violation(kind: str, at: dt.datetime, others: Mapping[str, Milestone]) -> str | None:
    """Why a linked milestone of `kind` at `at` may not stand beside the program's other linked
    milestones (`others`, by kind, without this one); None when it may."""
    for earlier, later, strict in ORDER_RULES:
        if kind == earlier and later in others:
            other = others[later]
            if at > other.at or (strict and at == other.at):
                return f"must be {'before' if strict else 'no later than'} {describe(other)}"
        if kind == later and earlier in others:
            other = others[earlier]
            if at < other.at or (strict and at == other.at):
                return f"must be {'after' if strict else 'no earlier than'} {describe(other)}"
    return None


def check_order(kind: str, at: dt.datetime, others: Mapping[str, Milestone]) -> None:
    if kind not in LINKED_MILESTONE_KINDS:
        return
    violation = order_violation(kind, at, others)
    if violation is not None:
        raise InvalidArgument.for_field("time", violation, reason="MILESTONE_ORDER")


def links_message(program_id: str, revision: int, linked: Mapping[str, Milestone]) -> events_pb2.ProgramTimelineLinks:
    links = events_pb2.ProgramTimelineLinks(program_id=program_id, revision=revision)
    for kind, field in (("call_opens", "call_open_time"), ("proposals_due", "proposals_due_time"),
                        ("signup_opens", "signup_open_time"), ("soft_deadline", "soft_deadline"),
                        ("signup_closes", "signup_close_time")):
        if kind in linked:
            getattr(links, field).CopyFrom(timestamp(linked[kind].at))
    return links


def milestone_message(milestone: Milestone) -> scheduling_pb2.Milestone:
    message = scheduling_pb2.Milestone(
        id=milestone.id, program_id=milestone.program_id, kind=from_label(scheduling_pb2.MilestoneKind, milestone.kind),
        title=milestone.title, description=milestone.description, time=timestamp(milestone.at),
        time_zone=milestone.time_zone, linked=milestone.kind in LINKED_MILESTONE_KINDS,
        timeline_revision=milestone.timeline_revision, create_time=timestamp(milestone.created_at),
        updated_by=milestone.updated_by)
    if milestone.updated_at is not None:
        message.update_time.CopyFrom(timestamp(milestone.updated_at))
    return message


def linked_key(program_id: str, kind: str) -> str | None:
    return f"{program_id}:{kind}" if kind in LINKED_MILESTONE_KINDS else None


# -- reads and writes inside a transaction ------------------------------------------------------
def linked_milestones(uow: db.UnitOfWork, program_id: str) -> dict[str, Milestone]:
    """The program's linked milestones by kind, as this transaction sees them."""
    return {milestone.kind: milestone
            for milestone in uow.find_all(Milestone, {"program_id": program_id, "linked_key": {"$ne": None}})}


def next_revision(uow: db.UnitOfWork, program: ProgramFacts | None, program_id: str) -> int:
    """Bump the timeline's revision and return it. Every change to a program's milestones writes
    this one document, so concurrent changes conflict and are retried one after the other: the
    order rules are always checked against what the other change wrote."""
    facts = {} if program is None else {
        "program_year": program.program_year, "owner_organization_id": program.owner_organization_id,
        "time_zone": program.time_zone, "scope": list(program.scope)}
    uow.update_one(Timeline, {"_id": program_id},
                   {"$inc": {"revision": 1}, "$set": {**facts, "updated_at": db.utcnow()}}, upsert=True)
    return uow.find_one(Timeline, {"_id": program_id}).revision


def reread_milestone(uow: db.UnitOfWork, milestone_id: str) -> Milestone:
    found = uow.find_one(Milestone, {"_id": milestone_id})
    if found is None:
        raise NotFound(f"no milestone {milestone_id!r}")
    return found


def find_milestone(milestone_id: str) -> Milestone:
    found = Milestone.objects(id=milestone_id).first() if milestone_id else None
    if found is None:
        raise NotFound(f"no milestone {milestone_id!r}")
    return found


def milestone_event(ctx: ServiceContext, verb: str, milestone: Milestone, links: events_pb2.ProgramTimelineLinks,
                    changed_by: str, scope) -> CloudEvent:
    return ctx.event(f"copnet.scheduling.milestone.{verb}", milestone.id,
                     events_pb2.MilestoneChanged(milestone=milestone_message(milestone), links=links,
                                                 changed_by=changed_by), scope=scope)


class TimelineApi:
    ctx: ServiceContext
    directory: Directory

    def CreateMilestone(self, request: scheduling_pb2.CreateMilestoneRequest,
                        _context) -> scheduling_pb2.CreateMilestoneResponse:
        access.caller("creating a milestone")
        kind = required_label(scheduling_pb2.MilestoneKind, request.kind, "kind")
        at = required_instant(request, "time")
        title = valid_title(request.title, kind)
        description = optional_text(request.description, "description", DESCRIPTION_MAX)
        if request.time_zone:
            valid_time_zone(request.time_zone)
        program = self.directory.program(request.program_id)
        identity = access.require_program_manager(program, "creating a milestone")
        time_zone = request.time_zone or program.time_zone
        now = db.utcnow()
        milestone = Milestone(id=str(bson.ObjectId()), program_id=program.id, kind=kind,
                              linked_key=linked_key(program.id, kind), title=title, description=description, at=at,
                              time_zone=time_zone, created_at=now, updated_by=identity.person_id)

        def work(uow: db.UnitOfWork) -> Milestone:
            linked = linked_milestones(uow, program.id)
            if kind in linked:
                raise kind_exists(program.id, kind)
            check_order(kind, at, linked)
            milestone.timeline_revision = next_revision(uow, program, program.id)
            uow.insert(milestone)
            if kind in LINKED_MILESTONE_KINDS:
                linked[kind] = milestone
            links = links_message(program.id, milestone.timeline_revision, linked)
            uow.emit(milestone_event(self.ctx, "created", milestone, links, identity.person_id, program.scope))
            return milestone

        try:
            created = self.ctx.transaction(work)
        except DuplicateKeyError:
            raise kind_exists(program.id, kind) from None
        return scheduling_pb2.CreateMilestoneResponse(milestone=milestone_message(created))

    def GetMilestone(self, request: scheduling_pb2.GetMilestoneRequest,
                     _context) -> scheduling_pb2.GetMilestoneResponse:
        access.caller("reading a milestone")
        return scheduling_pb2.GetMilestoneResponse(milestone=milestone_message(find_milestone(request.id)))

    def ListMilestones(self, request: scheduling_pb2.ListMilestonesRequest,
                       _context) -> scheduling_pb2.ListMilestonesResponse:
        access.caller("listing milestones")
        program = self.directory.program(request.program_id)
        timeline = Timeline.objects(id=program.id).first()
        milestones = Milestone.objects(program_id=program.id).order_by("at", "id")
        return scheduling_pb2.ListMilestonesResponse(milestones=[milestone_message(m) for m in milestones],
                                         timeline_revision=timeline.revision if timeline else 0)

    def UpdateMilestone(self, request: scheduling_pb2.UpdateMilestoneRequest,
                        _context) -> scheduling_pb2.UpdateMilestoneResponse:
        access.caller("updating a milestone")
        milestone = find_milestone(request.id)
        program = self.directory.program(milestone.program_id, field=None)
        identity = access.require_program_manager(program, "updating a milestone")
        changes: dict = {}
        if request.HasField("title"):
            changes["title"] = valid_title(request.title, milestone.kind)
        if request.HasField("description"):
            changes["description"] = optional_text(request.description, "description", DESCRIPTION_MAX)
        if request.HasField("time_zone"):
            changes["time_zone"] = valid_time_zone(request.time_zone)
        if request.HasField("time"):
            changes["at"] = required_instant(request, "time")
        if not changes:
            return scheduling_pb2.UpdateMilestoneResponse(milestone=milestone_message(milestone))

        def work(uow: db.UnitOfWork) -> Milestone:
            current = reread_milestone(uow, milestone.id)
            if all(getattr(current, name) == value for name, value in changes.items()):
                return current
            linked = linked_milestones(uow, current.program_id)
            linked.pop(current.kind, None)
            check_order(current.kind, changes.get("at", current.at), linked)
            revision = next_revision(uow, program, current.program_id)
            uow.update_one(Milestone, {"_id": current.id}, {"$set": {
                **changes, "timeline_revision": revision, "updated_at": db.utcnow(),
                "updated_by": identity.person_id}})
            updated = reread_milestone(uow, current.id)
            if updated.kind in LINKED_MILESTONE_KINDS:
                linked[updated.kind] = updated
            links = links_message(updated.program_id, revision, linked)
            uow.emit(milestone_event(self.ctx, "updated", updated, links, identity.person_id, program.scope))
            return updated

        return scheduling_pb2.UpdateMilestoneResponse(milestone=milestone_message(self.ctx.transaction(work)))

    def DeleteMilestone(self, request: scheduling_pb2.DeleteMilestoneRequest,
                        _context) -> scheduling_pb2.DeleteMilestoneResponse:
        access.caller("deleting a milestone")
        milestone = find_milestone(request.id)
        program = self.directory.program(milestone.program_id, field=None)
        identity = access.require_program_manager(program, "deleting a milestone")
        if milestone.kind in LINKED_MILESTONE_KINDS:
            raise FailedPrecondition(
                f"milestone {milestone.id!r} ({milestone.title}) sets dates membership relies on; move it instead "
                "of deleting it", reason="MILESTONE_LINKED", metadata={"kind": milestone.kind})

        def work(uow: db.UnitOfWork) -> None:
            current = reread_milestone(uow, milestone.id)
            revision = next_revision(uow, program, current.program_id)
            uow.delete_many(Milestone, {"_id": current.id})
            links = links_message(current.program_id, revision, linked_milestones(uow, current.program_id))
            uow.emit(milestone_event(self.ctx, "deleted", current, links, identity.person_id, program.scope))

        self.ctx.transaction(work)
        return scheduling_pb2.DeleteMilestoneResponse()


def kind_exists(program_id: str, kind: str) -> AlreadyExists:
    return AlreadyExists(f"program {program_id!r} already has a {KIND_TITLES[kind]!r} milestone; move that one",
                         reason="MILESTONE_KIND_EXISTS", metadata={"field": "kind"})


# -- taking over a proposal call opened in membership -------------------------------------------
def seed_from_program(ctx: ServiceContext, directory: Directory, uow: db.UnitOfWork, event: CloudEvent) -> None:
    """Keep the timeline the one source of the proposal call's dates.

    A call membership has and the timeline does not becomes the call-opens and proposals-due
    milestones. A call that differs from the timeline's dates (membership accepted a re-dating
    before it had applied the timeline) is overruled: the timeline's dates are sent again at a new
    revision, and membership applies them. Equal dates (membership echoing what it applied) do
    nothing, so the two services never ping-pong."""
    changed = event.payload(events_pb2.ProgramChanged)
    program = changed.program
    if not program.HasField("proposal_call"):
        return
    dates = {"call_opens": timestamps.instant(program.proposal_call.open_time),
             "proposals_due": timestamps.instant(program.proposal_call.due_time)}
    linked = linked_milestones(uow, program.id)
    if "proposals_due" not in linked:
        _take_over_call(ctx, directory, uow, program.id, dates, linked, changed.changed_by)
        return
    differing = [linked[kind] for kind in ("proposals_due", "call_opens")
                 if kind in linked and linked[kind].at != dates[kind]]
    if not differing:
        return
    revision = next_revision(uow, None, program.id)
    timeline = uow.find_one(Timeline, {"_id": program.id})
    links = links_message(program.id, revision, linked)
    log.info("timeline: program %s's proposal call differs from its timeline; sending the timeline's dates again "
             "(revision %d)", program.id, revision)
    uow.emit(milestone_event(ctx, "updated", differing[0], links, changed.changed_by, timeline.scope))


def _take_over_call(ctx: ServiceContext, directory: Directory, uow: db.UnitOfWork, program_id: str,
                    dates: dict[str, dt.datetime], linked: dict[str, Milestone], changed_by: str) -> None:
    missing = [kind for kind in ("call_opens", "proposals_due") if kind not in linked]
    if "call_opens" in linked and linked["call_opens"].at >= dates["proposals_due"]:
        # Only when a call-opens milestone was set after membership's due date: a person must
        # decide which date is wrong; the call stays membership's until they move one.
        log.warning("timeline: program %s's proposal call is due before its timeline's call opens; not taken over",
                    program_id)
        return
    program = directory.program(program_id, field=None)
    revision = next_revision(uow, program, program_id)
    now = db.utcnow()
    created = []
    for kind in missing:
        milestone = Milestone(id=str(bson.ObjectId()), program_id=program_id, kind=kind,
                              linked_key=linked_key(program_id, kind), title=KIND_TITLES[kind], at=dates[kind],
                              time_zone=program.time_zone, timeline_revision=revision, created_at=now,
                              updated_by=changed_by)
        uow.insert(milestone)
        linked[kind] = milestone
        created.append(milestone)
    links = links_message(program_id, revision, linked)
    for milestone in created:
        uow.emit(milestone_event(ctx, "created", milestone, links, changed_by, program.scope))


def subscriptions(ctx: ServiceContext) -> list[Subscription]:
    directory = Directory(ctx)
    return [Subscription("timeline-from-programs", SEED_EVENTS,
                         lambda uow, event: seed_from_program(ctx, directory, uow, event))]
