"""/api/v1/orgs: the organization tree."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from copnet.gateway.schemas.common import OrganizationKind, Page, Strict


class OrganizationQuery(Page):
    parent_id: str = Field("", description="Only direct children of this organization.")
    kind: OrganizationKind | None = None


class OrganizationPath(Strict):
    id: str


class OrganizationCreate(Strict):
    id: str | None = Field(None, description="Caller-chosen id (2-63 of a-z, 0-9, '-'); generated when absent.")
    name: str = Field(min_length=1, max_length=200)
    kind: OrganizationKind
    parent_id: str | None = Field(None, description="Required for every kind but the state.")
    code: str | None = Field(None, description="External code (e.g. a CDS code), unique per kind.")
    time_zone: str | None = Field(None, description="IANA name; inherited from the parent when absent.")


class Organization(BaseModel):
    id: str
    name: str
    kind: OrganizationKind
    parent_id: str | None = Field(description="null for a root organization.")
    ancestor_ids: list[str] = Field(description="From the root down to the parent.")
    code: str | None
    time_zone: str
    created_at: datetime


class OrganizationList(BaseModel):
    items: list[Organization]
    next_page_token: str = Field(description="Pass as page_token for the next page; empty on the last.")
