"""/api/v1 participation and retention figures (small counts withheld)."""

from __future__ import annotations

from pydantic import BaseModel, Field

from copnet.gateway.schemas.common import Strict
from copnet.gateway.schemas.measures import PercentFigure

PROGRAM_YEAR = Field("", max_length=7, pattern=r"^(\d{4}-\d{2})?$",
                     description='"2026-27"; empty: the most recent program year with figures.')


class ParticipationPath(Strict):
    id: str = Field(min_length=1, max_length=128)


class ParticipationQuery(Strict):
    program_year: str = PROGRAM_YEAR
    include_children: bool = Field(False, description="Also the organization's children (schools of a district, "
                                                       "districts of a county office...).")


class CommunityParticipationQuery(Strict):
    program_year: str = PROGRAM_YEAR


class RetentionQuery(Strict):
    program_year: str = Field("", max_length=7, pattern=r"^(\d{4}-\d{2})?$",
                              description='"2025-26"; empty: every program year with participants.')


class ParticipationFigures(BaseModel):
    scope_id: str = Field(description="The organization or community.")
    level: str = Field(description="school, district, county_office, region, state or community.")
    program_year: str
    withheld: bool = Field(description="Too few teachers to show (or would give a small count away): no figures.")
    teachers_reached: int | None = Field(description="Distinct people with a confirmed place in a community of the "
                                                     "year, once each.")
    schools_reached: int | None = Field(description="Schools below with at least one teacher reached.")
    districts_reached: int | None = Field(description="Districts below with at least one teacher reached.")
    attendance_rate: PercentFigure | None = Field(description="Attended (present or late) over recorded meetings "
                                                              "expected at (excused taken out); coded near 0 and 100.")
    learning_hours: float | None = Field(description="Professional-learning hours: minutes attended / 60.")
    attendance_records: int | None = Field(description="Records counted in the attendance rate.")


class ParticipationSummary(BaseModel):
    figures: ParticipationFigures
    children: list[ParticipationFigures]
    program_years: list[str] = Field(description="Program years with figures here, most recent first.")
    min_cell: int = Field(description="Counts below this are withheld.")


class RetentionFigures(BaseModel):
    scope_id: str
    level: str
    program_year: str
    withheld: bool
    participants: int | None
    retained: int | None = Field(description="Still teaching at a school, as described after the next year began.")
    not_retained: int | None = Field(description="Described after the next year began, no longer teaching at a "
                                                 "school.")
    not_yet_known: int | None = Field(description="Not described since the next year began: counted in neither.")
    retention_rate: PercentFigure | None = Field(description="retained / (retained + not_retained).")


class RetentionSummary(BaseModel):
    years: list[RetentionFigures]
    min_cell: int
