"""/api/v1 student-level results (pseudonymous) and the audit log of their reads."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from copnet.gateway.schemas.common import Strict

GRADE_PATTERN = r"^(K|[1-9]|1[0-2])?$"


class StudentResultFilter(Strict):
    test: str = Field("", max_length=40, description='A test key, e.g. "sbac-math".')
    school_year: str = Field("", max_length=7, pattern=r"^(\d{4}-\d{2})?$", description='"2024-25".')
    window: str = Field("", max_length=16, pattern=r"^(fall|winter|spring)?$")
    grade: str = Field("", max_length=2, pattern=GRADE_PATTERN, description='"K", "1" .. "12".')
    school_id: str = Field("", max_length=63)
    page_size: int = Field(0, ge=0, le=500, description="At most 500 rows a page (default 100).")
    page_token: str = Field("", description="`next_page_token` of the previous page; empty for the first.")


class MyStudentResultsQuery(StudentResultFilter):
    pass


class StudentResultsQuery(StudentResultFilter):
    teacher_id: str = Field("", max_length=63, description="Only the rows naming this teacher.")


class OrgStudentResultsQuery(StudentResultsQuery):
    pass


class StudentRowsPath(Strict):
    id: str = Field(min_length=1, max_length=128)


class StudentResult(BaseModel):
    pseudonym: str = Field(description="Keyed hash of the student id: the same student in every window; never a "
                                       "name or the id itself.")
    data_set_id: str
    school_id: str
    district_id: str
    county_office_id: str
    grade: str
    test: str
    school_year: str
    window: str
    test_date: str | None
    scale_score: float
    achievement_level: int | None = Field(description="1..4.")
    distance_from_standard: float | None
    percentile: float | None
    proficiency_band: str | None
    teacher_id: str | None
    english_learner: bool
    disability: bool
    economically_disadvantaged: bool
    foster: bool
    homeless: bool
    race_ethnicity: str | None
    row: int = Field(description="The row's number in its source file.")


class StudentResultList(BaseModel):
    items: list[StudentResult]
    next_page_token: str


class AuditQuery(Strict):
    actor_id: str = Field("", max_length=63, description="Only this person's reads.")
    page_size: int = Field(0, ge=0, le=1000)
    page_token: str = Field("", description="`next_page_token` of the previous page; empty for the first.")


class StudentReadAuditEntry(BaseModel):
    id: str
    actor_id: str
    action: str = Field(description="list_my_student_results or list_student_results.")
    data_set_id: str | None
    organization_id: str | None
    filters: dict[str, str]
    rows: int = Field(description="Rows the read returned.")
    data_set_ids: list[str] = Field(description="The data sets the rows came from.")
    read_at: datetime


class StudentReadAuditList(BaseModel):
    items: list[StudentReadAuditEntry]
    next_page_token: str
