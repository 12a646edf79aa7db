"""/api/v1 inquiry cycles: a community's or a team's cycles (set goals -> plan -> act -> assess ->
reflect & adjust), their frozen snapshots, counts of cycles, and a data-reflection session's
preparation. Field names are the service's (errors name them alike)."""

from __future__ import annotations

import enum
from datetime import UTC, datetime
from typing import Annotated

from pydantic import AfterValidator, BaseModel, Field

from copnet.gateway.schemas.common import Instant, Page, Strict
from copnet.gateway.schemas.measures import MeasureCell
from copnet.kernel.inputs import EARLIEST, LATEST


def in_kernel_range(moment: datetime) -> datetime:
    """Refused at the door when outside [1900, 2200) UTC, before any conversion: an offset on the
    year 1 or 9999 would overflow."""
    try:
        utc = moment.astimezone(UTC)
    except OverflowError:
        utc = None
    if utc is None or not EARLIEST <= utc < LATEST:
        raise ValueError(f"must lie between {EARLIEST:%Y-%m-%d} and {LATEST:%Y-%m-%d} UTC")
    return moment


BoundedInstant = Annotated[Instant, AfterValidator(in_kernel_range)]


class CycleStage(enum.StrEnum):
    SET_GOALS = "set_goals"
    PLAN = "plan"
    ACT = "act"
    ASSESS = "assess"
    REFLECT = "reflect"
    CLOSED = "closed"
    ABANDONED = "abandoned"


class GoalOutcome(enum.StrEnum):
    MET = "met"
    NOT_MET = "not_met"
    CANNOT_TELL = "cannot_tell"


class GoalMeasure(enum.StrEnum):
    PERCENT_MET_OR_EXCEEDED = "percent_met_or_exceeded"
    DISTANCE_FROM_STANDARD = "distance_from_standard"
    MEAN_SCALE_SCORE = "mean_scale_score"


class GoalFilter(Strict):
    organization_id: str = Field(min_length=1, max_length=63,
                                 description="The community's host organization or one below it (a school).")
    student_group: str = Field("all", max_length=40, description="The student group the goal is about.")
    grade: str = Field(min_length=1, max_length=3, description="K, 1 .. 12, or all.")
    test: str = Field(min_length=1, max_length=63, description="e.g. sbac-math.")
    school_year: str = Field(min_length=1, max_length=7, description="When the target is measured, e.g. 2025-26.")
    window: str = Field(min_length=1, max_length=10, description="fall, winter or spring.")


class GoalFigure(BaseModel):
    state: str = Field(description="published, withheld (small cell), coded (only `text`, e.g. <5) or no_data.")
    value: float | None = None
    text: str = ""
    students_tested: int | None = None


class CycleGoalInput(Strict):
    measure: GoalMeasure
    filter: GoalFilter
    baseline_school_year: str = Field("", max_length=7, description="Where the baseline is read; empty: the "
                                                                    "filter's school year.")
    baseline_window: str = Field("", max_length=10, description="Empty: the filter's window.")
    target_value: float = Field(description="Reached when the assessed figure is at least this (0-100 for a "
                                            "percentage).")
    target_time: BoundedInstant
    statement: str = Field("", max_length=1000, description="The goal in the team's words.")


class CycleGoal(BaseModel):
    measure: str
    filter: GoalFilter
    baseline_school_year: str
    baseline_window: str
    baseline: GoalFigure | None = Field(description="Read from the published measures when the goal was set.")
    baseline_time: datetime | None
    target_value: float
    target_time: datetime | None
    statement: str


class CycleActionInput(Strict):
    id: str = Field("", max_length=63, description="An existing action's id to keep it; empty for a new one.")
    text: str = Field(min_length=1, max_length=1000)
    owner_person_id: str = Field("", max_length=63, description="A member or facilitator of the community.")
    due_time: BoundedInstant | None = None
    session_ids: list[str] = Field(default_factory=list, max_length=10, description="Sessions of the community.")
    done: bool = False


class CycleAction(BaseModel):
    id: str
    text: str
    owner_person_id: str
    due_time: datetime | None
    session_ids: list[str]
    done: bool


class CyclePlanInput(Strict):
    actions: list[CycleActionInput] = Field(default_factory=list, max_length=30)


