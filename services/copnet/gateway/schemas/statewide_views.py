"""/api/v1/statewide views on the hub: reach, participation and PL hours, outcome measures and gaps,
trends, the public catalog, programs and directory, inquiry-cycle counts.

Every figure is one a region published: `withheld` means the region suppressed it (no figure at
all, never a zero); a statewide total is set only when every linked region published the figure,
and otherwise says which regions are missing or withheld. Queries are bounded here as the
statewide service bounds them, so a bad parameter is a 422 naming it before any call.
"""

from __future__ import annotations

import enum
import re
from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from copnet.gateway.schemas.common import (
    CommunityKind,
    GradeBand,
    OrganizationKind,
    Strict,
)
from copnet.gateway.schemas.measures import (
    ExportFormat,
    MeasureGap,
    PercentFigure,
    at_most,
)
from copnet.gateway.schemas.statewide import region_field
from copnet.kernel.inputs import ID_PATTERN

# The statewide service's bounds (statewide/views/requests.py).
MAX_GROUPS = 20
MAX_GRADES = 14
MAX_PAGE_SIZE = 1000
NAME = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"
KIND = r"^[a-z][a-z0-9_]{0,63}$"
CODE = r"^[A-Za-z0-9-]{1,32}$"
YEAR = re.compile(r"^(\d{4})-(\d{2})$")


def _consecutive_years(value: str) -> str:
    found = YEAR.match(value)
    if value and (found is None or (int(found.group(1)) + 1) % 100 != int(found.group(2))):
        raise ValueError("must be a year like 2024-25 (the second year follows the first)")
    return value


Year = Annotated[str, AfterValidator(_consecutive_years)]


def year_field(required: bool, description: str):
    if required:
        return Field(min_length=7, max_length=7, pattern=r"^\d{4}-\d{2}$", description=description)
    return Field("", max_length=7, pattern=r"^(\d{4}-\d{2})?$", description=description)


def id_field(description: str, *, required: bool = False):
    pattern = ID_PATTERN.pattern if required else f"^({ID_PATTERN.pattern.strip('^$')})?$"
    if required:
        return Field(min_length=2, max_length=63, pattern=pattern, description=description)
    return Field("", max_length=63, pattern=pattern, description=description)


def name_field(description: str, *, required: bool = False):
    if required:
        return Field(min_length=1, max_length=64, pattern=NAME, description=description)
    return Field("", max_length=64, pattern=f"^({NAME.strip('^$')})?$", description=description)


def page_size_field():
    return Field(0, ge=0, le=MAX_PAGE_SIZE, description="At most this many; 0 means the default (50).")


PAGE_TOKEN = Field("", description="`next_page_token` of the previous page; empty for the first.")


class Window(enum.StrEnum):
    FALL = "fall"
    WINTER = "winter"
    SPRING = "spring"


class Grade(enum.StrEnum):
    K = "K"
    G1 = "1"
    G2 = "2"
    G3 = "3"
    G4 = "4"
    G5 = "5"
    G6 = "6"
    G7 = "7"
    G8 = "8"
    G9 = "9"
    G10 = "10"
    G11 = "11"
    G12 = "12"
    ALL = "all"


class Level(enum.StrEnum):
    """The levels regions publish figures at (never a school's)."""

    REGION = "region"
    COUNTY_OFFICE = "county_office"
    DISTRICT = "district"


Groups = Annotated[list[Annotated[str, Field(min_length=1, max_length=64, pattern=NAME)]], at_most(MAX_GROUPS)]
Grades = Annotated[list[Grade], at_most(MAX_GRADES)]


class Completeness(BaseModel):
    complete: bool = Field(description="Every linked region published the figure, none withheld: the total is set.")
    missing_regions: list[str] = Field(description="Linked regions that published no figure for it.")
    withheld_regions: list[str] = Field(description="Linked regions whose figure is withheld.")


# -- reach and participation ----------------------------------------------------------------------

class ParticipationQuery(Strict):
    program_year: Year = year_field(True, 'The program year (required), e.g. "2026-27".')
    level: Level | None = Field(None, description="Rows of this level (default region).")
    region: str = region_field()
    page_size: int = page_size_field()
    page_token: str = PAGE_TOKEN


class ReachRow(BaseModel):
    region: str
    organization_id: str
    organization_name: str | None = Field(description="From the region's directory (null until it arrives).")
    level: str
    program_year: str
    withheld: bool = Field(description="The region withheld these figures (too few teachers): every count is null.")
    teachers_reached: int | None
    schools_reached: int | None
    districts_reached: int | None


class ReachTotal(Completeness):
    program_year: str
    teachers_reached: int | None
    schools_reached: int | None
    districts_reached: int | None


