"""The inquiry cycle's stage machine, its input bounds and how a frozen figure meets a goal."""

from __future__ import annotations

import pytest
from copnet.kernel.errors import FailedPrecondition, InvalidArgument
from copnet.reflection.cycles import rules
from copnet.reflection.measures.published import Percent, PublishedCell

GOAL = {"measure": "percent_met_or_exceeded"}
ACTIONS = {"actions": [{"id": "a"}]}
ANSWERED = {"answers": [{"prompt_key": "what_worked", "text": "talk moves"}]}


def cycle(stage: str, **parts) -> dict:
    return {"stage": stage, **parts}


def reason(call) -> str:
    with pytest.raises((FailedPrecondition, InvalidArgument)) as raised:
        call()
    return raised.value.reason


def test_stages_go_in_order_and_end_closed():
    assert [rules.next_stage(s) for s in rules.ORDER] == [*rules.ORDER[1:], None]
    assert rules.next_stage(rules.ABANDONED) is None


def test_a_full_cycle_advances_stage_by_stage():
    parts = {"goal": GOAL, "plan": ACTIONS, "reflection": ANSWERED}
    for stage in rules.OPEN_STAGES:
        rules.check_advance(cycle(stage, **parts), rules.next_stage(stage))


@pytest.mark.parametrize("stage,to", [("set_goals", "act"), ("plan", "set_goals"), ("act", "reflect"),
                                      ("assess", "closed"), ("reflect", "reflect")])
def test_a_stage_cannot_be_skipped_or_repeated(stage, to):
    parts = {"goal": GOAL, "plan": ACTIONS, "reflection": ANSWERED}
    assert reason(lambda: rules.check_advance(cycle(stage, **parts), to)) == "STAGE_OUT_OF_ORDER"


@pytest.mark.parametrize("stage", rules.FINAL_STAGES)
def test_a_closed_or_abandoned_cycle_never_moves(stage):
    assert reason(lambda: rules.check_advance(cycle(stage), rules.ABANDONED)) == "CYCLE_FINISHED"


def test_any_open_stage_can_be_abandoned_without_its_parts():
    for stage in rules.OPEN_STAGES:
        rules.check_advance(cycle(stage), rules.ABANDONED)


@pytest.mark.parametrize("stage,missing,expected", [
    ("set_goals", {}, "GOAL_REQUIRED"),
    ("plan", {"goal": GOAL, "plan": {"actions": []}}, "PLAN_REQUIRED"),
    ("reflect", {"goal": GOAL, "plan": ACTIONS, "reflection": {"answers": [], "next_changes": ""}},
     "REFLECTION_REQUIRED"),
])
def test_a_stage_is_left_only_with_what_the_next_needs(stage, missing, expected):
    assert reason(lambda: rules.check_advance(cycle(stage, **missing), rules.next_stage(stage))) == expected


def test_each_part_changes_only_in_its_stages():
    rules.check_editable("set_goals", "goal")
    rules.check_editable("act", "plan")
    rules.check_editable("reflect", "reflection")
    for stage, path in (("act", "goal"), ("assess", "plan"), ("act", "reflection"), ("closed", "title")):
        assert reason(lambda s=stage, p=path: rules.check_editable(s, p)) == "STAGE_LOCKED"
    rules.check_evidence_stage("act")
    assert reason(lambda: rules.check_evidence_stage("plan")) == "STAGE_LOCKED"


def test_goal_measures_and_targets_are_bounded():
    assert reason(lambda: rules.measure_key("students_tested")) == "UNKNOWN_MEASURE"
    measure = rules.measure_key("percent_met_or_exceeded")
    assert rules.target_value(measure, 55) == 55.0
    for value in (100.5, -1, float("nan"), float("inf")):
        assert reason(lambda v=value: rules.target_value(measure, v)) == "TARGET_OUT_OF_RANGE"
    assert rules.target_value(rules.measure_key("distance_from_standard"), -25) == -25.0


def test_evidence_is_a_note_or_one_valid_link():
    rules.link("https://example.org/lesson", "", "")
    rules.link("", "res-1", "")
    rules.link("", "", "a note")
    assert reason(lambda: rules.link("", "", "")) == "EMPTY_EVIDENCE"
    assert reason(lambda: rules.link("https://a.org", "res-1", "")) == "ONE_LINK_ONLY"
    assert reason(lambda: rules.link("javascript:alert(1)", "", "")) == "INVALID_URL"
    assert reason(lambda: rules.link("https://a.org/" + "x" * rules.URL_MAX, "", "")) == "INVALID_URL"


def test_answers_name_the_cycles_prompts_once_each():
    assert rules.answers([("what_worked", "x"), ("next_cycle", "")]) == [{"prompt_key": "what_worked", "text": "x"}]
    assert reason(lambda: rules.answers([("why", "x")])) == "UNKNOWN_PROMPT"
    assert reason(lambda: rules.answers([("what_worked", "x"), ("what_worked", "y")])) == "DUPLICATE_ANSWER"
    too_many = [(key, "x") for key in rules.PROMPT_KEYS] * 2
    assert reason(lambda: rules.answers(too_many)) == "TOO_MANY"


def cell(**figures) -> PublishedCell:
    return PublishedCell(organization_id="usd", level="district", student_group="english_learner", grade="5",
                         test="sbac-math", school_year="2025-26", window="spring", **figures)


def test_a_published_figure_is_met_when_it_reaches_the_target():
    figure = rules.figure_of(cell(withheld=False, students_tested=40,
                                  percent_met_or_exceeded=Percent(42.5, "42.5")), "percent_met_or_exceeded")
    assert figure == {"state": "published", "value": 42.5, "text": "42.5", "students_tested": 40}
    assert rules.outcome(figure, 42.5) == rules.MET
    assert rules.outcome(figure, 42.6) == rules.NOT_MET


def test_withheld_or_missing_figures_cannot_tell():
    withheld = rules.figure_of(cell(withheld=True), "distance_from_standard")
    assert withheld == {"state": "withheld"} and rules.outcome(withheld, -100) == rules.CANNOT_TELL
    assert rules.outcome(rules.figure_of(None, "mean_scale_score"), 0) == rules.CANNOT_TELL
    empty = rules.figure_of(cell(withheld=False, students_tested=0), "mean_scale_score")
    assert rules.outcome(empty, 0) == rules.CANNOT_TELL


def test_a_coded_percentage_tells_only_when_its_range_is_on_one_side():
    high = rules.figure_of(cell(withheld=False, students_tested=30, percent_met_or_exceeded=Percent(None, ">95")),
                           "percent_met_or_exceeded")
    assert high == {"state": "coded", "text": ">95", "students_tested": 30}
    assert rules.outcome(high, 90) == rules.MET
    assert rules.outcome(high, 97) == rules.CANNOT_TELL
    low = {"state": "coded", "text": "<5"}
    assert rules.outcome(low, 10) == rules.NOT_MET
    assert rules.outcome(low, 3) == rules.CANNOT_TELL


def test_a_cleared_goal_stops_a_planned_cycle_from_acting():
    assert reason(lambda: rules.check_advance(cycle("plan", goal={}, plan=ACTIONS), "act")) == "GOAL_REQUIRED"


def test_a_url_with_spaces_or_control_characters_is_refused():
    for url in ("https://a.org/x y", "https://a.org/\x00", "https://a.org/\u2028", "https://"):
        assert reason(lambda u=url: rules.link(u, "", "")) == "INVALID_URL"
