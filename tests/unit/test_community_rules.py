"""The pure rules of programs, communities and proposals (no database)."""

from __future__ import annotations

import datetime as dt

import pytest
from google.protobuf import timestamp_pb2

from copnet.kernel.errors import FailedPrecondition, InvalidArgument
from copnet.membership.community_rules import (ALLOWED_TRANSITIONS, default_team_composition, missing_to_open,
                                              status_transition_error, valid_capacity, valid_signup_window,
                                              valid_team_composition)
from copnet.membership.models import COMMUNITY_STATUSES, Community, Program, Proposal, ProposalCall, SignupWindow
from copnet.membership.programs import proposal_call_is_open, valid_program_year
from copnet.membership.proposals import require_open_call, require_undecided, valid_currency, valid_stipend
from copnet.membership.seats import free_seats
from copnet.membership.v1 import membership_pb2

T0 = dt.datetime(2026, 8, 1, tzinfo=dt.UTC)


def stamp(days: float) -> timestamp_pb2.Timestamp:
    result = timestamp_pb2.Timestamp()
    result.FromDatetime(T0 + dt.timedelta(days=days))
    return result


def field_error(check, *args, **kwargs) -> tuple[str, str]:
    with pytest.raises(InvalidArgument) as raised:
        check(*args, **kwargs)
    return raised.value.fields[0].field, raised.value.reason


# -- program years ------------------------------------------------------------------------------
@pytest.mark.parametrize("year", ["2026-27", "1999-00", "2099-00", " 2030-31 "])
def test_consecutive_school_years_are_accepted(year):
    assert valid_program_year(year) == year.strip()


@pytest.mark.parametrize("year", ["2026-28", "2026-26", "2027-26", "2026", "2026-2027", "26-27", "2026/27", ""])
def test_other_program_years_are_refused(year):
    assert field_error(valid_program_year, year) == ("program_year", "INVALID_PROGRAM_YEAR")


# -- capacity -----------------------------------------------------------------------------------
def test_capacity_must_be_positive_and_zero_means_unset_only_where_allowed():
    assert valid_capacity(0) == 0
    assert valid_capacity(36) == 36
    assert field_error(valid_capacity, -1) == ("capacity", "CAPACITY_NOT_POSITIVE")
    assert field_error(valid_capacity, 0, "requested_capacity", allow_unset=False) == (
        "requested_capacity", "CAPACITY_NOT_POSITIVE")


def test_available_seats_never_go_below_zero():
    assert free_seats(Community(capacity=10, confirmed_count=4)) == 6
    assert free_seats(Community(capacity=0, confirmed_count=0)) == 0
    assert free_seats(Community(capacity=2, confirmed_count=3)) == 0


# -- sign-up windows ----------------------------------------------------------------------------
def test_a_window_with_a_soft_deadline_at_its_close_is_valid():
    window = valid_signup_window(membership_pb2.SignupWindow(open_time=stamp(0), soft_deadline=stamp(9), close_time=stamp(9)))
    assert (window.opens_at, window.soft_deadline, window.closes_at) == (
        T0, T0 + dt.timedelta(days=9), T0 + dt.timedelta(days=9))
    assert valid_signup_window(membership_pb2.SignupWindow(open_time=stamp(0), close_time=stamp(1))).soft_deadline is None


@pytest.mark.parametrize(("window", "field", "reason"), [
    (membership_pb2.SignupWindow(close_time=stamp(1)), "signup_window.open_time", "INVALID_FIELD"),
    (membership_pb2.SignupWindow(open_time=stamp(1)), "signup_window.close_time", "INVALID_FIELD"),
    (membership_pb2.SignupWindow(open_time=stamp(1), close_time=stamp(1)), "signup_window.close_time", "INVALID_SIGNUP_WINDOW"),
    (membership_pb2.SignupWindow(open_time=stamp(2), close_time=stamp(1)), "signup_window.close_time", "INVALID_SIGNUP_WINDOW"),
    (membership_pb2.SignupWindow(open_time=stamp(1), soft_deadline=stamp(1), close_time=stamp(5)), "signup_window.soft_deadline",
     "INVALID_SIGNUP_WINDOW"),
    (membership_pb2.SignupWindow(open_time=stamp(1), soft_deadline=stamp(6), close_time=stamp(5)), "signup_window.soft_deadline",
     "INVALID_SIGNUP_WINDOW"),
])
def test_bad_windows_name_the_field(window, field, reason):
    assert field_error(valid_signup_window, window) == (field, reason)