class ReachList(BaseModel):
    items: list[ReachRow]
    statewide: ReachTotal | None = Field(description="The sum of every linked region's region-level figures "
                                                     "(first page only).")
    next_page_token: str


class ParticipationRow(BaseModel):
    region: str
    organization_id: str
    organization_name: str | None
    level: str
    program_year: str
    withheld: bool
    attendance_rate: PercentFigure | None = Field(description="As published: a value to one decimal, or only its "
                                                              "coded text (\"<5\", \">95\").")
    learning_hours: float | None
    attendance_records: int | None


class ParticipationTotal(Completeness):
    program_year: str
    learning_hours: float | None
    attendance_records: int | None


class ParticipationList(BaseModel):
    items: list[ParticipationRow]
    statewide: ParticipationTotal | None
    next_page_token: str


# -- measures and gaps ----------------------------------------------------------------------------

class MeasureFigures(BaseModel):
    students_tested: int
    mean_scale_score: float
    percent_at_level: list[PercentFigure] = Field(description="Levels 1 to 4 (empty for a test without levels).")
    percent_met_or_exceeded: PercentFigure | None
    distance_from_standard: float | None = Field(description="Null for a test without cut scores.")


class MeasureFilters(Strict):
    test: str = name_field("The test (required), e.g. sbac-math.", required=True)
    school_year: Year = year_field(True, 'The school year (required), e.g. "2024-25".')
    window: Window = Field(description="The test window (required).")
    level: Level | None = Field(None, description="Rows of this level (default district).")
    region: str = region_field()


class MeasureQuery(MeasureFilters):
    organization_id: str = id_field("Only this organization's rows.")
    student_groups: Groups = Field(default_factory=list, description="Only these groups (repeat the parameter; at "
                                                                     "most 20); \"all\" is all students.")
    grades: Grades = Field(default_factory=list, description="Only these grades (repeat the parameter).")
    page_size: int = page_size_field()
    page_token: str = PAGE_TOKEN
    format: ExportFormat | None = Field(None, description="`csv` for a CSV file of every row (as Accept: text/csv); "
                                                          "withheld figures are `*`.")


class MeasureRow(BaseModel):
    region: str
    organization_id: str
    organization_name: str | None
    level: str
    test: str
    school_year: str
    window: str
    student_group: str
    grade: str
    withheld: bool = Field(description="A small cell, or withheld so a small cell cannot be worked out: no figures.")
    figures: MeasureFigures | None = Field(description="Null when withheld.")
    min_cell: int = Field(description="The threshold the region suppressed with.")
    cut_scores_version: str | None
    version: int = Field(description="The record's version at its region (a correction has a higher one).")


class MeasureTotal(Completeness):
    student_group: str
    grade: str
    students_tested: int | None
    mean_scale_score: float | None = Field(description="Weighted by students tested.")
    percent_met_or_exceeded: PercentFigure | None = Field(description="Weighted by students tested; null when a "
                                                                      "region coded it.")


# What an export answers besides JSON (`format=csv` or Accept: text/csv).
CSV_CONTENT = ConfigDict(openapi_extra={"content": {"text/csv": {"schema": {
    "type": "string", "description": "One row per cell; a withheld figure is `*`."}}}})


class MeasureList(BaseModel):
    model_config = CSV_CONTENT

    items: list[MeasureRow]
    statewide: list[MeasureTotal] = Field(description="Totals over every linked region's region-level cell (first "
                                                      "page, when student_groups and grades are both given).")
    next_page_token: str


class GapQuery(MeasureFilters):
    focal_group: str = name_field("The group compared (required), e.g. english_learner.", required=True)
    reference_group: str = name_field("What it is compared to (default all).")
    grade: Grade | None = Field(None, description="The grade (default all).")
    page_size: int = page_size_field()
    page_token: str = PAGE_TOKEN
    format: ExportFormat | None = Field(None, description="`csv` for a CSV file of every row; withheld figures `*`.")


class GapRow(BaseModel):
    region: str
    organization_id: str
    organization_name: str | None
    level: str
    grade: str
    focal_group: str
    focal_withheld: bool
    focal: MeasureFigures | None
    reference_published: bool = Field(description="False when the region published no reference cell.")
    reference_withheld: bool
    reference: MeasureFigures | None
    gap: MeasureGap | None = Field(description="Focal minus reference; withheld when either side is.")


class GapList(BaseModel):
    model_config = CSV_CONTENT

    items: list[GapRow]
    next_page_token: str


# -- trends ---------------------------------------------------------------------------------------

