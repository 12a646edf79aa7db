"""/api/v1 teams: request and response shapes."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from copnet.gateway.schemas.common import Page, Strict, TeamKind, TeamRole


class TeamPath(Strict):
    id: str


class TeamMemberPath(Strict):
    id: str
    person_id: str


class CommunityTeamsPath(Strict):
    id: str


class TeamMemberEntry(Strict):
    person_id: str = Field(min_length=1)
    role: TeamRole


class TeamCreate(Strict):
    id: str | None = Field(None, description="Caller-chosen id (2-63 of a-z, 0-9, '-'); generated when absent.")
    kind: TeamKind
    name: str = Field(min_length=1, max_length=200)
    school_id: str | None = Field(None, description="The school of a school team; absent for a cross-district team.")
    members: list[TeamMemberEntry] = Field(default_factory=list, description="People holding live registrations in "
                                                                             "the community, each on no other team.")


class TeamMemberRole(Strict):
    role: TeamRole


class TeamQuery(Page):
    pass


class TeamMember(BaseModel):
    person_id: str
    role: TeamRole


class Team(BaseModel):
    id: str
    community_id: str
    kind: TeamKind
    name: str
    school_id: str | None = Field(description="null for a cross-district team.")
    members: list[TeamMember]
    created_by: str
    created_at: datetime
    updated_at: datetime | None


class TeamList(BaseModel):
    items: list[Team]
    next_page_token: str
