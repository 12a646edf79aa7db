"""The pure rules of program timelines: milestone input and order in scheduling, and how membership
applies a revision of the linked dates (no database, no bus)."""

from __future__ import annotations

import datetime as dt

import pytest
from google.protobuf import timestamp_pb2

from copnet.events.v1 import events_pb2
from copnet.kernel.errors import FailedPrecondition, InvalidArgument
from copnet.membership import timeline as applying
from copnet.membership.community_rules import require_window_not_managed
from copnet.membership.models import Community, Program, ProgramTimeline, ProposalCall, SignupWindow
from copnet.membership.programs import proposal_call_is_open, require_call_not_managed
from copnet.membership.proposals import require_open_call
from copnet.scheduling import timeline
from copnet.scheduling.models import LINKED_MILESTONE_KINDS, MILESTONE_KINDS, Milestone

T0 = dt.datetime(2027, 3, 1, 16, tzinfo=dt.UTC)
DAY = dt.timedelta(days=1)


def at(days: float) -> dt.datetime:
    return T0 + dt.timedelta(days=days)


def stamp(moment: dt.datetime) -> timestamp_pb2.Timestamp:
    result = timestamp_pb2.Timestamp()
    result.FromDatetime(moment)
    return result


def field_error(check, *args) -> tuple[str, str]:
    with pytest.raises(InvalidArgument) as raised:
        check(*args)
    return raised.value.fields[0].field, raised.value.reason


def milestones(**days: float) -> dict[str, Milestone]:
    return {kind: Milestone(kind=kind, title=timeline.KIND_TITLES[kind], at=at(offset),
                            time_zone="America/Los_Angeles") for kind, offset in days.items()}


def links(revision: int, **days: float) -> events_pb2.ProgramTimelineLinks:
    return timeline.links_message("p", revision, milestones(**days))


# -- scheduling: milestone input ----------------------------------------------------------------
def test_every_kind_but_custom_has_a_name_to_default_to():
    assert set(timeline.KIND_TITLES) == set(MILESTONE_KINDS) - {"custom"}
    assert timeline.valid_title("", "proposals_due") == "Proposals due"
    assert timeline.valid_title("  Spring kick-off  ", "kick_off") == "Spring kick-off"
    assert field_error(timeline.valid_title, " ", "custom") == ("title", "INVALID_FIELD")
    assert field_error(timeline.valid_title, "x" * 201, "custom") == ("title", "TOO_LONG")


# -- scheduling: order of the linked milestones -------------------------------------------------
@pytest.mark.parametrize(("kind", "offset", "others"), [
    ("proposals_due", 0, {"call_opens": 0}),
    ("proposals_due", -1, {"call_opens": 0}),
    ("call_opens", 5, {"proposals_due": 5}),
    ("signup_closes", 10, {"signup_opens": 10}),
    ("signup_opens", 11, {"signup_closes": 10}),
    ("soft_deadline", 10, {"signup_opens": 10, "signup_closes": 20}),
    ("soft_deadline", 21, {"signup_opens": 10, "signup_closes": 20}),
    ("signup_closes", 14, {"soft_deadline": 15}),
    ("signup_opens", 15, {"soft_deadline": 15}),
])
def test_linked_milestones_out_of_order_are_refused_naming_the_other(kind, offset, others):
    neighbours = milestones(**others)
    with pytest.raises(InvalidArgument) as raised:
        timeline.check_order(kind, at(offset), neighbours)
    assert (raised.value.reason, raised.value.fields[0].field) == ("MILESTONE_ORDER", "time")
    assert any(repr(other.title) in raised.value.message for other in neighbours.values())


@pytest.mark.parametrize(("kind", "offset", "others"), [
    ("proposals_due", 1, {"call_opens": 0}),
    ("soft_deadline", 20, {"signup_opens": 10, "signup_closes": 20}),
    ("signup_closes", 15, {"soft_deadline": 15, "signup_opens": 10}),
    ("signup_opens", -100, {"proposals_due": 5}),
    ("call_opens", 3, {}),
])
def test_linked_milestones_in_order_pass(kind, offset, others):
    timeline.check_order(kind, at(offset), milestones(**others))


def test_unlinked_kinds_have_no_order():
    timeline.check_order("kick_off", at(-400), milestones(signup_opens=0, signup_closes=10))


def test_the_order_message_shows_the_other_milestone_in_its_own_time_zone():
    violation = timeline.order_violation("proposals_due", at(-1), milestones(call_opens=0))
    assert violation == "must be after 'Call for facilitators opens' (2027-03-01T08:00:00-08:00, America/Los_Angeles)"


def test_links_carry_exactly_the_linked_dates():
    message = links(7, call_opens=0, proposals_due=10, signup_opens=20, signup_closes=30)
    assert (message.program_id, message.revision) == ("p", 7)
    assert message.proposals_due_time.ToDatetime(tzinfo=dt.UTC) == at(10)
    assert message.HasField("signup_open_time") and not message.HasField("soft_deadline")
    assert timeline.linked_key("p", "kick_off") is None
    assert {timeline.linked_key("p", kind) for kind in LINKED_MILESTONE_KINDS} == {
        f"p:{kind}" for kind in LINKED_MILESTONE_KINDS}


# -- membership: applying a revision ------------------------------------------------------------
def program(revision: int | None = None, call: tuple[float, float] | None = None, **timeline_days) -> Program:
    found = Program(id="p", name="p", owner_organization_id="r", program_year="2026-27", created_at=T0)
    if call is not None:
        found.proposal_call = ProposalCall(opened_at=at(call[0]), due_at=at(call[1]))
    if revision is not None:
        found.timeline = applying.timeline_from_links(links(revision, **timeline_days))
    return found


