"""Applying a program's timeline: scheduling owns the dates of the call for proposals and of the
sign-up window; membership applies them to the program and to every community of the program.

Every `copnet.scheduling.milestone.*` event carries all linked dates at one timeline revision.
The newest revision applied is kept on the program; an older or equal one (a redelivery, or
events arriving out of order) changes nothing, so the program never goes back to older dates.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from copnet.events.v1 import events_pb2
from copnet.kernel import db
from copnet.kernel.bus import Subscription
from copnet.kernel.events import CloudEvent
from copnet.kernel.inputs import instant
from copnet.kernel.service import ServiceContext
from copnet.kernel.timestamps import to_millisecond
from copnet.membership import events
from copnet.membership.community_rules import same_window
from copnet.membership.models import Community, Program, ProgramTimeline, ProposalCall, SignupWindow

log = logging.getLogger(__name__)

LINK_FIELDS = (("call_open_time", "call_opens_at"), ("proposals_due_time", "proposals_due_at"),
               ("signup_open_time", "signup_opens_at"), ("soft_deadline", "soft_deadline"),
               ("signup_close_time", "signup_closes_at"))
# A completed community's cycle is over: its window is history and stays as it was.
WINDOW_KEPT_IN = ("completed",)


def timeline_from_links(links: events_pb2.ProgramTimelineLinks) -> ProgramTimeline:
    timeline = ProgramTimeline(revision=links.revision)
    for link, field in LINK_FIELDS:
        setattr(timeline, field, instant(links, link))
    return timeline


def is_stale(program: Program, links: events_pb2.ProgramTimelineLinks) -> bool:
    """Already applied this revision or a newer one."""
    return program.timeline is not None and links.revision <= program.timeline.revision


def proposal_call_for(program: Program, timeline: ProgramTimeline, event_time: dt.datetime) -> ProposalCall | None:
    """The call the timeline gives the program when that differs from the one it has; None when
    it gives none (no proposals-due milestone) or the same one. Without a call-opens milestone the
    call keeps when it opened, or opens when the timeline first dated it."""
    if timeline.proposals_due_at is None:
        return None
    current = program.proposal_call
    opened_at = timeline.call_opens_at or (current.opened_at if current is not None else event_time)
    if current is not None and (current.opened_at, current.due_at) == (opened_at, timeline.proposals_due_at):
        return None
    return ProposalCall(opened_at=opened_at, due_at=timeline.proposals_due_at)


def takes_window(community: Community, window: SignupWindow) -> bool:
    """Whether applying `window` changes this community."""
    if community.status in WINDOW_KEPT_IN:
        return False
    return community.signup_window is None or not same_window(community.signup_window, window)


@dataclass(frozen=True)
class Application:
    """What applying one revision changes: the program's call (None: unchanged) and the
    communities whose window becomes `window`."""

    timeline: ProgramTimeline
    proposal_call: ProposalCall | None
    window: SignupWindow | None
    community_ids: tuple[str, ...]


def plan(program: Program, links: events_pb2.ProgramTimelineLinks, communities: list[Community],
         event_time: dt.datetime) -> Application | None:
    """What applying `links` to the program and its communities changes; None when stale."""
    if is_stale(program, links):
        return None
    timeline = timeline_from_links(links)
    window = timeline.signup_window()
    changing = tuple(c.id for c in communities if window is not None and takes_window(c, window))
    return Application(timeline=timeline, proposal_call=proposal_call_for(program, timeline, event_time),
                       window=window, community_ids=changing)


def apply_milestone_event(ctx: ServiceContext, uow: db.UnitOfWork, event: CloudEvent) -> None:
    changed = event.payload(events_pb2.MilestoneChanged)
    links = changed.links
    program = uow.find_one(Program, {"_id": links.program_id})
    if program is None:
        log.warning("timeline: milestone %s names no program %r here; nothing to apply", event.subject,
                    links.program_id)
        return
    if is_stale(program, links):
        log.info("timeline: program %s already has timeline revision %d; revision %d ignored", program.id,
                 program.timeline.revision, links.revision)
        return
    event_time = event.time.astimezone(dt.UTC)
    event_time = to_millisecond(event_time)
    communities = uow.find_all(Community, {"program_id": program.id})
    application = plan(program, links, communities, event_time)
    now = db.utcnow()
    changes: dict = {"timeline": application.timeline.to_mongo()}
    if application.proposal_call is not None:
        changes.update(proposal_call=application.proposal_call.to_mongo(), updated_at=now)
    uow.update_one(Program, {"_id": program.id}, {"$set": changes})
    if application.proposal_call is not None:
        updated = uow.find_one(Program, {"_id": program.id})
        uow.emit(events.program_changed(ctx, "updated", updated, changed.changed_by))
    if not application.community_ids:
        return
    # One write for all of them (a program may have hundreds); the documents read above, given
    # the same two fields, are what the write leaves.
    uow.update_many(Community, {"_id": {"$in": list(application.community_ids)}},
                    {"$set": {"signup_window": application.window.to_mongo(), "updated_at": now}})
    for community in communities:
        if community.id in application.community_ids:
            community.signup_window, community.updated_at = application.window, now
            uow.emit(events.community_changed(ctx, "updated", community, changed.changed_by))


def subscriptions(ctx: ServiceContext) -> list[Subscription]:
    return [Subscription("program-timelines", ("copnet.scheduling.milestone.>",),
                         lambda uow, event: apply_milestone_event(ctx, uow, event))]
