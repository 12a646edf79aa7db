"""Measures (data reflection): suppressed cells, growth, effect sizes, reflection metrics."""

from __future__ import annotations

import enum

from typing import Annotated

from pydantic import AfterValidator, BaseModel, Field

from copnet.gateway.schemas.common import Strict

MAX_VALUES = 30
MAX_EFFECT_SIZE_VALUES = 5


def at_most(limit: int):
    """A list bound checked here but left out of the document: a list over it is refused (422)
    whatever its values, and the gateway's URL limit bounds what a query string can carry."""
    def check(values: list[str]) -> list[str]:
        if len(values) > limit:
            raise ValueError(f"lists at most {limit} values")
        return values
    return AfterValidator(check)


Values = Annotated[list[str], at_most(MAX_VALUES)]
FewValues = Annotated[list[str], at_most(MAX_EFFECT_SIZE_VALUES)]


class ExportFormat(enum.StrEnum):
    JSON = "json"
    CSV = "csv"


class MeasureFilters(Strict):
    organization_id: str = Field(min_length=1, max_length=63,
                                 description="The organization whose cells are asked (required).")
    include_children: bool = Field(False, description="Also the cells of every organization below it "
                                                      "(a district's schools).")
    student_groups: Values = Field(default_factory=list,
                                   description="Only these student groups (repeat the parameter); empty: every one.")
    grades: Values = Field(default_factory=list,
                           description="Only these grades: K, 1 .. 12, or all.")
    tests: Values = Field(default_factory=list, description="Only these tests, e.g. sbac-math.")
    school_years: Values = Field(default_factory=list,
                                 description="Only these school years, e.g. 2024-25.")
    windows: Values = Field(default_factory=list,
                            description="Only these test windows: fall, winter, spring.")


class MeasureQuery(MeasureFilters):
    reference_group: str = Field("", max_length=40, description="What gaps are measured to; empty: all students.")
    include_baselines: bool = Field(False, description="Also the state research file's figures for the "
                                                       "organization, those above it and the state (first page).")
    page_size: int = Field(0, ge=0, le=5000, description="At most this many cells; 0 means the default (500). "
                                                         "A CSV export ignores it and holds every cell.")
    page_token: str = Field("", description="`next_page_token` of the previous page.")
    format: ExportFormat | None = Field(None, description="`csv` for a CSV file (as Accept: text/csv); "
                                                          "withheld cells are `*`.")


class PercentFigure(BaseModel):
    value: float | None = Field(description="The percentage to one decimal; null when top/bottom coded.")
    text: str = Field(description="As shown: \"42.1\", or coded such as \"≤5\" / \"≥95\".")


class MeasureGap(BaseModel):
    reference_group: str
    withheld: bool = Field(description="Either side is withheld: no gap.")
    percent_met_points: float | None = Field(
        description="This group's % met or exceeded minus the reference group's, in percentage points; null when "
                    "withheld or when either percentage is coded.")
    distance_from_standard_points: float | None = Field(
        description="This group's distance from standard minus the reference group's, in scale-score points.")


class MeasureCell(BaseModel):
    organization_id: str
    level: str = Field(description="school, district, county_office or region.")
    student_group: str
    grade: str
    test: str
    school_year: str
    window: str
    withheld: bool = Field(description="Withheld to protect small groups: no figure at all.")
    students_tested: int | None
    mean_scale_score: float | None
    percent_at_level: list[PercentFigure] = Field(description="Levels 1 to 4 (empty when withheld or no levels).")
    percent_met_or_exceeded: PercentFigure | None
    distance_from_standard: float | None = Field(
        description="Mean of (scale score - the grade's Level 3 minimum); null without cut scores.")
    gap: MeasureGap | None = Field(description="To the reference group; null for the reference group itself.")
    cut_scores_version: str | None = Field(description="The cut scores the levels and distance were measured with.")


class BaselineCell(BaseModel):
    entity_code: str
    entity_level: str
    organization_id: str | None
    student_group: str
    grade: str
    test: str
    school_year: str
    suppressed_by_source: bool = Field(description="The state withheld it (\"*\" in its file).")
    students_tested: int | None
    mean_scale_score: float | None
    percent_at_level: list[PercentFigure]
    percent_met_or_exceeded: PercentFigure | None


class MeasureCellList(BaseModel):
    items: list[MeasureCell]
    next_page_token: str
    baselines: list[BaselineCell]
    min_cell: int = Field(description="Cells of fewer students than this are withheld.")
    generation: str = Field(description="Which imported data sets the figures come from.")


class GrowthQuery(Strict):
    organization_id: str = Field(min_length=1, max_length=63, description="The organization (required).")
    include_children: bool = False
    student_groups: Values = Field(default_factory=list)
    grades: Values = Field(default_factory=list, description="The later window's grades.")
    tests: Values = Field(default_factory=list)
    from_school_year: str = Field("", max_length=7, description="e.g. 2024-25; empty: any.")
    from_window: str = Field("", max_length=10)
    to_school_year: str = Field("", max_length=7)
    to_window: str = Field("", max_length=10)
    page_size: int = Field(0, ge=0, le=5000)
    page_token: str = ""


class GrowthCell(BaseModel):
    organization_id: str
    level: str
    student_group: str
    grade: str
    test: str
    from_school_year: str
    from_window: str
    to_school_year: str
    to_window: str
    withheld: bool
    students: int | None = Field(description="Students with a score in both windows.")
    mean_change: float | None = Field(description="Mean change in scale score, later minus earlier.")
    change_standard_deviation: float | None


class GrowthCellList(BaseModel):
    items: list[GrowthCell]
    next_page_token: str
    min_cell: int
    generation: str


class EffectSizeQuery(Strict):
    tests: FewValues = Field(default_factory=list)
    school_years: FewValues = Field(default_factory=list)
    windows: FewValues = Field(default_factory=list)
    student_group: str = Field("", max_length=40, description="Empty: all students.")


class EffectSizePath(Strict):
    id: str = Field(max_length=63)


class EffectSize(BaseModel):
    test: str
    school_year: str
    window: str
    grades: list[str]
    student_group: str
    outcome: str = Field(description="distance_from_standard, or scale_score for a test without cut scores.")
    withheld: bool = Field(description="A side has too few students or fewer than 3 teachers.")
    withheld_reason: str | None
    participant_students: int | None
    participant_teachers: int | None
    participant_mean: float | None
    comparison_students: int | None
    comparison_teachers: int | None
    comparison_mean: float | None
    hedges_g: float | None
    ci_low: float | None = Field(description="95 % confidence interval of g, lower end.")
    ci_high: float | None
    comparison: str = Field(description="Who the comparison students are.")
    cut_scores_version: str | None


class EffectSizeList(BaseModel):
    items: list[EffectSize]
    min_cell: int
    generation: str


class ReflectionMetricQuery(Strict):
    organization_id: str = Field(min_length=1, max_length=63,
                                 description="The organization whose enabled metric plugins are listed.")


class ReflectionMetric(BaseModel):
    key: str
    title: str
    description: str
    plugin: str


class ReflectionMetricList(BaseModel):
    items: list[ReflectionMetric]


class MetricPath(Strict):
    key: str = Field(max_length=64)


class MetricValue(BaseModel):
    organization_id: str
    value: float | None
    label: str
    note: str


class ReflectionMetricResult(BaseModel):
    metric: ReflectionMetric
    values: list[MetricValue]
    cells: int = Field(description="Published cells the metric was fed.")
