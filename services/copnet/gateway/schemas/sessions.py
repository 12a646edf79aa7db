"""/api/v1 sessions (convenings) and their occurrences (scheduling)."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field, ValidationInfo, field_validator

from copnet.gateway.schemas.common import Instant, Page, Strict

INT32_MAX = 2**31 - 1


class Modality(enum.StrEnum):
    VIRTUAL = "virtual"
    IN_PERSON = "in_person"
    HYBRID = "hybrid"


class Audience(enum.StrEnum):
    ALL_MEMBERS = "all_members"
    LEADERS_ONLY = "leaders_only"
    TEAM = "team"


class SessionStatus(enum.StrEnum):
    SCHEDULED = "scheduled"
    CANCELLED = "cancelled"


class OccurrenceStatus(enum.StrEnum):
    SCHEDULED = "scheduled"
    MOVED = "moved"
    CANCELLED = "cancelled"


class ConflictKind(enum.StrEnum):
    FACILITATOR_OVERLAP = "facilitator_overlap"
    PARTICIPANT_OVERLAP = "participant_overlap"


# -- paths and queries ----------------------------------------------------------------------------
class SessionQuery(Page):
    include_cancelled: bool = Field(False, description="Also cancelled sessions.")


class OccurrenceQuery(Page):
    start: Instant | None = Field(None, description="Only occurrences ending after this instant.")
    end: Instant | None = Field(None, description="Only occurrences starting before this instant.")
    include_cancelled: bool = Field(False, description="Also cancelled occurrences.")

    @field_validator("end")
    @classmethod
    def end_after_start(cls, end: datetime | None, info: ValidationInfo) -> datetime | None:
        start = info.data.get("start")
        if end is not None and start is not None and end <= start:
            raise ValueError("must be after start")
        return end


# -- parts ----------------------------------------------------------------------------------------
class Venue(Strict):
    name: str = Field("", max_length=200, description="The room or building.")
    address: str = Field("", max_length=500)


# -- requests -------------------------------------------------------------------------------------
class SessionCreate(Strict):
    id: str | None = Field(None, description="Caller-chosen id (2-63 of a-z, 0-9, '-'); generated when absent.")
    session_type: str = Field(min_length=1, description="A key of GET /api/v1/session-types?community_id=.")
    title: str = Field("", max_length=200, description="Defaults to the session type's title.")
    agenda: str = Field("", max_length=20000)
    facilitator_ids: list[str] = Field(default_factory=list,
                                       description="Who facilitates; defaults to the community's facilitators.")
    start_time: Instant = Field(description="The (first) occurrence's start.")
    end_time: Instant | None = Field(None, description="Defaults to start + the type's default duration.")
    recurrence: str = Field("", description='An RFC 5545 RRULE value, e.g. "FREQ=MONTHLY;BYDAY=2TU", computed in the '
                                            "community's time zone; a rule without COUNT or UNTIL ends with the "
                                            "program year. Empty: a single session.")
    modality: Modality = Modality.VIRTUAL
    venue: Venue | None = Field(None, description="The room (in person and hybrid sessions).")
    meeting_url: str = Field("", description="The link to join (virtual and hybrid sessions).")
    audience: Audience = Audience.ALL_MEMBERS
    team_id: str = Field("", validate_default=True, description="The team, for audience `team`.")
    capacity: int = Field(0, ge=0, le=INT32_MAX, description="Seats in the room (0: not limited).")
    fields: dict[str, Any] = Field(default_factory=dict,
                                   description="The session type's extra fields, valid against its `fields` schema.")

    @field_validator("team_id")
    @classmethod
    def team_for_team_audience(cls, team_id: str, info: ValidationInfo) -> str:
        # Said here so the error names `team_id` (a service's `team_id` error on a body without it
        # would be read as the path's `id`, see convert.common.json_field).
        if info.data.get("audience") is Audience.TEAM and not team_id:
            raise ValueError("is required when audience is team")
        return team_id


class SessionUpdate(Strict):
    """Only the fields present change; a list present replaces the whole list. `null` clears `venue`
    (with modality virtual), `meeting_url`, `team_id` and `recurrence`. A new time or recurrence
    re-computes the series, keeping each moved or cancelled occurrence whose original time is still in it."""

    title: str | None = Field(None, max_length=200)
    agenda: str | None = Field(None, max_length=20000)
    facilitator_ids: list[str] | None = None
    start_time: Instant | None = None
    end_time: Instant | None = None
    recurrence: str | None = None
    modality: Modality | None = None
    venue: Venue | None = None
    meeting_url: str | None = None
    audience: Audience | None = None
    team_id: str | None = None
    capacity: int | None = Field(None, ge=0, le=INT32_MAX)
    fields: dict[str, Any] | None = Field(None, description="Replaces the whole object.")


class Cancel(Strict):
    reason: str = Field("", max_length=2000, description="Shown to participants (and in calendars).")


class OccurrenceMove(Strict):
    start_time: Instant
    end_time: Instant | None = Field(None, description="Defaults to the new start + the occurrence's length.")
    venue: Venue | None = Field(None, description="A different room for this occurrence only.")


# -- responses ------------------------------------------------------------------------------------
class ConflictWarning(BaseModel):
    """A soft conflict: the write went ahead, but someone is expected in two places at once."""

    kind: ConflictKind
    person_id: str
    occurrence_id: str = Field(description="The occurrence of this write.")
    other_occurrence_id: str = Field(description="The occurrence it overlaps.")
    other_session_id: str
    other_community_id: str
    other_start_time: datetime
    other_end_time: datetime
    message: str


class Session(BaseModel):
    id: str
    community_id: str
    program_id: str | None = Field(description="null for a standing community outside any program.")
    session_type: str
    title: str
    agenda: str
    facilitator_ids: list[str]
    start_time: datetime = Field(description="The first occurrence's start, in UTC.")
    end_time: datetime
    local_start: datetime = Field(description="`start_time` with the offset of `time_zone` (the community's).")
    local_end: datetime
    time_zone: str = Field(description="The community's IANA time zone: the recurrence is computed in it.")
    recurrence: str | None = Field(description="The RRULE; null for a single session.")
    modality: Modality
    venue: Venue | None
    meeting_url: str | None
    audience: Audience
    team_id: str | None
    capacity: int = Field(description="Seats in the room (0: not limited).")
    fields: dict[str, Any] = Field(description="The session type's extra fields.")
    status: SessionStatus
    sequence: int = Field(description="Grows with every change calendar clients must apply (iCalendar SEQUENCE).")
    occurrence_count: int
    cancel_reason: str | None
    created_by: str
    created_at: datetime
    updated_at: datetime | None = Field(description="null until first changed.")


class SessionWritten(Session):
    warnings: list[ConflictWarning] = Field(description="Facilitators or participants now expected in two "
                                                        "overlapping sessions (the write went ahead).")


class SessionList(BaseModel):
    items: list[Session]
    next_page_token: str


class Occurrence(BaseModel):
    id: str = Field(description='"<session id>:<original start, 20261013T230000Z>": stable whatever happens to it.')
    session_id: str
    community_id: str
    original_start_time: datetime = Field(description="Where the series put it (the iCalendar RECURRENCE-ID).")
    start_time: datetime
    end_time: datetime
    local_start: datetime = Field(description="`start_time` with the offset of `time_zone` (the community's).")
    local_end: datetime
    time_zone: str
    status: OccurrenceStatus
    title: str
    session_type: str
    modality: Modality
    venue: Venue | None
    meeting_url: str | None
    facilitator_ids: list[str]
    audience: Audience
    team_id: str | None
    cancel_reason: str | None
    sequence: int


class OccurrenceWritten(Occurrence):
    warnings: list[ConflictWarning] = Field(description="People now expected in two overlapping sessions.")


class OccurrenceList(BaseModel):
    items: list[Occurrence]
    next_page_token: str
