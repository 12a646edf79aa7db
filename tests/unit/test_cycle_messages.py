"""Requests' parts of an inquiry cycle checked at the door: each error names the field as sent."""

from __future__ import annotations

import datetime as dt

import pytest
from copnet.kernel.errors import InvalidArgument
from copnet.kernel.timestamps import timestamp
from copnet.reflection.cycles import messages, rules
from copnet.reflection.cycles.models import InquiryCycle
from copnet.reflection.v1 import cycles_pb2


def goal(**changes) -> cycles_pb2.CycleGoal:
    message = cycles_pb2.CycleGoal(
        measure="distance_from_standard", target_value=-10,
        filter=cycles_pb2.GoalMeasureFilter(organization_id="eastbay-usd", student_group="el", grade="5",
                                            test="sbac-math", school_year="2025-26", window="spring"),
        target_time=timestamp(dt.datetime(2026, 6, 1, tzinfo=dt.UTC)))
    for path, value in changes.items():
        target, _, name = path.rpartition("__")
        holder = getattr(message, target) if target else message
        if value is None:
            holder.ClearField(name)
        else:
            setattr(holder, name, value)
    return message


def error(call) -> tuple[str, str]:
    with pytest.raises(InvalidArgument) as raised:
        call()
    return raised.value.fields[0].field, raised.value.reason


def test_a_goal_defaults_its_baseline_to_the_target_cell():
    parsed = messages.goal(goal())
    assert (parsed["baseline_school_year"], parsed["baseline_window"]) == ("2025-26", "spring")
    assert parsed["filter"]["student_group"] == "el" and parsed["target_value"] == -10.0


@pytest.mark.parametrize("changes,expected", [
    ({"measure": "vibes"}, ("goal.measure", "UNKNOWN_MEASURE")),
    ({"filter__grade": ""}, ("goal.filter.grade", "INVALID_FIELD")),
    ({"filter__grade": "13"}, ("goal.filter.grade", "UNKNOWN_GRADE")),
    ({"filter__student_group": "girls"}, ("goal.filter.student_group", "UNKNOWN_STUDENT_GROUP")),
    ({"filter__window": "summer"}, ("goal.filter.window", "UNKNOWN_WINDOW")),
    ({"filter__school_year": "2025-27"}, ("goal.filter.school_year", "INVALID_SCHOOL_YEAR")),
    ({"filter__organization_id": "Not An Id"}, ("goal.filter.organization_id", "INVALID_FIELD")),
    ({"baseline_window": "later"}, ("goal.baseline_window", "UNKNOWN_WINDOW")),
    ({"target_value": 5000.0}, ("goal.target_value", "TARGET_OUT_OF_RANGE")),
    ({"target_time": None}, ("goal.target_time", "INVALID_FIELD")),
    ({"statement": "x" * (rules.STATEMENT_MAX + 1)}, ("goal.statement", "TOO_LONG")),
])
def test_a_bad_goal_names_its_field(changes, expected):
    assert error(lambda: messages.goal(goal(**changes))) == expected


def test_a_target_date_outside_1900_to_2200_is_refused():
    message = goal()
    message.target_time.seconds = int(dt.datetime(2200, 1, 2, tzinfo=dt.UTC).timestamp())
    assert error(lambda: messages.goal(message)) == ("goal.target_time", "INSTANT_OUT_OF_RANGE")


def test_a_plan_keeps_known_actions_and_bounds_the_rest():
    known = {"a1": {"id": "a1"}}
    plan = messages.plan(cycles_pb2.CyclePlan(actions=[
        cycles_pb2.CycleAction(id="a1", text="Keep"), cycles_pb2.CycleAction(text="New", session_ids=["s", "s"])]),
        known)
    assert plan["actions"][0]["id"] == "a1" and plan["actions"][1]["id"] != "a1"
    assert plan["actions"][1]["session_ids"] == ["s"]
    assert error(lambda: messages.plan(cycles_pb2.CyclePlan(actions=[cycles_pb2.CycleAction(id="zz", text="x")]),
                                       known)) == ("plan.actions[0].id", "UNKNOWN_ACTION")
    assert error(lambda: messages.plan(cycles_pb2.CyclePlan(actions=[cycles_pb2.CycleAction(text=" ")]),
                                       known)) == ("plan.actions[0].text", "INVALID_FIELD")
    many = cycles_pb2.CyclePlan(actions=[cycles_pb2.CycleAction(text="x")] * (rules.MAX_ACTIONS + 1))
    assert error(lambda: messages.plan(many, known)) == ("plan.actions", "TOO_MANY")
    sessions = cycles_pb2.CyclePlan(actions=[cycles_pb2.CycleAction(
        text="x", session_ids=[f"s{n}" for n in range(rules.MAX_SESSIONS_PER_ACTION + 1)])])
    assert error(lambda: messages.plan(sessions, known)) == ("plan.actions[0].session_ids", "TOO_MANY")


def test_evidence_and_reflection_are_bounded():
    now = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    note = messages.evidence(cycles_pb2.CycleEvidence(note="  seen  "), "p1", now)
    assert (note["note"], note["author_person_id"]) == ("seen", "p1")
    assert error(lambda: messages.evidence(cycles_pb2.CycleEvidence(note="x" * (rules.NOTE_MAX + 1)), "p", now)
                 ) == ("evidence.note", "TOO_LONG")
    assert error(lambda: messages.reflection(cycles_pb2.CycleReflection(next_changes="\x07"))) == (
        "reflection.next_changes", "CONTROL_CHARACTER")


def test_a_cycle_document_becomes_its_message_with_the_prompts():
    now = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    parsed = messages.goal(goal())
    parsed["baseline"] = {"state": "withheld"}
    cycle = InquiryCycle(id="c1", community_id="plc", stage="plan", program_year="2025-26", goal=parsed,
                         plan={"actions": []}, create_time=now, update_time=now)
    message = messages.cycle_message(cycle)
    assert message.stage == cycles_pb2.CYCLE_STAGE_PLAN
    assert message.goal.baseline.state == "withheld" and not message.goal.baseline.HasField("value")
    assert [p.key for p in message.reflection_prompts] == list(rules.PROMPT_KEYS)