# -- team composition ---------------------------------------------------------------------------
def test_a_math_team_defaults_to_specialist_site_admin_and_a_k5_teacher():
    slots = valid_team_composition([], "math_team")
    assert [(s.position, s.count, list(s.grade_bands)) for s in slots] == [
        ("specialist", 1, []), ("site_admin", 1, []), ("teacher", 1, ["k_2", "3_5"])]
    assert default_team_composition("plc") == []


def test_a_given_composition_replaces_the_default_and_is_checked():
    slots = valid_team_composition([membership_pb2.TeamSlot(position=membership_pb2.POSITION_COACH, count=2)], "math_team")
    assert [(s.position, s.count) for s in slots] == [("coach", 2)]
    assert field_error(valid_team_composition, [membership_pb2.TeamSlot(position=membership_pb2.POSITION_COACH, count=0)], "plc") == (
        "team_composition[0].count", "INVALID_FIELD")
    assert field_error(valid_team_composition, [membership_pb2.TeamSlot(count=1)], "plc") == (
        "team_composition[0].position", "INVALID_FIELD")


# -- the status lifecycle -----------------------------------------------------------------------
@pytest.mark.parametrize("previous", COMMUNITY_STATUSES)
@pytest.mark.parametrize("target", COMMUNITY_STATUSES)
def test_only_the_lifecycle_transitions_are_allowed(previous, target):
    allowed = {("draft", "open"), ("open", "closed"), ("closed", "open"), ("open", "active"), ("closed", "active"),
               ("active", "completed")}
    error = status_transition_error(previous, target)
    if (previous, target) in allowed:
        assert error is None
    else:
        assert isinstance(error, FailedPrecondition)
        assert (error.reason, error.metadata) == ("INVALID_STATUS_TRANSITION", {"from": previous, "to": target})
        assert f"from {previous} to {target}" in error.message
    assert ALLOWED_TRANSITIONS == allowed


def test_what_a_draft_lacks_before_it_opens():
    window = SignupWindow(opens_at=T0, closes_at=T0 + dt.timedelta(days=1))
    assert missing_to_open(Community(capacity=0)) == ["capacity", "signup_window"]
    assert missing_to_open(Community(capacity=3)) == ["signup_window"]
    assert missing_to_open(Community(capacity=0, signup_window=window)) == ["capacity"]
    assert missing_to_open(Community(capacity=3, signup_window=window)) == []


# -- proposals ----------------------------------------------------------------------------------
def test_stipends_and_currencies():
    assert (valid_stipend(0), valid_stipend(150000)) == (0, 150000)
    assert field_error(valid_stipend, -1) == ("stipend_cents", "INVALID_STIPEND")
    assert (valid_currency(""), valid_currency("EUR")) == ("USD", "EUR")
    for bad in ("usd", "US", "USDX", "U$D"):
        assert field_error(valid_currency, bad) == ("stipend_currency", "INVALID_CURRENCY")


def test_the_proposal_call_is_open_until_its_due_instant():
    program = Program(id="p", proposal_call=ProposalCall(opened_at=T0, due_at=T0 + dt.timedelta(days=1)))
    assert proposal_call_is_open(program, T0)
    assert not proposal_call_is_open(program, T0 + dt.timedelta(days=1))
    assert not proposal_call_is_open(Program(id="p"), T0)


@pytest.mark.parametrize(("program", "reason"), [
    (Program(id="p"), "NO_PROPOSAL_CALL"),
    (Program(id="p", proposal_call=ProposalCall(opened_at=T0, due_at=T0)), "PROPOSALS_CLOSED"),
])
def test_no_submission_without_an_open_call(program, reason):
    with pytest.raises(FailedPrecondition) as raised:
        require_open_call(program)
    assert raised.value.reason == reason


@pytest.mark.parametrize("status", ["accepted", "declined"])
def test_a_decided_proposal_stays_decided(status):
    require_undecided(Proposal(id="p", status="submitted"))
    with pytest.raises(FailedPrecondition) as raised:
        require_undecided(Proposal(id="p", status=status))
    assert raised.value.reason == "PROPOSAL_ALREADY_DECIDED"
