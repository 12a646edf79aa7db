"""Program timelines over the real stack: scheduling owns the milestones, membership applies the
linked ones (the proposal call, every program community's sign-up window), and the two agree.

Membership applies the timeline from events, so checks of its side poll with a deadline."""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import re

import grpc
import nats
import pytest

from copnet.events.v1 import events_pb2
from copnet.kernel.events import CloudEvent, source_for
from copnet.kernel.timestamps import timestamp
from copnet.membership.v1 import membership_pb2
from copnet.scheduling.v1 import scheduling_pb2
from tests.integration.jetstream_events import about, wait_for_types
from tests.integration.scheduling_world import TZ, SchedulingWorld
from tests.integration.signup_world import COMMUNITY_KINDS, rpc_error

pytestmark = pytest.mark.integration

CONVERGE_SECONDS = 20
KINDS = {"call_opens": scheduling_pb2.MILESTONE_KIND_CALL_OPENS, "proposals_due": scheduling_pb2.MILESTONE_KIND_PROPOSALS_DUE,
         "signup_opens": scheduling_pb2.MILESTONE_KIND_SIGNUP_OPENS, "soft_deadline": scheduling_pb2.MILESTONE_KIND_SOFT_DEADLINE,
         "signup_closes": scheduling_pb2.MILESTONE_KIND_SIGNUP_CLOSES, "kick_off": scheduling_pb2.MILESTONE_KIND_KICK_OFF,
         "custom": scheduling_pb2.MILESTONE_KIND_CUSTOM}


@pytest.fixture
def world(services, request):
    name = request.node.name.removeprefix("test_")
    prefix = f"tl-{re.sub('[^a-z0-9]+', '-', name.lower())[:24].strip('-')}-{hashlib.sha1(name.encode()).hexdigest()[:6]}"
    found = SchedulingWorld(services, prefix)
    yield found
    found.close()


# One reference instant for the module: two milestones "10 days from now" are the same instant
# (computed twice, they could straddle a second). Every offset is a day or more, so the module's
# few minutes of running never make a "future" date past.
REFERENCE = dt.datetime.now(dt.UTC).replace(microsecond=0)


def in_days(days: float) -> dt.datetime:
    return REFERENCE + dt.timedelta(days=days)


def utc(stamp) -> dt.datetime:
    return stamp.ToDatetime(tzinfo=dt.UTC)


def lead(world: SchedulingWorld) -> str:
    return world.services.token("regional_lead", world.region, person=f"{world.prefix}-lead")


def create(world: SchedulingWorld, program_id: str, kind: str, moment: dt.datetime, token: str | None = None,
           **fields) -> scheduling_pb2.Milestone:
    return world.scheduling(token or lead(world)).CreateMilestone(scheduling_pb2.CreateMilestoneRequest(
        program_id=program_id, kind=KINDS[kind], time=timestamp(moment), **fields)).milestone


def listing(world: SchedulingWorld, program_id: str) -> scheduling_pb2.ListMilestonesResponse:
    return world.scheduling(world.admin).ListMilestones(scheduling_pb2.ListMilestonesRequest(program_id=program_id))


def by_kind(world: SchedulingWorld, program_id: str) -> dict[str, scheduling_pb2.Milestone]:
    return {milestone.kind: milestone for milestone in listing(world, program_id).milestones}


def membership_program(world: SchedulingWorld, program_id: str) -> membership_pb2.Program:
    return world.membership(world.admin).GetProgram(membership_pb2.GetProgramRequest(id=program_id)).program


def window_of(world: SchedulingWorld, community_id: str) -> tuple | None:
    community = world.membership(world.admin).GetCommunity(membership_pb2.GetCommunityRequest(id=community_id)).community
    if not community.HasField("signup_window"):
        return None
    window = community.signup_window
    return (utc(window.open_time), utc(window.soft_deadline) if window.HasField("soft_deadline") else None,
            utc(window.close_time))


def applied_revision(world: SchedulingWorld, program_id: str) -> int:
    document = world.db.programs.find_one({"_id": program_id}) or {}
    return (document.get("timeline") or {}).get("revision", 0)


def converge(world: SchedulingWorld, predicate, what: str) -> None:
    world.services.wait_for(predicate, timeout=CONVERGE_SECONDS, what=what)


