"""/api/v1/communities: communities of practice."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from copnet.gateway.schemas.common import (CommunityKind, CommunityStatus, GradeBand, Instant, Page, Position,
                                           Strict)
from copnet.gateway.schemas.registrations import Registration

INT32_MAX = 2**31 - 1


class CommunityQuery(Page):
    host_organization_id: str = Field("", description="Only communities hosted by this organization.")
    program_id: str = Field("", description="Only communities of this program.")
    status: CommunityStatus | None = Field(None, description="Only communities in this status.")
    kind: CommunityKind | None = Field(None, description="Only communities of this kind.")
    region_id: str = Field("", description="Only communities hosted in this region (at or below it).")


class CommunityPath(Strict):
    id: str


# -- parts of a community, as sent and as answered ------------------------------------------------
class SignupWindow(Strict):
    """Sign-ups are taken from `opens_at` until `closes_at` (kick-off); after the soft deadline only
    while seats remain (nobody joins the waiting list any more)."""

    opens_at: Instant = Field(description="When sign-up opens.")
    soft_deadline: Instant | None = Field(
        None, description="Optional: after it, sign-ups continue only while seats remain. "
                          "Must be after `opens_at` and no later than `closes_at`.")
    closes_at: Instant = Field(description="When sign-up closes (kick-off); after `opens_at`.")


class Eligibility(Strict):
    """Who may sign up; an empty list does not restrict. A person is eligible when one affiliation
    matches both lists (an organization admits its whole subtree)."""

    positions: list[Position] = Field(default_factory=list, description="Positions allowed to sign up.")
    organization_ids: list[str] = Field(default_factory=list,
                                        description="Organizations (with their subtrees) whose people may sign up.")


class TeamSlot(Strict):
    """One slot of the composition a school team registering as a unit must have."""

    position: Position = Field(description="Position of the members filling the slot, at the team's school.")
    count: int = Field(ge=1, le=1000, description="How many members fill it.")
    grade_bands: list[GradeBand] = Field(default_factory=list,
                                         description="The members teach one of these (any when empty).")


class Seats(BaseModel):
    capacity: int = Field(description="Seats in the community; 0 until set.")
    confirmed: int = Field(description="Confirmed registrations.")
    waitlisted: int = Field(description="People on the waiting list.")
    available: int = Field(description="Seats still free (capacity - confirmed, never below 0).")


# -- requests -------------------------------------------------------------------------------------
class CommunityCreate(Strict):
    id: str | None = Field(None, description="Caller-chosen id (2-63 of a-z, 0-9, '-'); generated when absent.")
    name: str = Field(min_length=1, max_length=200)
    kind: CommunityKind
    description: str = Field("", max_length=5000)
    host_organization_id: str = Field(min_length=1, description="The hosting organization.")
    program_id: str | None = Field(None, description="The program it belongs to; the host must be the program's "
                                                     "organization or inside it.")
    focus: str = Field("", max_length=500, description="What the community works on.")
    grade_bands: list[GradeBand] = Field(default_factory=list, description="Grade bands it is for.")
    facilitator_ids: list[str] = Field(default_factory=list, description="People (ids) who facilitate it.")
    capacity: int = Field(0, ge=-INT32_MAX, le=INT32_MAX,
                          description="Seats; must be positive, 0 leaves it unset (a draft may not know it yet).")
    signup_window: SignupWindow | None = Field(None, description="Needed before the community can open.")
    eligibility: Eligibility | None = Field(None, description="Who may sign up; anyone when absent.")
    team_composition: list[TeamSlot] = Field(
        default_factory=list, description="Required composition of a school team; a math_team defaults to one "
                                          "specialist, one site_admin and one K-2 or 3-5 teacher.")


class CommunityUpdate(Strict):
    """Only the fields present change; a list present replaces the whole list."""

    name: str | None = Field(None, min_length=1, max_length=200)
    description: str | None = Field(None, max_length=5000)
    focus: str | None = Field(None, max_length=500)
    capacity: int | None = Field(None, ge=-INT32_MAX, le=INT32_MAX,
                                 description="Never below the confirmed registrations; growing it promotes "
                                             "people from the waiting list at once.")
    signup_window: SignupWindow | None = None
    eligibility: Eligibility | None = None
    grade_bands: list[GradeBand] | None = None
    facilitator_ids: list[str] | None = None
    team_composition: list[TeamSlot] | None = None


class CommunityStatusChange(Strict):
    status: CommunityStatus = Field(
        description="draft -> open (needs capacity and a sign-up window), open -> closed, closed -> open, "
                    "open or closed -> active, active -> completed (also by the community's facilitators).")


# -- responses ------------------------------------------------------------------------------------
class CommunitySummary(BaseModel):
    """A community as listed: without the lookups in other services that a single read makes."""

    id: str
    name: str
    kind: CommunityKind
    description: str
    host_organization_id: str
    county_office_id: str | None = Field(description="null when the host sits above county level.")
    region_id: str | None = Field(description="null when the host sits above region level.")
    program_id: str | None = Field(description="null for a standing community outside any program.")
    focus: str
    grade_bands: list[GradeBand]
    facilitator_ids: list[str]
    capacity: int = Field(description="Seats; 0 until set.")
    signup_window: SignupWindow | None = Field(description="null until set.")
    eligibility: Eligibility
    status: CommunityStatus
    team_composition: list[TeamSlot]
    seats: Seats
    created_at: datetime
    updated_at: datetime | None = Field(description="null until first changed.")


class Community(CommunitySummary):
    calendar_id: str | None = Field(description="null until scheduling has made the calendar (or is down).")
    library_id: str | None = Field(description="null until resources has made the library (or is down).")


class CommunityUpdated(CommunitySummary):
    promoted: list[Registration] = Field(description="Waitlisted registrations confirmed because capacity grew.")


class CommunityList(BaseModel):
    items: list[CommunitySummary]
    next_page_token: str
