"""/api/v1/communities: communities of practice."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from copnet.gateway.schemas.common import CommunityKind, Page, Strict


class CommunityQuery(Page):
    host_organization_id: str = Field("", description="Only communities hosted by this organization.")


class CommunityPath(Strict):
    id: str


class CommunityCreate(Strict):
    id: str | None = Field(None, description="Caller-chosen id (2-63 of a-z, 0-9, '-'); generated when absent.")
    name: str = Field(min_length=1, max_length=200)
    kind: CommunityKind
    description: str = Field("", max_length=5000)
    host_organization_id: str = Field(min_length=1)


class CommunitySummary(BaseModel):
    """A community as listed: without the lookups in other services that a single read makes."""

    id: str
    name: str
    kind: CommunityKind
    description: str
    host_organization_id: str
    county_office_id: str | None = Field(description="null when the host sits above county level.")
    created_at: datetime


class Community(CommunitySummary):
    calendar_id: str | None = Field(description="null until scheduling has made the calendar (or is down).")
    library_id: str | None = Field(description="null until resources has made the library (or is down).")


class CommunityList(BaseModel):
    items: list[CommunitySummary]
    next_page_token: str
