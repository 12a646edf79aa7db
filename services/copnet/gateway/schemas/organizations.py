"""/api/v1/orgs: the organization tree."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from copnet.gateway.schemas.common import OrganizationKind, Page, Strict


class OrganizationQuery(Page):
    parent_id: str = Field("", description="Only direct children of this organization.")
    kind: OrganizationKind | None = None
    region_id: str = Field("", description="Only organizations in this region (the region itself included).")
    network_id: str = Field("", description="Only members of this network.")
    ancestor_id: str = Field("", description="Only organizations below this one (its subtree, itself excluded).")


class OrganizationPath(Strict):
    id: str


class NetworkMemberPath(Strict):
    network_id: str
    org_id: str


class OrganizationCreate(Strict):
    id: str | None = Field(None, description="Caller-chosen id (2-63 of a-z, 0-9, '-'); generated when absent.")
    name: str = Field(min_length=1, max_length=200)
    kind: OrganizationKind
    parent_id: str | None = Field(None, description="Required for every kind but the state.")
    code: str | None = Field(None, description="External code (e.g. a CDS code), unique per kind.")
    time_zone: str | None = Field(None, description="IANA name; inherited from the parent when absent.")


class OrganizationUpdate(Strict):
    """Only the fields sent change."""

    name: str | None = Field(None, min_length=1, max_length=200)
    code: str | None = Field(None, description="Unique per kind; null or \"\" removes the code.")
    time_zone: str | None = Field(None, min_length=1, description="IANA name.")


class OrganizationMove(Strict):
    parent_id: str = Field(min_length=1, description="The new parent; the subtree moves along.")


class ParentChange(BaseModel):
    parent_id: str | None = Field(description="The earlier parent (null: it was a root).")
    from_at: datetime = Field(description="When the organization came under that parent.")
    until_at: datetime = Field(description="When it was moved away.")
    moved_by: str | None = Field(description="The person who moved it.")


class Organization(BaseModel):
    id: str
    name: str
    kind: OrganizationKind
    parent_id: str | None = Field(description="null for a root organization.")
    ancestor_ids: list[str] = Field(description="From the root down to the parent.")
    region_id: str | None = Field(description="The region at or above; null above region level.")
    network_ids: list[str] = Field(description="Networks this organization is a member of.")
    parent_history: list[ParentChange] = Field(description="Earlier parents, oldest first.")
    code: str | None
    time_zone: str
    created_at: datetime
    updated_at: datetime | None


class OrganizationList(BaseModel):
    items: list[Organization]
    next_page_token: str = Field(description="Pass as page_token for the next page; empty on the last.")
