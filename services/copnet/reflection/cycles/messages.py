"""Inquiry cycles between cycles.proto messages and their documents: requests' parts checked and
bounded into the dicts a cycle keeps, and documents back into messages."""

from __future__ import annotations

from collections.abc import Mapping

import bson

from copnet.kernel import timestamps
from copnet.kernel.enums import from_label
from copnet.kernel.errors import InvalidArgument
from copnet.kernel.inputs import instant, optional_line, optional_text, required_instant
from copnet.reflection import reference
import copnet.reflection.cycles.rules as rules
import copnet.reflection.cycles.snapshots as snapshots
from copnet.reflection.cycles.models import CycleSnapshot, InquiryCycle
from copnet.reflection.measures import queries
from copnet.reflection.v1 import cycles_pb2

ID_MAX = 63


def required_id(value: str, field: str) -> str:
    if not value:
        raise InvalidArgument.for_field(field, "is required")
    if len(value) > ID_MAX:
        raise InvalidArgument.for_field(field, f"must be at most {ID_MAX} characters", reason="TOO_LONG")
    return value


# -- requests into documents ----------------------------------------------------------------------
def goal_filter(message: cycles_pb2.GoalMeasureFilter, field: str = "goal.filter") -> dict:
    def required(value: str, name: str, check) -> str:
        if not value:
            raise InvalidArgument.for_field(f"{field}.{name}", "is required")
        return check(value, f"{field}.{name}")

    return {
        "organization_id": queries.organization_id(message.organization_id, f"{field}.organization_id"),
        "student_group": queries.student_group(message.student_group or reference.ALL_STUDENTS,
                                               f"{field}.student_group"),
        "grade": required(message.grade, "grade", queries.grade),
        "test": required(message.test, "test", queries.test),
        "school_year": required(message.school_year, "school_year", queries.school_year),
        "window": required(message.window, "window", queries.window),
    }


def goal(message: cycles_pb2.CycleGoal) -> dict:
    """The goal as asked (the baseline is read later, from the published measures)."""
    measure = rules.measure_key(message.measure)
    if not message.HasField("filter"):
        raise InvalidArgument.for_field("goal.filter", "is required")
    filter_ = goal_filter(message.filter)
    baseline_year = queries.school_year(message.baseline_school_year, "goal.baseline_school_year") \
        if message.baseline_school_year else filter_["school_year"]
    baseline_window = queries.window(message.baseline_window, "goal.baseline_window") \
        if message.baseline_window else filter_["window"]
    return {
        "measure": measure.key, "filter": filter_, "baseline_school_year": baseline_year,
        "baseline_window": baseline_window,
        "target_value": rules.target_value(measure, message.target_value),
        "target_time": required_instant(message, "target_time", "goal.target_time"),
        "statement": optional_text(message.statement, "goal.statement", rules.STATEMENT_MAX),
    }


def plan(message: cycles_pb2.CyclePlan, known: Mapping[str, Mapping]) -> dict:
    """The plan's actions, checked and bounded; `known` are the cycle's current actions by id (an
    action sent with an id keeps it, one without gets a new id)."""
    rules.bounded_count(message.actions, rules.MAX_ACTIONS, "plan.actions")
    actions = []
    for n, action in enumerate(message.actions):
        field = f"plan.actions[{n}]"
        if action.id and action.id not in known:
            raise InvalidArgument.for_field(f"{field}.id", "is not an action of this cycle (leave it empty for a "
                                                           "new action)", reason="UNKNOWN_ACTION")
        text = optional_text(action.text, f"{field}.text", rules.ACTION_TEXT_MAX)
        if not text:
            raise InvalidArgument.for_field(f"{field}.text", "is required")
        rules.bounded_count(action.session_ids, rules.MAX_SESSIONS_PER_ACTION, f"{field}.session_ids")
        sessions = [required_id(s, f"{field}.session_ids[{k}]") for k, s in enumerate(action.session_ids)]
        due = instant(action, "due_time", f"{field}.due_time")
        actions.append({"id": action.id or str(bson.ObjectId()), "text": text,
                        "owner_person_id": required_id(action.owner_person_id, f"{field}.owner_person_id")
                        if action.owner_person_id else "",
                        "due_time": due, "session_ids": list(dict.fromkeys(sessions)), "done": action.done})
    ids = [a["id"] for a in actions]
    if len(set(ids)) != len(ids):
        raise InvalidArgument.for_field("plan.actions", "lists an action twice", reason="DUPLICATE_ACTION")
    return {"actions": actions}


