"""/api/v1 attendance, participation and professional-learning hours (scheduling)."""

from __future__ import annotations

import enum
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from copnet.gateway.schemas.common import Page, Strict

INT32_MAX = 2**31 - 1


class AttendanceStatus(enum.StrEnum):
    PRESENT = "present"
    LATE = "late"
    ABSENT = "absent"
    EXCUSED = "excused"


class PersonProgramPath(Strict):
    id: str = Field(description="The person.")
    program_id: str


class AttendanceQuery(Page):
    pass


class AttendanceEntry(Strict):
    person_id: str = Field(min_length=1, description="A confirmed member or facilitator of the community.")
    status: AttendanceStatus
    attended_minutes: int | None = Field(None, ge=0, le=INT32_MAX,
                                         description="Required when late; when present it defaults to the whole "
                                                     "occurrence; 0 or absent when absent or excused.")
    note: str = Field("", max_length=2000)


class AttendanceSheet(Strict):
    """Everyone's attendance at one occurrence, checked as a whole: one bad entry refuses them all.
    An entry for someone already recorded replaces their record."""

    entries: list[AttendanceEntry] = Field(min_length=1, description="At most 500 (TOO_MANY_ENTRIES).")


class AttendanceRecord(BaseModel):
    occurrence_id: str
    session_id: str
    community_id: str
    program_id: str | None = Field(description="null for a standing community outside any program.")
    person_id: str
    status: AttendanceStatus
    attended_minutes: int = Field(description="The occurrence's length when present, what was given when late, "
                                              "0 when absent or excused.")
    note: str
    recorded_by: str
    recorded_at: datetime


class AttendanceRecorded(BaseModel):
    items: list[AttendanceRecord] = Field(description="The records written, one per entry.")


class AttendanceList(BaseModel):
    items: list[AttendanceRecord]
    next_page_token: str


class Participation(BaseModel):
    """Over the occurrences that have started; cancelled occurrences and excused absences count
    against nobody."""

    person_id: str | None = Field(description="null in a total over people.")
    community_id: str | None = Field(description="null in a total over communities.")
    expected: int = Field(description="Occurrences the person was expected at (their audience), excused ones left out.")
    attended: int = Field(description="Present or late.")
    late: int
    absent: int
    excused: int
    unrecorded: int = Field(description="Expected occurrences with no record yet.")
    rate: float = Field(description="attended / expected (0 when nothing was expected).")
    attended_minutes: int


class CommunityParticipation(BaseModel):
    community_id: str
    people: list[Participation] = Field(description="One per confirmed member and facilitator.")
    total: Participation = Field(description="Sums over people (rate = attended / expected).")
    occurrences_held: int


class PersonParticipation(BaseModel):
    person_id: str
    communities: list[Participation] = Field(description="One per community the person belongs to or facilitates.")
    total: Participation


class LearningHoursLine(BaseModel):
    occurrence_id: str
    session_id: str
    community_id: str
    community_name: str
    title: str
    session_type: str
    start_time: datetime
    end_time: datetime
    local_start: datetime = Field(description="`start_time` with the offset of `time_zone` (the community's).")
    local_end: datetime
    time_zone: str
    status: AttendanceStatus
    attended_minutes: int


class LearningHours(BaseModel):
    """One person's professional learning in one program (what the certificate shows)."""

    person_id: str
    person_name: str
    program_id: str
    program_name: str
    program_year: str
    issuer_name: str = Field(description="The program's owner (the issuing region or state).")
    total_minutes: int = Field(description="Minutes actually attended.")
    total_hours: float = Field(description="total_minutes / 60, rounded to two decimals.")
    lines: list[LearningHoursLine]
    issued_at: datetime


class Certificate(LearningHours):
    """The certificate: a printable HTML page by default, its data as JSON on `Accept: application/json`."""

    model_config = ConfigDict(openapi_extra={
        "description": "The printable certificate (text/html), or its data (application/json).",
        "content": {"text/html": {"schema": {"type": "string"}}}})
