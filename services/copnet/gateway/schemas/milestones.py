"""/api/v1 program timelines: milestones (scheduling)."""

from __future__ import annotations

import enum
from datetime import datetime

from pydantic import BaseModel, Field

from copnet.gateway.schemas.common import Instant, Strict


class MilestoneKind(enum.StrEnum):
    CALL_OPENS = "call_opens"
    PROPOSALS_DUE = "proposals_due"
    OFFERINGS_FINALIZED = "offerings_finalized"
    SIGNUP_OPENS = "signup_opens"
    SOFT_DEADLINE = "soft_deadline"
    SIGNUP_CLOSES = "signup_closes"
    KICK_OFF = "kick_off"
    ORIENTATION = "orientation"
    IN_PERSON_SESSION = "in_person_session"
    FINAL_PRODUCT_DUE = "final_product_due"
    CUSTOM = "custom"


class ProgramPath(Strict):
    id: str


class MilestonePath(Strict):
    id: str


class MilestoneCreate(Strict):
    kind: MilestoneKind = Field(description="call_opens, proposals_due, signup_opens, soft_deadline and "
                                            "signup_closes are linked: membership applies them to the program's "
                                            "proposal call and sign-up windows (one of each per program).")
    title: str = Field("", max_length=200, description="Defaults to the kind's name; required for `custom`.")
    description: str = Field("", max_length=2000)
    time: Instant = Field(description="The instant (RFC 3339 with an offset).")
    time_zone: str = Field("", description="IANA time zone it is shown in; defaults to the program owner's.")


class MilestoneUpdate(Strict):
    """Only the fields present change."""

    title: str | None = Field(None, max_length=200)
    description: str | None = Field(None, max_length=2000)
    time: Instant | None = None
    time_zone: str | None = None


class Milestone(BaseModel):
    id: str
    program_id: str
    kind: MilestoneKind
    title: str
    description: str
    time: datetime = Field(description="The instant, in UTC.")
    local_time: datetime = Field(description="The same instant with the offset of `time_zone`.")
    time_zone: str
    linked: bool = Field(description="Membership applies it (proposal call, sign-up windows); cannot be deleted.")
    timeline_revision: int = Field(description="The program timeline's revision after this milestone's last change.")
    created_at: datetime
    updated_at: datetime | None = Field(description="null until first changed.")
    updated_by: str | None = Field(description="Who changed it last; null until first changed.")


class MilestoneList(BaseModel):
    items: list[Milestone] = Field(description="In time order.")
    timeline_revision: int = Field(description="The program timeline's current revision (0: no milestone yet).")


class Deleted(BaseModel):
    """What a DELETE answers."""

    id: str
    deleted: bool = True
