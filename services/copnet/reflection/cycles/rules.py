"""The rules of an inquiry cycle, pure: its stages and their order, what each stage lets change,
what a stage needs before the cycle may leave it, the bounds of every input, and whether a frozen
figure met the goal's target. No database, no clock, no network."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from copnet.kernel.errors import FailedPrecondition, InvalidArgument

SET_GOALS, PLAN, ACT, ASSESS, REFLECT, CLOSED, ABANDONED = (
    "set_goals", "plan", "act", "assess", "reflect", "closed", "abandoned")
ORDER = (SET_GOALS, PLAN, ACT, ASSESS, REFLECT, CLOSED)
OPEN_STAGES = ORDER[:-1]
FINAL_STAGES = (CLOSED, ABANDONED)

MET, NOT_MET, CANNOT_TELL = "met", "not_met", "cannot_tell"

# Where each part of a cycle may still change: the goal until the cycle acts on it, the plan while
# acting (actions get done), the reflection once there is something to reflect on.
EDITABLE_IN = {
    "title": OPEN_STAGES,
    "goal": (SET_GOALS, PLAN),
    "plan": (SET_GOALS, PLAN, ACT),
    "reflection": (ASSESS, REFLECT),
}
EVIDENCE_STAGES = (ACT, ASSESS)

# Bounds: every input is bounded before it costs anything.
TITLE_MAX = 200
STATEMENT_MAX = 1000
MAX_ACTIONS = 30
ACTION_TEXT_MAX = 1000
MAX_SESSIONS_PER_ACTION = 10
MAX_EVIDENCE = 200
NOTE_MAX = 4000
URL_MAX = 2000
ANSWER_MAX = 4000
NEXT_CHANGES_MAX = 4000
ABANDON_REASON_MAX = 1000


@dataclass(frozen=True)
class Measure:
    key: str
    title: str
    lowest: float
    highest: float


# Every goal measure is "higher is better": a goal is met when the frozen figure reaches the target.
MEASURES: dict[str, Measure] = {m.key: m for m in (
    Measure("percent_met_or_exceeded", "% met or exceeded standard", 0.0, 100.0),
    Measure("distance_from_standard", "Distance from standard (scale-score points)", -1000.0, 1000.0),
    Measure("mean_scale_score", "Mean scale score", 0.0, 10000.0),
)}

REFLECTION_PROMPTS: tuple[tuple[str, str], ...] = (
    ("what_happened", ("What happened to the measure, for the students the goal is about? Compare the "
                       "snapshot with the baseline.")),
    ("what_worked", "Which actions of the plan made a difference, and what evidence tells you so?"),
    ("what_surprised", "What surprised you in the results or in students' work?"),
    ("whose_needs", "Which students' needs are still not met, and what do we not yet know about them?"),
    ("next_cycle", "What will we keep, change or stop in the next cycle?"),
)
PROMPT_KEYS = tuple(key for key, _ in REFLECTION_PROMPTS)

# Printable ASCII only (an IRI's other characters are sent percent-encoded): no spaces or controls.
URL = re.compile(r"^https?://[!-~]+$", re.IGNORECASE)
RESOURCE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$")


# -- stages -------------------------------------------------------------------------------------
def next_stage(stage: str) -> str | None:
    """The stage after `stage`, None for a closed or abandoned cycle."""
    if stage not in OPEN_STAGES:
        return None
    return ORDER[ORDER.index(stage) + 1]


def check_advance(cycle: Mapping, to_stage: str) -> None:
    """Refuses a move that is not to the next stage (or to abandoned from an open stage), and a
    stage left before it has what the next one needs."""
    stage = cycle["stage"]
    if stage in FINAL_STAGES:
        raise FailedPrecondition(f"the cycle is {stage} and can no longer change", reason="CYCLE_FINISHED",
                                 metadata={"field": "to_stage"})
    if to_stage == ABANDONED:
        return
    expected = next_stage(stage)
    if to_stage != expected:
        raise FailedPrecondition(f"a cycle in {stage} moves to {expected} next (stages go in order: "
                                 f"{' -> '.join(ORDER)}), or is abandoned", reason="STAGE_OUT_OF_ORDER",
                                 metadata={"field": "to_stage"})
    # The goal can still be cleared while planning: acting needs it as much as planning does.
    if stage in (SET_GOALS, PLAN) and not cycle.get("goal"):
        raise FailedPrecondition(f"set the goal (measure, filter, target and date) before moving to {expected}",
                                 reason="GOAL_REQUIRED", metadata={"field": "goal"})
    if stage == PLAN and not (cycle.get("plan") or {}).get("actions"):
        raise FailedPrecondition("plan at least one action before acting", reason="PLAN_REQUIRED",
                                 metadata={"field": "plan"})
    if stage == REFLECT:
        reflection = cycle.get("reflection") or {}
        if not reflection.get("answers") and not reflection.get("next_changes"):
            raise FailedPrecondition("answer a reflection prompt or say what changes next cycle before closing",
                                     reason="REFLECTION_REQUIRED", metadata={"field": "reflection"})


def check_editable(stage: str, path: str) -> None:
    if stage not in EDITABLE_IN[path]:
        allowed = ", ".join(EDITABLE_IN[path])
        raise FailedPrecondition(f"{path} can change only while the cycle is in {allowed} (it is {stage})",
                                 reason="STAGE_LOCKED", metadata={"field": path})


def check_evidence_stage(stage: str) -> None:
    if stage not in EVIDENCE_STAGES:
        raise FailedPrecondition(f"evidence is gathered while the cycle acts or assesses (it is {stage})",
                                 reason="STAGE_LOCKED", metadata={"field": "evidence"})


# -- inputs -------------------------------------------------------------------------------------
def measure_key(value: str, field: str = "goal.measure") -> Measure:
    if not value:
        raise InvalidArgument.for_field(field, "is required")
    if value not in MEASURES:
        raise InvalidArgument.for_field(field, f"is not a goal measure (one of {', '.join(MEASURES)})",
                                        reason="UNKNOWN_MEASURE")
    return MEASURES[value]


def target_value(measure: Measure, value: float, field: str = "goal.target_value") -> float:
    if not math.isfinite(value) or not measure.lowest <= value <= measure.highest:
        raise InvalidArgument.for_field(field, f"must lie between {measure.lowest:g} and {measure.highest:g} for "
                                               f"{measure.key}", reason="TARGET_OUT_OF_RANGE")
    return float(value)


def bounded_count(items: Sequence, limit: int, field: str) -> None:
    if len(items) > limit:
        raise InvalidArgument.for_field(field, f"must be at most {limit}", reason="TOO_MANY")


def link(url: str, resource_id: str, note: str) -> None:
    """Evidence is a note, a link (a URL or a resource id), or both; never empty."""
    if url and resource_id:
        raise InvalidArgument.for_field("evidence.url", "give a URL or a resource id, not both",
                                        reason="ONE_LINK_ONLY")
    if url and (len(url) > URL_MAX or not URL.match(url)):
        raise InvalidArgument.for_field("evidence.url", f"must be an http(s) URL of at most {URL_MAX} characters",
                                        reason="INVALID_URL")
    if resource_id and not RESOURCE_ID.match(resource_id):
        raise InvalidArgument.for_field("evidence.resource_id", "is not a resource id", reason="INVALID_FIELD")
    if not (note or url or resource_id):
        raise InvalidArgument.for_field("evidence", "give a note, a URL or a resource id", reason="EMPTY_EVIDENCE")


def answers(given: Sequence[tuple[str, str]]) -> list[dict]:
    """Reflection answers keyed by the cycle's prompts, each prompt answered once."""
    bounded_count(given, len(PROMPT_KEYS), "reflection.answers")
    seen: set[str] = set()
    for n, (key, _text) in enumerate(given):
        if key not in PROMPT_KEYS:
            raise InvalidArgument.for_field(f"reflection.answers[{n}].prompt_key",
                                            f"is not one of the cycle's prompts ({', '.join(PROMPT_KEYS)})",
                                            reason="UNKNOWN_PROMPT")
        if key in seen:
            raise InvalidArgument.for_field(f"reflection.answers[{n}].prompt_key", "answers a prompt twice",
                                            reason="DUPLICATE_ANSWER")
        seen.add(key)
    return [{"prompt_key": key, "text": text} for key, text in given if text]