def open_call(world: SchedulingWorld, program_id: str, due: dt.datetime) -> membership_pb2.ProposalCall:
    return world.membership(lead(world)).OpenProposalCall(membership_pb2.OpenProposalCallRequest(program_id=program_id, due_time=timestamp(due))).program.proposal_call


def signup_window(world: SchedulingWorld, program_id: str, opens: dt.datetime, closes: dt.datetime,
                  soft: dt.datetime | None = None) -> dict[str, scheduling_pb2.Milestone]:
    created = {"signup_opens": create(world, program_id, "signup_opens", opens),
               "signup_closes": create(world, program_id, "signup_closes", closes)}
    if soft is not None:
        created["soft_deadline"] = create(world, program_id, "soft_deadline", soft)
    return created


# -- the proposal call --------------------------------------------------------------------------
def test_a_call_opened_in_membership_becomes_the_timeline_and_then_only_moves_there(world):
    program_id = world.program()
    call = open_call(world, program_id, in_days(30))
    converge(world, lambda: {scheduling_pb2.MILESTONE_KIND_CALL_OPENS, scheduling_pb2.MILESTONE_KIND_PROPOSALS_DUE} <= set(
        by_kind(world, program_id)), "the call's milestones on the timeline")
    milestones = by_kind(world, program_id)
    opens, due = milestones[scheduling_pb2.MILESTONE_KIND_CALL_OPENS], milestones[scheduling_pb2.MILESTONE_KIND_PROPOSALS_DUE]
    assert (opens.time, due.time) == (call.open_time, call.due_time)
    assert (opens.time_zone, due.time_zone, opens.linked, due.linked) == (TZ, TZ, True, True)
    assert (due.title, due.updated_by) == ("Proposals due", f"{world.prefix}-lead")
    assert listing(world, program_id).timeline_revision == due.timeline_revision == 1

    # Membership applied it: the call is now dated by the timeline and refuses re-dating.
    converge(world, lambda: applied_revision(world, program_id) == 1, "membership applying revision 1")
    error = rpc_error(world.membership(lead(world)).OpenProposalCall, membership_pb2.OpenProposalCallRequest(
        program_id=program_id, due_time=timestamp(in_days(40))))
    assert (error.code, error.reason, [f.field for f in error.fields]) == (
        grpc.StatusCode.FAILED_PRECONDITION, "MANAGED_BY_TIMELINE", ["due_time"])
    assert membership_program(world, program_id).proposal_call == call

    # Moving the milestone moves membership's call, announced as a program update by the mover.
    later = in_days(45)
    moved = world.scheduling(lead(world)).UpdateMilestone(scheduling_pb2.UpdateMilestoneRequest(id=due.id, time=timestamp(later))).milestone
    assert (utc(moved.time), moved.timeline_revision) == (later, 2)
    converge(world, lambda: utc(membership_program(world, program_id).proposal_call.due_time) == later,
             "membership's call due at the moved date")
    assert membership_program(world, program_id).proposal_call.open_time == call.open_time
    [*_, updated] = wait_for_types(world.services, "membership.program.*", program_id, [
        "copnet.membership.program.created", "copnet.membership.program.proposal_call_opened",
        "copnet.membership.program.updated"])
    assert updated.data["changed_by"] == f"{world.prefix}-lead"
    events = wait_for_types(world.services, "scheduling.milestone.*", due.id, [
        "copnet.scheduling.milestone.created", "copnet.scheduling.milestone.updated"])
    assert [event.data["links"]["revision"] for event in events] == ["1", "2"]
    assert events[-1].scope == (f"{world.prefix}-state", world.region)


def test_a_call_the_timeline_opens_later_takes_no_proposals_yet(world):
    program_id = world.program()
    opens, due = in_days(3), in_days(20)
    create(world, program_id, "call_opens", opens)
    create(world, program_id, "proposals_due", due)
    converge(world, lambda: membership_program(world, program_id).HasField("proposal_call"),
             "membership's call from the timeline")
    call = membership_program(world, program_id).proposal_call
    assert (utc(call.open_time), utc(call.due_time)) == (opens, due)
    proposer = world.person("proposer", (world.school, "specialist"))
    error = rpc_error(world.membership(world.token_of(proposer)).SubmitProposal, membership_pb2.SubmitProposalRequest(
        program_id=program_id, title="Number talks", requested_capacity=20, kind=COMMUNITY_KINDS["plc"],
        host_organization_id=world.district))
    assert (error.code, error.reason) == (grpc.StatusCode.FAILED_PRECONDITION, "PROPOSALS_NOT_YET_OPEN")


