"""Inquiry cycles between the HTTP API's models and cycles.proto."""

from __future__ import annotations

from copnet.gateway.convert.common import (
    enum_to_proto,
    or_null,
    rfc3339_or_null,
    timestamp_of,
)
from copnet.gateway.convert.measures import measure_cell
from copnet.gateway.schemas import cycles as schemas
from copnet.kernel.enums import to_label
from copnet.reflection.v1 import cycles_pb2


# -- requests -------------------------------------------------------------------------------------
def goal_request(goal: schemas.CycleGoalInput) -> cycles_pb2.CycleGoal:
    return cycles_pb2.CycleGoal(
        measure=goal.measure.value, filter=cycles_pb2.GoalMeasureFilter(**goal.filter.model_dump()),
        baseline_school_year=goal.baseline_school_year, baseline_window=goal.baseline_window,
        target_value=goal.target_value, target_time=timestamp_of(goal.target_time), statement=goal.statement)


def plan_request(plan: schemas.CyclePlanInput) -> cycles_pb2.CyclePlan:
    return cycles_pb2.CyclePlan(actions=[
        cycles_pb2.CycleAction(id=a.id, text=a.text, owner_person_id=a.owner_person_id,
                               due_time=timestamp_of(a.due_time) if a.due_time else None,
                               session_ids=a.session_ids, done=a.done) for a in plan.actions])


def reflection_request(reflection: schemas.CycleReflectionInput) -> cycles_pb2.CycleReflection:
    return cycles_pb2.CycleReflection(
        answers=[cycles_pb2.ReflectionAnswer(prompt_key=a.prompt_key, text=a.text) for a in reflection.answers],
        next_changes=reflection.next_changes)


def create_request(community_id: str, body: schemas.InquiryCycleCreate) -> cycles_pb2.CreateInquiryCycleRequest:
    return cycles_pb2.CreateInquiryCycleRequest(
        cycle_id=body.id or "", community_id=community_id, team_id=body.team_id or "", title=body.title,
        goal=goal_request(body.goal) if body.goal is not None else None)


def update_request(cycle_id: str, body: schemas.InquiryCycleUpdate) -> cycles_pb2.UpdateInquiryCycleRequest:
    request = cycles_pb2.UpdateInquiryCycleRequest(id=cycle_id)
    for path in ("title", "goal", "plan", "reflection"):
        if path in body.model_fields_set:
            request.update_mask.paths.append(path)
    if body.title is not None:
        request.title = body.title
    if body.goal is not None:
        request.goal.CopyFrom(goal_request(body.goal))
    if body.plan is not None:
        request.plan.CopyFrom(plan_request(body.plan))
    if body.reflection is not None:
        request.reflection.CopyFrom(reflection_request(body.reflection))
    return request


def evidence_request(cycle_id: str, body: schemas.CycleEvidenceInput) -> cycles_pb2.AddCycleEvidenceRequest:
    return cycles_pb2.AddCycleEvidenceRequest(cycle_id=cycle_id, evidence=cycles_pb2.CycleEvidence(
        note=body.note, url=body.url, resource_id=body.resource_id))


def advance_request(cycle_id: str, body: schemas.CycleAdvance) -> cycles_pb2.AdvanceInquiryCycleRequest:
    return cycles_pb2.AdvanceInquiryCycleRequest(
        id=cycle_id, to_stage=enum_to_proto(cycles_pb2.CycleStage, body.to_stage.value),
        abandon_reason=body.abandon_reason, start_next_cycle=body.start_next_cycle)


# -- replies --------------------------------------------------------------------------------------
def figure(message: cycles_pb2.GoalFigure) -> schemas.GoalFigure:
    return schemas.GoalFigure(state=message.state, value=message.value if message.HasField("value") else None,
                              text=message.text,
                              students_tested=message.students_tested if message.HasField("students_tested")
                              else None)


def goal(message: cycles_pb2.CycleGoal) -> schemas.CycleGoal:
    f = message.filter
    return schemas.CycleGoal(
        measure=message.measure,
        filter=schemas.GoalFilter(organization_id=f.organization_id, student_group=f.student_group, grade=f.grade,
                                  test=f.test, school_year=f.school_year, window=f.window),
        baseline_school_year=message.baseline_school_year, baseline_window=message.baseline_window,
        baseline=figure(message.baseline) if message.HasField("baseline") else None,
        baseline_time=rfc3339_or_null(message, "baseline_time"), target_value=message.target_value,
        target_time=rfc3339_or_null(message, "target_time"), statement=message.statement)


def evidence(message: cycles_pb2.CycleEvidence) -> schemas.CycleEvidence:
    return schemas.CycleEvidence(id=message.id, note=message.note, url=message.url, resource_id=message.resource_id,
                                 author_person_id=message.author_person_id,
                                 create_time=rfc3339_or_null(message, "create_time"))


def snapshot(message: cycles_pb2.CycleSnapshot) -> schemas.CycleSnapshot:
    return schemas.CycleSnapshot(
        id=message.id, freeze_time=rfc3339_or_null(message, "freeze_time"), generation=message.generation,
        min_cell=message.min_cell, cells=[measure_cell(c) for c in message.cells],
        assessed=figure(message.assessed) if message.HasField("assessed") else None,
        outcome=to_label(cycles_pb2.GoalOutcome, message.outcome) if message.outcome else None)


def cycle(message: cycles_pb2.InquiryCycle) -> schemas.InquiryCycle:
    return schemas.InquiryCycle(
        id=message.id, community_id=message.community_id, team_id=or_null(message.team_id), title=message.title,
        stage=to_label(cycles_pb2.CycleStage, message.stage), program_year=message.program_year,
        goal=goal(message.goal) if message.HasField("goal") else None,
        actions=[schemas.CycleAction(id=a.id, text=a.text, owner_person_id=a.owner_person_id,
                                     due_time=rfc3339_or_null(a, "due_time"), session_ids=list(a.session_ids),
                                     done=a.done) for a in message.plan.actions],
        evidence=[evidence(e) for e in message.evidence],
        snapshot=snapshot(message.snapshot) if message.HasField("snapshot") else None,
        reflection=schemas.CycleReflection(
            answers=[schemas.ReflectionAnswer(prompt_key=a.prompt_key, text=a.text)
                     for a in message.reflection.answers], next_changes=message.reflection.next_changes),
        reflection_prompts=[schemas.ReflectionPrompt(key=p.key, text=p.text) for p in message.reflection_prompts],
        previous_cycle_id=or_null(message.previous_cycle_id), next_cycle_id=or_null(message.next_cycle_id),
        abandon_reason=message.abandon_reason, created_by=message.created_by,
        create_time=rfc3339_or_null(message, "create_time"), update_time=rfc3339_or_null(message, "update_time"),
        revision=message.revision)


def counts(message: cycles_pb2.CycleCounts) -> schemas.CycleCounts:
    return schemas.CycleCounts(**{name: getattr(message, name) for name in schemas.CycleCounts.model_fields})


def preparation(reply: cycles_pb2.GetSessionDataPreparationResponse) -> schemas.DataPreparation:
    return schemas.DataPreparation(
        session_id=reply.session_id, community_id=reply.community_id, organization_id=reply.organization_id,
        tests=list(reply.tests), school_years=list(reply.school_years), windows=list(reply.windows),
        student_groups=list(reply.student_groups), grades=list(reply.grades),
        preparation_prompts=list(reply.preparation_prompts), cells=[measure_cell(c) for c in reply.cells],
        min_cell=reply.min_cell, generation=reply.generation, truncated=reply.truncated)