def community(community_id: str, status: str = "open", window: tuple[float, float] | None = None) -> Community:
    found = Community(id=community_id, status=status)
    if window is not None:
        found.signup_window = SignupWindow(opens_at=at(window[0]), closes_at=at(window[1]))
    return found


def test_a_revision_already_applied_or_older_changes_nothing():
    current = program(5, call=(0, 10), call_opens=0, proposals_due=10)
    for revision in (3, 5):
        assert applying.plan(current, links(revision, call_opens=0, proposals_due=30), [], T0) is None
    assert applying.plan(current, links(6, call_opens=0, proposals_due=30), [], T0) is not None
    assert applying.plan(program(), links(1, proposals_due=3), [], T0) is not None


def test_proposals_due_dates_the_call_and_call_opens_opens_it():
    plan = applying.plan(program(), links(1, call_opens=2, proposals_due=9), [], at(-1))
    assert (plan.proposal_call.opened_at, plan.proposal_call.due_at) == (at(2), at(9))


def test_without_call_opens_the_call_keeps_its_opening_or_opens_when_first_dated():
    kept = applying.plan(program(call=(-3, 4)), links(1, proposals_due=9), [], at(1)).proposal_call
    assert (kept.opened_at, kept.due_at) == (at(-3), at(9))
    fresh = applying.plan(program(), links(1, proposals_due=9), [], at(1)).proposal_call
    assert (fresh.opened_at, fresh.due_at) == (at(1), at(9))


def test_a_call_already_as_the_timeline_says_is_no_change():
    current = program(1, call=(0, 10), call_opens=0, proposals_due=10)
    plan = applying.plan(current, links(2, call_opens=0, proposals_due=10, signup_opens=20, signup_closes=30), [], T0)
    assert plan.proposal_call is None and plan.timeline.revision == 2


def test_no_proposals_due_leaves_the_call_alone():
    assert applying.plan(program(call=(0, 10)), links(1, call_opens=5), [], T0).proposal_call is None


def test_the_window_goes_to_every_community_that_differs_except_completed_ones():
    communities = [community("same", window=(20, 30)), community("other", window=(21, 30)),
                   community("draft", status="draft"), community("done", status="completed", window=(1, 2)),
                   community("active", status="active", window=(1, 2))]
    plan = applying.plan(program(), links(1, signup_opens=20, signup_closes=30), communities, T0)
    assert plan.community_ids == ("other", "draft", "active")
    assert (plan.window.opens_at, plan.window.soft_deadline, plan.window.closes_at) == (at(20), None, at(30))


def test_a_soft_deadline_is_part_of_the_window_and_half_a_window_is_none():
    plan = applying.plan(program(), links(1, signup_opens=20, soft_deadline=25, signup_closes=30),
                         [community("c", window=(20, 30))], T0)
    assert plan.window.soft_deadline == at(25) and plan.community_ids == ("c",)
    half = applying.plan(program(), links(1, signup_opens=20), [community("c")], T0)
    assert (half.window, half.community_ids) == (None, ())


# -- membership: what the timeline manages ------------------------------------------------------
def test_a_managed_call_is_refused_in_membership():
    require_call_not_managed(program(1, signup_opens=1, signup_closes=2))
    with pytest.raises(FailedPrecondition) as raised:
        require_call_not_managed(program(1, call=(0, 10), proposals_due=10))
    assert (raised.value.reason, raised.value.metadata, raised.value.fields[0].field) == (
        "MANAGED_BY_TIMELINE", {"field": "due_time"}, "due_time")
    assert "milestone" in raised.value.message


def test_a_managed_window_is_refused_unless_it_is_the_same():
    managed = program(1, signup_opens=20, signup_closes=30)
    require_window_not_managed(managed, SignupWindow(opens_at=at(20), closes_at=at(30)))
    require_window_not_managed(managed, None)
    require_window_not_managed(program(1, signup_opens=20), SignupWindow(opens_at=at(1), closes_at=at(2)))
    with pytest.raises(FailedPrecondition) as raised:
        require_window_not_managed(managed, SignupWindow(opens_at=at(20), closes_at=at(31)))
    assert (raised.value.reason, raised.value.fields[0].field) == ("MANAGED_BY_TIMELINE", "signup_window")


def test_the_managed_window_comes_from_the_timeline():
    assert program().managed_signup_window() is None
    window = program(2, signup_opens=20, soft_deadline=22, signup_closes=30).managed_signup_window()
    assert (window.opens_at, window.soft_deadline, window.closes_at) == (at(20), at(22), at(30))
    assert program(2, call_opens=1, proposals_due=3).proposal_call_managed
    assert not ProgramTimeline(revision=1).manages_proposal_call


# -- membership: a call the timeline opens later is not open yet --------------------------------
def test_a_call_opening_in_the_future_is_not_open_yet():
    future = program(call=(1, 10))
    assert not proposal_call_is_open(future, T0)
    assert proposal_call_is_open(future, at(1))
    assert not proposal_call_is_open(future, at(10))


def test_submitting_before_the_call_opens_is_refused_with_its_own_reason():
    now = dt.datetime.now(dt.UTC)
    not_yet = Program(id="p", proposal_call=ProposalCall(opened_at=now + DAY, due_at=now + 2 * DAY))
    with pytest.raises(FailedPrecondition) as raised:
        require_open_call(not_yet)
    assert raised.value.reason == "PROPOSALS_NOT_YET_OPEN"
    require_open_call(Program(id="p", proposal_call=ProposalCall(opened_at=now - DAY, due_at=now + DAY)))