# -- the sign-up window -------------------------------------------------------------------------
def test_the_signup_milestones_are_every_program_communitys_window(world):
    program_id = world.program()
    active = world.program_community("active", program_id)
    draft_id = f"{world.prefix}-draft"
    world.membership(world.admin).CreateCommunity(membership_pb2.CreateCommunityRequest(
        community_id=draft_id, name="draft", kind=COMMUNITY_KINDS["plc"], host_organization_id=world.district,
        program_id=program_id))
    completed = world.program_community("completed", program_id, status="completed")
    kept = window_of(world, completed)
    opens, soft, closes = in_days(5), in_days(12), in_days(20)
    signup_window(world, program_id, opens, closes, soft)
    converge(world, lambda: all(window_of(world, c) == (opens, soft, closes) for c in (active, draft_id)),
             "every program community's window from the timeline")
    assert window_of(world, completed) == kept

    # A new community of the program takes the window; it cannot ask for another one.
    converge(world, lambda: applied_revision(world, program_id) == 3, "membership applying revision 3")
    new = world.membership(world.admin).CreateCommunity(membership_pb2.CreateCommunityRequest(
        community_id=f"{world.prefix}-new", name="new", kind=COMMUNITY_KINDS["plc"],
        host_organization_id=world.district, program_id=program_id)).community
    assert (utc(new.signup_window.open_time), utc(new.signup_window.close_time)) == (opens, closes)
    other = membership_pb2.SignupWindow(open_time=timestamp(in_days(1)), close_time=timestamp(in_days(9)))
    error = rpc_error(world.membership(world.admin).CreateCommunity, membership_pb2.CreateCommunityRequest(
        community_id=f"{world.prefix}-own", name="own", kind=COMMUNITY_KINDS["plc"],
        host_organization_id=world.district, program_id=program_id, signup_window=other))
    assert (error.code, error.reason, [f.field for f in error.fields]) == (
        grpc.StatusCode.FAILED_PRECONDITION, "MANAGED_BY_TIMELINE", ["signup_window"])
    assert world.db.communities.find_one({"_id": f"{world.prefix}-own"}) is None
    error = rpc_error(world.membership(world.admin).UpdateCommunity, membership_pb2.UpdateCommunityRequest(id=active, signup_window=other))
    assert (error.code, error.reason) == (grpc.StatusCode.FAILED_PRECONDITION, "MANAGED_BY_TIMELINE")
    assert window_of(world, active) == (opens, soft, closes)

    # Moving a milestone moves every window, each change announced by the mover.
    closes_id = by_kind(world, program_id)[scheduling_pb2.MILESTONE_KIND_SIGNUP_CLOSES].id
    later = in_days(25)
    world.scheduling(lead(world)).UpdateMilestone(scheduling_pb2.UpdateMilestoneRequest(id=closes_id, time=timestamp(later)))
    communities = (active, draft_id, new.id)
    converge(world, lambda: all(window_of(world, c) == (opens, soft, later) for c in communities),
             "every window closing at the moved date")
    closing = later.strftime("%Y-%m-%dT%H:%M:%SZ")
    updates: list = []

    def announced() -> bool:
        updates[:] = [e for e in about(world.services, "membership.community.*", active)
                      if e.type == "copnet.membership.community.updated"]
        return any(e.data["community"]["signup_window"]["close_time"] == closing for e in updates)

    converge(world, announced, "the moved window announced")
    assert {e.data["changed_by"] for e in updates} == {f"{world.prefix}-lead"}


def test_half_a_window_is_not_applied_and_leaves_windows_editable(world):
    program_id = world.program()
    community = world.program_community("c", program_id)
    before = window_of(world, community)
    create(world, program_id, "signup_opens", in_days(5))
    converge(world, lambda: applied_revision(world, program_id) == 1, "membership applying revision 1")
    assert window_of(world, community) == before
    own = (in_days(1), None, in_days(9))
    window = membership_pb2.SignupWindow(open_time=timestamp(own[0]), close_time=timestamp(own[2]))
    world.membership(world.admin).UpdateCommunity(membership_pb2.UpdateCommunityRequest(id=community, signup_window=window))
    assert window_of(world, community) == own


