"""/api/v1/people: request and response shapes."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from copnet.gateway.schemas.common import GradeBand, Page, Position, Role, Strict


class PersonPath(Strict):
    id: str


class PeopleQuery(Page):
    query: str = Field("", description="Case-insensitive part of the name or the email.")
    organization_id: str = Field("", description="Only people affiliated at this organization or below it.")
    position: Position | None = Field(None, description="Only people with this position (at `organization_id` "
                                                        "when both are given).")


class AffiliationBody(Strict):
    organization_id: str = Field(min_length=1)
    position: Position


class PersonCreate(Strict):
    id: str | None = Field(None, description="Caller-chosen id (2-63 of a-z, 0-9, '-'); generated when absent. "
                                             "Also the `sub` of the person's tokens.")
    name: str = Field(min_length=1, max_length=200)
    email: str = Field(min_length=3, max_length=254, description="Unique without regard to case.")
    grade_bands: list[GradeBand] = Field(default_factory=list, description="Grade bands taught.")
    affiliations: list[AffiliationBody] = Field(min_length=1, description="Where the person works, and as what.")


class PersonUpdate(Strict):
    """Only the fields sent change; a list sent replaces the whole list. The person may change their
    name, email and grade bands; affiliations need a manager."""

    name: str | None = Field(None, min_length=1, max_length=200)
    email: str | None = Field(None, min_length=3, max_length=254)
    grade_bands: list[GradeBand] | None = None
    affiliations: list[AffiliationBody] | None = Field(None, min_length=1)


class RoleGrantBody(Strict):
    role: Role
    organization_id: str | None = Field(None, description="Where the role is held; absent for platform_admin.")


class RoleGrantQuery(Strict):
    role: Role
    organization_id: str = Field("", description="Where the role is held; empty for platform_admin.")


class Affiliation(BaseModel):
    organization_id: str
    position: Position


class RoleGrant(BaseModel):
    role: Role
    organization_id: str | None = Field(description="null for platform_admin (instance-wide).")
    granted_by: str | None
    granted_at: datetime


class Person(BaseModel):
    id: str
    name: str
    email: str
    grade_bands: list[GradeBand]
    affiliations: list[Affiliation]
    roles: list[RoleGrant]
    created_at: datetime
    updated_at: datetime | None


class PersonList(BaseModel):
    items: list[Person]
    next_page_token: str = Field(description="Pass as page_token for the next page; empty on the last.")