# -- figures and outcomes -------------------------------------------------------------------------
PUBLISHED, WITHHELD, CODED, NO_DATA = "published", "withheld", "coded", "no_data"
CODED_TEXT = re.compile(r"^([<>])\s*(\d+(?:\.\d+)?)$")


def figure_of(cell, measure: str) -> dict:
    """The goal's figure in a published cell (`copnet.reflection.measures.PublishedCell`, or None
    when the data sets have no such cell), as the cycle keeps it."""
    if cell is None:
        return {"state": NO_DATA}
    if cell.withheld:
        return {"state": WITHHELD}
    students = cell.students_tested
    if not students:
        return {"state": NO_DATA, "students_tested": students or 0}
    if measure == "percent_met_or_exceeded":
        percent = cell.percent_met_or_exceeded
        if percent is None:
            return {"state": NO_DATA, "students_tested": students}
        if percent.value is None:
            return {"state": CODED, "text": percent.text, "students_tested": students}
        return {"state": PUBLISHED, "value": percent.value, "text": percent.text, "students_tested": students}
    value = cell.distance_from_standard if measure == "distance_from_standard" else cell.mean_scale_score
    if value is None:
        return {"state": NO_DATA, "students_tested": students}
    return {"state": PUBLISHED, "value": value, "text": f"{value:g}", "students_tested": students}


def outcome(figure: Mapping, target: float) -> str:
    """Met when the published figure reaches the target; a coded percentage ("<5", ">95") tells only
    when the whole coded range is on one side of the target; withheld or missing: cannot tell."""
    if figure.get("state") == PUBLISHED:
        return MET if figure["value"] >= target else NOT_MET
    if figure.get("state") == CODED:
        matched = CODED_TEXT.match(figure.get("text", ""))
        if matched:
            bound = float(matched[2])
            if matched[1] == ">" and bound >= target:
                return MET
            if matched[1] == "<" and bound <= target:
                return NOT_MET
    return CANNOT_TELL
