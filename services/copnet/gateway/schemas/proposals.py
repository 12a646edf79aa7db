"""/api/v1 facilitator proposals: request and response shapes."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from copnet.gateway.schemas.common import CommunityKind, Page, ProposalStatus, Strict
from copnet.gateway.schemas.communities import CommunitySummary

INT32_MAX = 2**31 - 1
INT64_MAX = 2**63 - 1


class ProposalPath(Strict):
    id: str


class ProgramProposalsPath(Strict):
    id: str = Field(description="The program's id.")


class ProposalQuery(Page):
    status: ProposalStatus | None = Field(None, description="Only proposals in this status.")


class ProposalCreate(Strict):
    """A facilitator proposal; the proposer is the caller (who needs a person record)."""

    title: str = Field(max_length=200, description="Becomes the community's name when accepted.")
    focus: str = Field("", max_length=500)
    audience: str = Field("", max_length=500, description='Who it is for, e.g. "grades 3-5 teachers".')
    plan: str = Field("", max_length=10000)
    requested_capacity: int = Field(ge=-INT32_MAX, le=INT32_MAX, description="Seats asked for; positive.")
    kind: CommunityKind
    host_organization_id: str = Field(description="Where the community would be hosted: inside the program's "
                                                  "organization.")


class ProposalAccept(Strict):
    stipend_cents: int = Field(ge=-INT64_MAX, le=INT64_MAX, description="The facilitator's stipend, in cents; >= 0.")
    stipend_currency: str | None = Field(None, description="ISO 4217 code (three upper-case letters); USD when absent.")
    community_id: str | None = Field(None, description="Id for the community to create; generated when absent.")


class ProposalDecline(Strict):
    note: str = Field("", max_length=2000, description="Why it was declined (shown to the proposer).")


class Proposal(BaseModel):
    id: str
    program_id: str
    proposer_id: str
    title: str
    focus: str
    audience: str
    plan: str
    requested_capacity: int
    kind: CommunityKind
    host_organization_id: str
    status: ProposalStatus
    community_id: str | None = Field(description="The community created on acceptance; null before.")
    stipend_cents: int
    stipend_currency: str | None = Field(description="null until accepted.")
    decision_note: str | None
    decided_by: str | None
    created_at: datetime
    decided_at: datetime | None


class ProposalList(BaseModel):
    items: list[Proposal]
    next_page_token: str = Field(description="Pass as page_token for the next page; empty on the last.")


class ProposalAccepted(BaseModel):
    proposal: Proposal
    community: CommunitySummary = Field(description="The community created (draft), the proposer facilitating.")
