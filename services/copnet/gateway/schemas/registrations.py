"""/api/v1 registrations: request and response shapes."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from copnet.gateway.schemas.common import Page, RegistrationStatus, Strict, TeamRole
from copnet.gateway.schemas.teams import Team


class CommunityPath(Strict):
    id: str


class PersonPath(Strict):
    id: str


class RegistrationPath(Strict):
    id: str


class RegistrationCreate(Strict):
    person_id: str | None = Field(None, description="Who signs up; absent means the caller. Registering someone "
                                                    "else needs a community manager.")
    acknowledge_commitment: bool = Field(False, description="The person acknowledges they will attend every "
                                                            "meeting (only the person themself can).")


class RegistrationQuery(Page):
    status: RegistrationStatus | None = Field(None, description="Only registrations in this status.")


class Registration(BaseModel):
    id: str
    community_id: str
    person_id: str
    status: RegistrationStatus
    waitlist_position: int | None = Field(description="1-based place on the waiting list now (a team shares one "
                                                      "place); null unless waitlisted.")
    team_id: str | None = Field(description="The team the person registered with or belongs to; null if none.")
    registered_by: str = Field(description="Who made the registration: the person, their site administrator or a "
                                           "manager.")
    sequence: int = Field(description="Arrival order in the community: the n-th registration accepted.")
    created_at: datetime
    promoted_at: datetime | None = Field(description="When it moved up from the waiting list.")
    cancelled_at: datetime | None
    cancelled_by: str | None
    commitment_acknowledged_at: datetime | None
    onboarding_completed_at: datetime | None


class RegistrationList(BaseModel):
    items: list[Registration] = Field(description="A roster in arrival order; a person's own in id order.")
    next_page_token: str


class Cancellation(BaseModel):
    registration: Registration
    promoted: list[Registration] = Field(description="Who got the freed seat (a waitlisted team moves up together).")


class TeamMemberBody(Strict):
    person_id: str = Field(min_length=1)
    role: TeamRole


class TeamRegistrationCreate(Strict):
    team_id: str | None = Field(None, description="Caller-chosen team id (2-63 of a-z, 0-9, '-'); generated when "
                                                  "absent.")
    team_name: str = Field(min_length=1, max_length=200)
    school_id: str = Field(min_length=1)
    members: list[TeamMemberBody] = Field(min_length=1, description="Each fills exactly one slot of the "
                                                                    "community's team composition.")


class TeamRegistration(BaseModel):
    team: Team
    registrations: list[Registration] = Field(description="One per member: all confirmed, or all waitlisted in "
                                                          "one shared place.")