class CycleEvidenceInput(Strict):
    note: str = Field("", max_length=4000)
    url: str = Field("", max_length=2000, description="An http(s) link.")
    resource_id: str = Field("", max_length=63, description="A resource of the community's library (or a URL).")


class CycleEvidence(BaseModel):
    id: str
    note: str
    url: str
    resource_id: str
    author_person_id: str
    create_time: datetime | None


class ReflectionAnswer(Strict):
    prompt_key: str = Field(min_length=1, max_length=40)
    text: str = Field("", max_length=4000)


class ReflectionPrompt(BaseModel):
    key: str
    text: str


class CycleReflectionInput(Strict):
    answers: list[ReflectionAnswer] = Field(default_factory=list, max_length=5)
    next_changes: str = Field("", max_length=4000, description="What changes in the next cycle.")


class CycleReflection(BaseModel):
    answers: list[ReflectionAnswer]
    next_changes: str


class CycleSnapshot(BaseModel):
    id: str
    freeze_time: datetime | None
    generation: str
    min_cell: int
    cells: list[MeasureCell] = Field(description="The goal's cell and all students' beside it, as published then.")
    assessed: GoalFigure | None
    outcome: GoalOutcome | None


class InquiryCycle(BaseModel):
    id: str
    community_id: str
    team_id: str | None
    title: str
    stage: CycleStage
    program_year: str
    goal: CycleGoal | None
    actions: list[CycleAction]
    evidence: list[CycleEvidence]
    snapshot: CycleSnapshot | None
    reflection: CycleReflection
    reflection_prompts: list[ReflectionPrompt]
    previous_cycle_id: str | None
    next_cycle_id: str | None
    abandon_reason: str
    created_by: str
    create_time: datetime | None
    update_time: datetime | None
    revision: int


class InquiryCycleList(BaseModel):
    items: list[InquiryCycle]
    next_page_token: str


class InquiryCycleQuery(Page):
    team_id: str = Field("", max_length=63, description="The cycles of this team of the community (the "
                                                        "community's own cycles otherwise).")


class InquiryCycleCreate(Strict):
    id: str | None = Field(None, max_length=63, description="Caller-chosen id; generated when absent.")
    team_id: str | None = Field(None, max_length=63, description="A team's cycle (its members work on it).")
    title: str = Field("", max_length=200)
    goal: CycleGoalInput | None = None


class InquiryCycleUpdate(Strict):
    """Only the parts sent change: title, goal (set_goals, plan), plan (up to act), reflection
    (assess, reflect). A plan sent replaces the whole list of actions."""

    title: str | None = Field(None, max_length=200)
    goal: CycleGoalInput | None = None
    plan: CyclePlanInput | None = None
    reflection: CycleReflectionInput | None = None


class CycleAdvance(Strict):
    to_stage: CycleStage = Field(description="The next stage, or abandoned.")
    abandon_reason: str = Field("", max_length=1000)
    start_next_cycle: bool = Field(False, description="Closing: start the next cycle, the goal carried forward.")


class CycleAdvanced(BaseModel):
    cycle: InquiryCycle
    next_cycle: InquiryCycle | None


class EvidenceAdded(BaseModel):
    evidence: CycleEvidence
    cycle: InquiryCycle


class CycleCountsQuery(Strict):
    program_year: str = Field("", max_length=7, description="e.g. 2025-26; empty: every year.")


class CycleCounts(BaseModel):
    """Counts of cycles (not of students: nothing here is suppressed)."""

    organization_id: str
    program_year: str
    cycles: int
    set_goals: int
    plan: int
    act: int
    assess: int
    reflect: int
    closed: int
    abandoned: int
    goals_met: int
    goals_not_met: int
    goals_cannot_tell: int


class DataPreparation(BaseModel):
    session_id: str
    community_id: str
    organization_id: str
    tests: list[str]
    school_years: list[str]
    windows: list[str]
    student_groups: list[str]
    grades: list[str]
    preparation_prompts: list[str]
    cells: list[MeasureCell] = Field(description="The community's published measures: suppressed, never students.")
    min_cell: int
    generation: str
    truncated: bool = Field(description="More cells matched than are shown: narrow the session's filter.")
