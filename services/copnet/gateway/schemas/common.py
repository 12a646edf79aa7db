"""Shapes every area of the HTTP API shares: strict input, problems, paging, the enumerations.

The API's JSON shapes are pydantic models: requests are validated against them and the OpenAPI
document is generated from them, so the two cannot drift apart. Each area has its own module.
"""

from __future__ import annotations

import enum

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


class CommunityStatus(enum.StrEnum):
    DRAFT = "draft"
    OPEN = "open"
    CLOSED = "closed"
    ACTIVE = "active"
    COMPLETED = "completed"


class GradeBand(enum.StrEnum):
    """Spelled as teachers write them; the proto labels are `k_2`, `3_5`, ... (see convert.common)."""

    K_2 = "K-2"
    G3_5 = "3-5"
    G6_8 = "6-8"
    G9_12 = "9-12"


class Position(enum.StrEnum):
    TEACHER = "teacher"
    COACH = "coach"
    SPECIALIST = "specialist"
    SITE_ADMIN = "site_admin"
    DISTRICT_ADMIN = "district_admin"
    COUNTY_LEADER = "county_leader"
    UNIVERSITY_PARTNER = "university_partner"
    RESEARCHER = "researcher"


class Role(enum.StrEnum):
    MEMBER = "member"
    FACILITATOR = "facilitator"
    COUNTY_ADMIN = "county_admin"
    REGIONAL_LEAD = "regional_lead"
    STATE_COORDINATOR = "state_coordinator"
    PLATFORM_ADMIN = "platform_admin"


class ProposalStatus(enum.StrEnum):
    SUBMITTED = "submitted"
    ACCEPTED = "accepted"
    DECLINED = "declined"


class RegistrationStatus(enum.StrEnum):
    CONFIRMED = "confirmed"
    WAITLISTED = "waitlisted"
    CANCELLED = "cancelled"


class TeamKind(enum.StrEnum):
    SCHOOL = "school"
    CROSS_DISTRICT = "cross_district"


class TeamRole(enum.StrEnum):
    LEAD = "lead"
    MEMBER = "member"
    ADMINISTRATOR = "administrator"


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


class IdPath(Strict):
    id: str


class NoBody(Strict):
    """An action without parameters: send `{}`."""
