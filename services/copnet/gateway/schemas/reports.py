"""/api/v1/catalog and /api/v1/reports."""

from __future__ import annotations

from pydantic import BaseModel, Field

from copnet.gateway.schemas.common import Strict


class CountyOfficePath(Strict):
    county_office_id: str


class SessionType(BaseModel):
    key: str
    title: str
    description: str
    default_duration_minutes: int
    plugin: str = Field(description="The plugin that registered this session type.")


class SessionTypeList(BaseModel):
    items: list[SessionType]


class CommunityCount(BaseModel):
    county_office_id: str
    communities: int


class CommunityCountList(BaseModel):
    items: list[CommunityCount]
    next_page_token: str