class MeasureTrendQuery(Strict):
    region: str = Field(min_length=2, max_length=32, pattern=r"^[a-z][a-z0-9-]{1,31}$",
                        description="The organization's region (required).")
    organization_id: str = id_field("The organization (required).", required=True)
    test: str = name_field("The test (required).", required=True)
    student_group: str = name_field("The group (default all).")
    grade: Grade | None = Field(None, description="The grade (default all).")
    window: Window | None = Field(None, description="Only this window (default every window).")
    reference_group: str = name_field("With the gap to this group at every point (default none).")


class MeasureTrendPoint(BaseModel):
    school_year: str
    window: str
    withheld: bool
    figures: MeasureFigures | None
    version: int
    gap: MeasureGap | None


class MeasureTrend(BaseModel):
    region: str
    organization_id: str
    organization_name: str | None
    points: list[MeasureTrendPoint] = Field(description="Oldest school year first; windows fall, winter, spring.")


class ParticipationTrendQuery(Strict):
    region: str = Field(min_length=2, max_length=32, pattern=r"^[a-z][a-z0-9-]{1,31}$",
                        description="The organization's region (required).")
    organization_id: str = id_field("The organization (required).", required=True)


class ParticipationTrendPoint(BaseModel):
    program_year: str
    reach: ReachRow | None
    participation: ParticipationRow | None


class ParticipationTrend(BaseModel):
    region: str
    organization_id: str
    organization_name: str | None
    points: list[ParticipationTrendPoint] = Field(description="Oldest program year first.")


# -- catalog, programs and directory (public) -----------------------------------------------------

class CatalogQuery(Strict):
    region: str = region_field()
    grade_band: GradeBand | None = None
    kind: CommunityKind | None = None
    county_office_id: str = id_field("Only communities of this county office.")
    open_now: bool = Field(False, description="Only open ones whose sign-up window (if any) includes now.")
    seats_available: bool = Field(False, description="Only those with a seat left.")
    page_size: int = page_size_field()
    page_token: str = PAGE_TOKEN


class CatalogEntry(BaseModel):
    region: str = Field(description="The owning region: joining happens on its instance.")
    id: str
    name: str
    kind: str
    description: str
    focus: str
    grade_bands: list[str]
    host_organization_id: str
    host_organization_name: str | None
    county_office_id: str | None
    program_id: str | None
    program_name: str | None
    status: str
    capacity: int
    seats_available: int
    waitlist_open: bool
    signup_opens_at: datetime | None
    signup_closes_at: datetime | None
    eligible_organization_ids: list[str] = Field(description="Organizations whose people may sign up (empty: anyone "
                                                             "the owning region admits).")
    join_url: str | None = Field(description="Where to join, on the owning region's instance (null when the region "
                                             "set no public URL).")


class CatalogList(BaseModel):
    items: list[CatalogEntry]
    next_page_token: str


class ProgramQuery(Strict):
    region: str = region_field()
    program_year: Year = year_field(False, 'Only this program year, e.g. "2026-27".')
    page_size: int = page_size_field()
    page_token: str = PAGE_TOKEN


class CatalogProgram(BaseModel):
    region: str
    id: str
    name: str
    owner_organization_id: str
    program_year: str
    description: str


class CatalogProgramList(BaseModel):
    items: list[CatalogProgram]
    next_page_token: str


class OrganizationQuery(Strict):
    region: str = region_field()
    kind: OrganizationKind | None = None
    parent_id: str = id_field("Only the children of this organization (of its region).")
    code: str = Field("", max_length=32, pattern=f"^({CODE.strip('^$')})?$", description="Only this code.")
    page_size: int = page_size_field()
    page_token: str = PAGE_TOKEN


class DirectoryOrganization(BaseModel):
    region: str
    id: str
    name: str
    kind: str
    parent_id: str | None
    code: str | None
    time_zone: str | None


class DirectoryOrganizationList(BaseModel):
    items: list[DirectoryOrganization]
    next_page_token: str


# -- inquiry cycles -------------------------------------------------------------------------------

class CycleCountQuery(Strict):
    region: str = region_field()
    organization_id: str = id_field("Only this organization's.")
    program_year: Year = year_field(False, 'Only this program year, e.g. "2026-27".')
    level: str = Field("", max_length=64, pattern=f"^({KIND.strip('^$')})?$",
                       description="Only this level (district, county_office, region, ...).")
    page_size: int = page_size_field()
    page_token: str = PAGE_TOKEN


class CycleCountRow(BaseModel):
    region: str
    organization_id: str
    organization_name: str | None
    level: str
    program_year: str
    cycles_open: int
    cycles_closed: int
    communities_with_cycles: int


class CycleCountList(BaseModel):
    items: list[CycleCountRow]
    next_page_token: str
