"""Shapes every area of the HTTP API shares: strict input, problems, paging, the enumerations.

The API's JSON shapes are pydantic models: requests are validated against them and the OpenAPI
document is generated from them, so the two cannot drift apart. Each area has its own module.
"""

from __future__ import annotations

import enum
import re
from datetime import datetime
from typing import Annotated

from pydantic import AwareDatetime, BaseModel, BeforeValidator, ConfigDict, Field

from copnet.kernel.auth import Role  # noqa: F401 (the API's roles are the kernel's, shared by the area modules)


class Strict(BaseModel):
    """Input model: an unknown field is an error rather than silently ignored."""

    model_config = ConfigDict(extra="forbid")


# -- instants -------------------------------------------------------------------------------------
# RFC 3339's date-time (section 5.6), which the document promises as `format: date-time`: a date, a
# `T`, a time with seconds and an offset. Checked on the text itself because pydantic's lax mode
# would also take a number (`0`, `"0.5"`) as seconds since 1970.
RFC3339_DATE_TIME = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}"  # full-date
                               r"[Tt][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?"  # "T" partial-time
                               r"([Zz]|[+-][0-9]{2}:[0-9]{2})")  # time-offset


def rfc3339_text(value: object) -> object:
    """The value unchanged when it is RFC 3339 text (pydantic then parses it), or already a datetime
    (a reply built from a service's message; JSON has none); an error otherwise."""
    if isinstance(value, datetime):
        return value
    if not isinstance(value, str) or not RFC3339_DATE_TIME.fullmatch(value):
        raise ValueError("must be an RFC 3339 date-time string with an offset, e.g. 2026-03-01T17:30:00Z")
    return value


# Every instant a request carries, in a body or a query.
Instant = Annotated[AwareDatetime, BeforeValidator(rfc3339_text)]


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
