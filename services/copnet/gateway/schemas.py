"""The HTTP API's JSON shapes as pydantic models: requests are validated against them and the
OpenAPI document is generated from them, so the two cannot drift apart."""

from __future__ import annotations

import enum
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field


class Strict(BaseModel):
    """Input model: an unknown field is an error rather than silently ignored."""

    model_config = ConfigDict(extra="forbid")


# -- enums (values must match the proto enums; tests/unit/test_gateway_openapi.py checks) -------
class OrganizationKind(enum.StrEnum):
    STATE = "state"
    REGION = "region"
    COUNTY_OFFICE = "county_office"
    DISTRICT = "district"
    SCHOOL = "school"
    NETWORK = "network"
    UNIVERSITY = "university"
    PARTNER = "partner"


class CommunityKind(enum.StrEnum):
    PLC = "plc"
    MATH_TEAM = "math_team"
    CROSS_DISTRICT_TEAM = "cross_district_team"
    EQUITY_COHORT = "equity_cohort"
    LESSON_STUDY = "lesson_study"
    LEADERSHIP = "leadership"
    NETWORK = "network"


# -- problems (RFC 9457) --------------------------------------------------------------------------
class FieldError(BaseModel):
    field: str = Field(description="The offending field, dotted for nested ones (e.g. `kind`, `page_size`).")
    message: str


class Problem(BaseModel):
    """Every error response, as `application/problem+json`."""

    type: str = Field(description="`urn:copnet:problem:<reason>` or `about:blank` when only the status matters.")
    title: str
    status: int
    detail: str
    reason: str | None = Field(None, description="Machine-readable UPPER_SNAKE reason, when there is one.")
    errors: list[FieldError] | None = Field(None, description="One entry per invalid field (422 only).")


# -- paths and queries ----------------------------------------------------------------------------
class Page(Strict):
    page_size: int = Field(0, ge=0, le=1000, description="At most this many items; 0 means the default (50).")
    page_token: str = Field("", description="`next_page_token` of the previous page; empty for the first.")


class OrganizationQuery(Page):
    parent_id: str = Field("", description="Only direct children of this organization.")
    kind: OrganizationKind | None = None


class CommunityQuery(Page):
    host_organization_id: str = Field("", description="Only communities hosted by this organization.")


class OrganizationPath(Strict):
    id: str


class CommunityPath(Strict):
    id: str


class CountyOfficePath(Strict):
    county_office_id: str


# -- organizations --------------------------------------------------------------------------------
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


# -- communities ----------------------------------------------------------------------------------
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


# -- catalog and reports --------------------------------------------------------------------------
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


# -- health ---------------------------------------------------------------------------------------
class Liveness(BaseModel):
    status: str = Field(examples=["ok"])


class Readiness(BaseModel):
    status: str = Field(examples=["ready", "not_ready"])
    checks: dict[str, str] = Field(description="Each service and shared dependency with its gRPC health state.",
                                   examples=[{"membership": "SERVING", "mongodb": "SERVING", "nats": "SERVING"}])
