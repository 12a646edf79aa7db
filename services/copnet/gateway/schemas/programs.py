"""/api/v1/programs: program years and their calls for facilitator proposals."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from copnet.gateway.schemas.common import Instant, Page, Strict


class ProgramQuery(Page):
    owner_organization_id: str = Field("", description="Only programs owned by this region (or the state).")
    program_year: str = Field("", description='Only programs of this school year, e.g. "2026-27".')


class ProgramPath(Strict):
    id: str


class ProgramCreate(Strict):
    id: str | None = Field(None, description="Caller-chosen id (2-63 of a-z, 0-9, '-'); generated when absent.")
    name: str = Field(min_length=1, max_length=200, description='e.g. "2026-27 Statewide Math CoP".')
    owner_organization_id: str = Field(min_length=1, description="A region or the state.")
    program_year: str = Field(description='The school year, two consecutive years: "2026-27".')
    description: str = Field("", max_length=5000)


class ProgramUpdate(Strict):
    """Only the fields present change."""

    name: str | None = Field(None, min_length=1, max_length=200)
    description: str | None = Field(None, max_length=5000)


class ProposalCallOpen(Strict):
    due_at: Instant = Field(description="Proposals are accepted until this instant (in the future). "
                                              "Re-dates a call that is still open.")


class ProposalCall(BaseModel):
    opened_at: datetime = Field(description="When the call opened.")
    due_at: datetime = Field(description="Proposals are accepted until this instant.")


class Program(BaseModel):
    id: str
    name: str
    owner_organization_id: str
    program_year: str
    description: str
    proposal_call: ProposalCall | None = Field(description="null until a call for proposals is opened.")
    created_at: datetime
    updated_at: datetime | None = Field(description="null until first changed.")


class ProgramList(BaseModel):
    items: list[Program]
    next_page_token: str = Field(description="Pass as page_token for the next page; empty on the last.")