# -- bad input, nothing written -----------------------------------------------------------------
def assert_nothing_written(world: SchedulingWorld, program_id: str, before: scheduling_pb2.ListMilestonesResponse) -> None:
    assert listing(world, program_id) == before


@pytest.mark.parametrize(("kind", "days", "fields", "field", "reason"), [
    ("proposals_due", 1, {}, "time", "MILESTONE_ORDER"),
    ("signup_closes", 9, {}, "time", "MILESTONE_ORDER"),
    ("soft_deadline", 10, {}, "time", "MILESTONE_ORDER"),
    ("kick_off", 40, {"time_zone": "America/Springfield"}, "time_zone", "UNKNOWN_TIME_ZONE"),
    ("custom", 40, {}, "title", "INVALID_FIELD"),
    ("kick_off", 40, {"description": "x" * 2001}, "description", "TOO_LONG"),
])
def test_bad_milestones_are_refused_and_nothing_is_written(world, kind, days, fields, field, reason):
    program_id = world.program()
    create(world, program_id, "call_opens", in_days(2))
    create(world, program_id, "signup_opens", in_days(10))
    before = listing(world, program_id)
    error = rpc_error(world.scheduling(lead(world)).CreateMilestone, scheduling_pb2.CreateMilestoneRequest(
        program_id=program_id, kind=KINDS[kind], time=timestamp(in_days(days)), **fields))
    assert (error.code, error.reason, [f.field for f in error.fields]) == (
        grpc.StatusCode.INVALID_ARGUMENT, reason, [field])
    assert_nothing_written(world, program_id, before)


def test_moves_out_of_order_and_second_linked_milestones_are_refused(world):
    program_id = world.program()
    opens = create(world, program_id, "call_opens", in_days(2))
    create(world, program_id, "proposals_due", in_days(9))
    before = listing(world, program_id)
    error = rpc_error(world.scheduling(lead(world)).UpdateMilestone, scheduling_pb2.UpdateMilestoneRequest(
        id=opens.id, time=timestamp(in_days(9))))
    assert (error.code, error.reason, [f.field for f in error.fields]) == (
        grpc.StatusCode.INVALID_ARGUMENT, "MILESTONE_ORDER", ["time"])
    assert "'Proposals due'" in error.message
    error = rpc_error(world.scheduling(lead(world)).UpdateMilestone, scheduling_pb2.UpdateMilestoneRequest(
        id=opens.id, time_zone="Nowhere/Special"))
    assert (error.reason, [f.field for f in error.fields]) == ("UNKNOWN_TIME_ZONE", ["time_zone"])
    error = rpc_error(world.scheduling(lead(world)).CreateMilestone, scheduling_pb2.CreateMilestoneRequest(
        program_id=program_id, kind=scheduling_pb2.MILESTONE_KIND_CALL_OPENS, time=timestamp(in_days(1))))
    assert (error.code, error.reason) == (grpc.StatusCode.ALREADY_EXISTS, "MILESTONE_KIND_EXISTS")
    error = rpc_error(world.scheduling(lead(world)).CreateMilestone, scheduling_pb2.CreateMilestoneRequest(
        program_id=f"{world.prefix}-nothing", kind=scheduling_pb2.MILESTONE_KIND_KICK_OFF, time=timestamp(in_days(1))))
    assert (error.code, error.reason, [f.field for f in error.fields]) == (
        grpc.StatusCode.INVALID_ARGUMENT, "UNKNOWN_PROGRAM", ["program_id"])
    assert_nothing_written(world, program_id, before)


