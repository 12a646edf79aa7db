"""/api/v1/catalog and /api/v1/reports."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from copnet.gateway.schemas.common import Strict


class CountyOfficePath(Strict):
    county_office_id: str


class SessionTypeQuery(Strict):
    community_id: str = Field("", description="Only the types of plugins enabled for this community's region "
                                              "(or its county office's override); empty: every installed plugin's.")


class SessionType(BaseModel):
    key: str
    title: str
    description: str
    default_duration_minutes: int
    plugin: str = Field(description="The plugin that registered this session type.")
    fields: dict[str, Any] = Field(default_factory=dict, description="JSON Schema (an object) for the extra fields "
                                                                      "a session of this type carries.")
    preparation_prompts: list[str] = Field(default_factory=list)
    reflection_prompts: list[str] = Field(default_factory=list)


class SessionTypeList(BaseModel):
    items: list[SessionType]


class CommunityCount(BaseModel):
    county_office_id: str
    communities: int


class CommunityCountList(BaseModel):
    items: list[CommunityCount]
    next_page_token: str