def evidence(message: cycles_pb2.CycleEvidence, author: str, now) -> dict:
    note = optional_text(message.note, "evidence.note", rules.NOTE_MAX)
    url = message.url.strip()
    resource_id = message.resource_id.strip()
    rules.link(url, resource_id, note)
    return {"id": str(bson.ObjectId()), "note": note, "url": url, "resource_id": resource_id,
            "author_person_id": author, "create_time": now}


def reflection(message: cycles_pb2.CycleReflection) -> dict:
    given = [(a.prompt_key, optional_text(a.text, f"reflection.answers[{n}].text", rules.ANSWER_MAX))
             for n, a in enumerate(message.answers[:len(rules.PROMPT_KEYS) + 1])]
    return {"answers": rules.answers(given),
            "next_changes": optional_text(message.next_changes, "reflection.next_changes", rules.NEXT_CHANGES_MAX)}


def title(value: str) -> str:
    return optional_line(value, "title", rules.TITLE_MAX)


# -- documents into messages ----------------------------------------------------------------------
def _stamp(message, field: str, value) -> None:
    if value is not None:
        getattr(message, field).CopyFrom(timestamps.timestamp(value))


def figure(document: Mapping | None) -> cycles_pb2.GoalFigure | None:
    if not document:
        return None
    return cycles_pb2.GoalFigure(state=document.get("state", ""), value=document.get("value"),
                                 text=document.get("text", ""), students_tested=document.get("students_tested"))


def goal_message(document: Mapping) -> cycles_pb2.CycleGoal | None:
    if not document:
        return None
    message = cycles_pb2.CycleGoal(
        measure=document["measure"], filter=cycles_pb2.GoalMeasureFilter(**document["filter"]),
        baseline_school_year=document["baseline_school_year"], baseline_window=document["baseline_window"],
        baseline=figure(document.get("baseline")), target_value=document["target_value"],
        statement=document.get("statement", ""))
    _stamp(message, "baseline_time", document.get("baseline_time"))
    _stamp(message, "target_time", document.get("target_time"))
    return message


def action_message(document: Mapping) -> cycles_pb2.CycleAction:
    message = cycles_pb2.CycleAction(id=document["id"], text=document["text"],
                                     owner_person_id=document.get("owner_person_id", ""),
                                     session_ids=document.get("session_ids", []), done=document.get("done", False))
    _stamp(message, "due_time", document.get("due_time"))
    return message


def evidence_message(document: Mapping) -> cycles_pb2.CycleEvidence:
    message = cycles_pb2.CycleEvidence(id=document["id"], note=document.get("note", ""), url=document.get("url", ""),
                                       resource_id=document.get("resource_id", ""),
                                       author_person_id=document.get("author_person_id", ""))
    _stamp(message, "create_time", document.get("create_time"))
    return message


def snapshot_message(document: CycleSnapshot | None) -> cycles_pb2.CycleSnapshot | None:
    if document is None:
        return None
    message = cycles_pb2.CycleSnapshot(
        id=document.id, generation=document.generation, min_cell=document.min_cell,
        cells=[snapshots.cell_message(c) for c in document.cells], assessed=figure(document.assessed),
        outcome=from_label(cycles_pb2.GoalOutcome, document.outcome))
    _stamp(message, "freeze_time", document.freeze_time)
    return message


PROMPTS = [cycles_pb2.ReflectionPrompt(key=key, text=text) for key, text in rules.REFLECTION_PROMPTS]


def cycle_message(cycle: InquiryCycle, snapshot: CycleSnapshot | None = None) -> cycles_pb2.InquiryCycle:
    reflection_document = cycle.reflection or {}
    message = cycles_pb2.InquiryCycle(
        id=cycle.id, community_id=cycle.community_id, team_id=cycle.team_id, title=cycle.title,
        stage=from_label(cycles_pb2.CycleStage, cycle.stage), program_year=cycle.program_year,
        goal=goal_message(cycle.goal),
        plan=cycles_pb2.CyclePlan(actions=[action_message(a) for a in (cycle.plan or {}).get("actions", [])]),
        evidence=[evidence_message(e) for e in cycle.evidence],
        snapshot=snapshot_message(snapshot),
        reflection=cycles_pb2.CycleReflection(
            answers=[cycles_pb2.ReflectionAnswer(**a) for a in reflection_document.get("answers", [])],
            next_changes=reflection_document.get("next_changes", "")),
        reflection_prompts=PROMPTS, previous_cycle_id=cycle.previous_cycle_id, next_cycle_id=cycle.next_cycle_id,
        abandon_reason=cycle.abandon_reason, created_by=cycle.created_by, revision=cycle.revision)
    _stamp(message, "create_time", cycle.create_time)
    _stamp(message, "update_time", cycle.update_time)
    return message