def test_linked_milestones_cannot_be_deleted_and_others_can(world):
    program_id = world.program()
    due = create(world, program_id, "proposals_due", in_days(9))
    kick_off = create(world, program_id, "kick_off", in_days(60), title="Fall kick-off", time_zone="America/Denver")
    error = rpc_error(world.scheduling(lead(world)).DeleteMilestone, scheduling_pb2.DeleteMilestoneRequest(id=due.id))
    assert (error.code, error.reason) == (grpc.StatusCode.FAILED_PRECONDITION, "MILESTONE_LINKED")
    assert "move it" in error.message
    assert [(x.title, x.time_zone, x.linked) for x in listing(world, program_id).milestones] == [
        ("Proposals due", TZ, True), ("Fall kick-off", "America/Denver", False)]
    world.scheduling(lead(world)).DeleteMilestone(scheduling_pb2.DeleteMilestoneRequest(id=kick_off.id))
    remaining = listing(world, program_id)
    assert ([x.id for x in remaining.milestones], remaining.timeline_revision) == ([due.id], 3)
    [*_, deleted] = wait_for_types(world.services, "scheduling.milestone.*", kick_off.id, [
        "copnet.scheduling.milestone.created", "copnet.scheduling.milestone.deleted"])
    assert deleted.data["links"]["proposals_due_time"]
    error = rpc_error(world.scheduling(world.admin).GetMilestone, scheduling_pb2.GetMilestoneRequest(id=kick_off.id))
    assert error.code == grpc.StatusCode.NOT_FOUND


def test_only_program_managers_over_the_owner_change_the_timeline(world):
    program_id = world.program()
    milestone = create(world, program_id, "kick_off", in_days(60))
    outsiders = [world.services.token("county_admin", world.county, person="ca"),
                 world.services.token("regional_lead", world.county, person="rl-below"),
                 world.token_of(world.person("teacher"))]
    for token in outsiders:
        for method, request in (
                ("CreateMilestone", scheduling_pb2.CreateMilestoneRequest(program_id=program_id, kind=scheduling_pb2.MILESTONE_KIND_KICK_OFF,
                                                                          time=timestamp(in_days(61)))),
                ("UpdateMilestone", scheduling_pb2.UpdateMilestoneRequest(id=milestone.id, title="Moved")),
                ("DeleteMilestone", scheduling_pb2.DeleteMilestoneRequest(id=milestone.id))):
            assert rpc_error(getattr(world.scheduling(token), method), request).code == grpc.StatusCode.PERMISSION_DENIED
        # Anyone signed in may read the timeline.
        assert world.scheduling(token).GetMilestone(scheduling_pb2.GetMilestoneRequest(id=milestone.id)).milestone == milestone
    assert rpc_error(world.scheduling().ListMilestones, scheduling_pb2.ListMilestonesRequest(program_id=program_id)).code == \
        grpc.StatusCode.UNAUTHENTICATED
    assert [x.title for x in listing(world, program_id).milestones] == ["Kick-off"]


# -- stale and repeated links -------------------------------------------------------------------
def publish(world: SchedulingWorld, event: CloudEvent) -> None:
    async def go():
        connection = await nats.connect(world.services.nats_url)
        try:
            await connection.jetstream().publish(event.nats_subject(world.services.settings.region), event.body(),
                                                 headers=event.headers())
        finally:
            await connection.close()

    asyncio.run(go())


def test_stale_links_are_ignored_by_membership(world):
    program_id = world.program()
    community = world.program_community("c", program_id)
    opens, closes = in_days(5), in_days(20)
    signup_window(world, program_id, opens, closes)
    converge(world, lambda: applied_revision(world, program_id) == 2, "membership applying revision 2")
    converge(world, lambda: window_of(world, community) == (opens, None, closes), "the window applied")
    source = source_for(world.services.settings.region, "scheduling")
    for revision in (1, 2):
        links = events_pb2.ProgramTimelineLinks(program_id=program_id, revision=revision,
                                                signup_open_time=timestamp(in_days(1)),
                                                signup_close_time=timestamp(in_days(2)))
        event = CloudEvent.of("copnet.scheduling.milestone.updated", source, f"{world.prefix}-stale",
                              events_pb2.MilestoneChanged(links=links, changed_by="replayer"))
        publish(world, event)
        inbox_id = f"membership-program-timelines {source} {event.id}"
        converge(world, lambda i=inbox_id: world.db.inbox.find_one({"_id": i}) is not None,
                 f"membership consuming the revision-{revision} replay")
    assert applied_revision(world, program_id) == 2
    assert window_of(world, community) == (opens, None, closes)
