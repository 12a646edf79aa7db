"""/api/v1 survey instruments, administrations, anonymous responses and suppressed reports."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, Field

from copnet.gateway.schemas.common import Instant, Page, Strict


class SurveyPhase(enum.StrEnum):
    PRE = "pre"
    POST = "post"


class SurveyBreakdown(enum.StrEnum):
    COMMUNITY = "community"
    COUNTY = "county"
    REGION = "region"


# -- instruments ---------------------------------------------------------------------------------
class SurveySubscale(Strict):
    code: str = Field(min_length=1, max_length=40, description="e.g. `pmte`: lower-case letters, digits, `_`, `-`.")
    name: str = Field(min_length=1, max_length=200)
    description: str = Field("", max_length=2000)


class SurveyItem(Strict):
    id: str = Field("", max_length=40, description="Unique in the instrument; empty: `q<n>` by position.")
    text: str = Field(min_length=1, max_length=500)
    subscale: str = Field("", max_length=40, description="The code of the subscale it counts toward, if any.")
    reverse_scored: bool = Field(False, description="Worded against the construct: scored as points + 1 - answer.")


class SurveyInstrumentCreate(Strict):
    id: str | None = Field(None, description="Caller-chosen id (2-63 of a-z, 0-9, '-'); generated when absent. "
                                             "An id of the same region's instrument defines its next version.")
    owner_organization_id: str = Field(min_length=1, max_length=63, description="A region or the state.")
    name: str = Field(min_length=1, max_length=200)
    description: str = Field("", max_length=2000)
    source: str = Field("", max_length=500, description="Where the instrument comes from (a citation).")
    scale_points: int = Field(ge=2, le=7, description="Points of the Likert scale.")
    scale_labels: list[str] = Field(default_factory=list, max_length=7,
                                    description="One label per point, lowest first; empty: `1`..`n`.")
    subscales: list[SurveySubscale] = Field(default_factory=list, max_length=10)
    items: list[SurveyItem] = Field(min_length=1, max_length=60)


class SurveyInstrument(BaseModel):
    id: str
    version: int
    name: str
    description: str
    source: str
    owner_organization_id: str | None = Field(description="null for a built-in instrument.")
    builtin: bool
    scale_points: int
    scale_labels: list[str]
    subscales: list[SurveySubscale]
    items: list[SurveyItem]
    administered: bool = Field(description="An administration uses this version (versions never change).")
    created_at: datetime


class SurveyInstrumentList(BaseModel):
    items: list[SurveyInstrument]
    next_page_token: str


class SurveyInstrumentQuery(Page):
    owner_organization_id: str = Field("", max_length=63, description="Only this region's instruments.")


class SurveyInstrumentVersionQuery(Strict):
    version: int = Field(0, ge=0, le=1_000_000, description="0: the latest version.")


class SurveyInstrumentPath(Strict):
    id: str


# -- administrations -----------------------------------------------------------------------------
class SurveyAdministrationCreate(Strict):
    id: str | None = Field(None, description="Caller-chosen id (2-63 of a-z, 0-9, '-'); generated when absent.")
    phase: SurveyPhase
    instrument_id: str = Field(min_length=1, max_length=63)
    instrument_version: int = Field(0, ge=0, le=1_000_000, description="0: the latest version.")
    opens_at: Instant = Field(description="Answers are taken from this instant...")
    closes_at: Instant = Field(description="...until this one.")


class SurveyAdministration(BaseModel):
    id: str
    program_id: str
    program_year: str
    owner_organization_id: str
    phase: SurveyPhase
    instrument_id: str
    instrument_version: int
    opens_at: datetime
    closes_at: datetime
    created_at: datetime


class SurveyAdministrationList(BaseModel):
    items: list[SurveyAdministration]
    next_page_token: str


class SurveyAdministrationQuery(Page):
    phase: SurveyPhase | None = None


class SurveyAdministrationPath(Strict):
    id: str


class ProgramSurveysPath(Strict):
    id: str


# -- responses -----------------------------------------------------------------------------------
class SurveyAnswers(Strict):
    answers: list[Annotated[int, Field(ge=1, le=7)]] = Field(min_length=1, max_length=60,
                               description="One answer per item, in the instrument's item order, each a point "
                                           "of its scale (1 = the first label).")


class SurveyResponseCounted(BaseModel):
    administration_id: str
    counted: bool = Field(description="The answers were counted. Nothing of them is ever returned, to anyone.")


class MySurveyStatus(BaseModel):
    administration_id: str
    responded: bool = Field(description="Whether you have responded: the only thing anyone learns about a "
                                        "person and a survey.")
    may_respond: bool = Field(description="You are a participant, have not responded and the survey is open.")


# -- reports -------------------------------------------------------------------------------------
class ReportQuery(Strict):
    breakdown: SurveyBreakdown | None = Field(None, description="Groups to show beside the whole.")


class ComparisonQuery(ReportQuery):
    instrument_id: str = Field("", max_length=63, description="Needed only when the program has pre and post "
                                                              "administrations of several instruments.")


class AnswerCount(BaseModel):
    point: int
    respondents: int | None = Field(description="null: withheld (fewer than min_cell, or it would reveal one).")


class SubscaleResult(BaseModel):
    subscale: str
    mean: float | None = Field(description="Mean of respondents' subscale scores; null: withheld.")
    standard_deviation: float | None


class ItemResult(BaseModel):
    item_id: str
    subscale: str
    reverse_scored: bool
    mean: float | None = Field(description="Mean score (reverse-scored items turned around); null: withheld.")
    standard_deviation: float | None
    distribution: list[AnswerCount] = Field(description="Answers as given, per point (the whole only).")


class GroupResult(BaseModel):
    group_id: str = Field(description="The community, county office or region.")
    respondents: int | None = Field(description="null: withheld.")
    subscales: list[SubscaleResult]
    items: list[ItemResult]


class SurveyReport(BaseModel):
    administration: SurveyAdministration
    min_cell: int = Field(description="Figures over fewer respondents than this are withheld (null).")
    respondents: int | None = Field(description="null: withheld.")
    restricted: bool = Field(description="Only your county office's groups are shown (a county admin).")
    collecting: bool = Field(description="The survey still takes answers: only respondent counts are shown until "
                                         "it closes.")
    subscales: list[SubscaleResult]
    items: list[ItemResult]
    breakdown: SurveyBreakdown | None
    groups: list[GroupResult]


class Change(BaseModel):
    key: str = Field(description="A subscale code or an item id.")
    pre_mean: float | None
    post_mean: float | None
    difference: float | None = Field(description="post_mean - pre_mean; null unless both are shown.")
    effect_size: float | None = Field(description="Hedges' g (independent samples); null when withheld or "
                                                  "undefined.")


class GroupComparison(BaseModel):
    group_id: str
    pre_respondents: int | None
    post_respondents: int | None
    subscales: list[Change]


class SurveyComparison(BaseModel):
    program_id: str
    instrument_id: str
    instrument_version: int
    pre_administration_id: str
    post_administration_id: str
    min_cell: int
    pre_respondents: int | None
    post_respondents: int | None
    restricted: bool
    pre_collecting: bool = Field(description="The pre survey still takes answers (its means are not shown yet).")
    post_collecting: bool = Field(description="The post survey still takes answers (its means are not shown yet).")
    subscales: list[Change]
    items: list[Change]
    breakdown: SurveyBreakdown | None
    groups: list[GroupComparison]
