"""/api/v1/statewide on the hub: what every linked region shares (docs/federation.md). This module
holds the links (regions, refused messages) and what the views' queries share; the views' shapes
are in `statewide_views`."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from copnet.gateway.schemas.common import Strict

# A region's name as settings allow it (COPNET_REGION, COPNET_HUB_REGIONS), or empty.
REGION_OR_EMPTY = r"^([a-z][a-z0-9-]{1,31})?$"


def region_field(description: str = "Only this region's (empty: every region's)."):
    return Field("", max_length=32, pattern=REGION_OR_EMPTY, description=description)


class RegionLink(BaseModel):
    region: str = Field(description="The region's name, as the hub's link to it names it.")
    public_url: str | None = Field(description="Where the region's own instance is (null until the region shares it).")
    records_applied: int = Field(description="Shared records applied from this region.")
    last_applied_at: datetime | None = Field(description="When the last one was applied (null: none yet).")
    rejections: int = Field(description="Messages from this region refused at the hub.")
    linked: bool = Field(description="The region is linked now (false: it was once, and what it sent is kept).")


class RegionLinkList(BaseModel):
    items: list[RegionLink]


class RejectionQuery(Strict):
    region: str = region_field()
    page_size: int = Field(0, ge=0, le=500, description="At most this many; 0 means the default (50).")
    page_token: str = Field("", description="`next_page_token` of the previous page.")


class Rejection(BaseModel):
    id: str
    received_at: datetime
    region: str = Field(description="The region the link says the message came from (never the payload's claim).")
    subject: str
    reason: str = Field(description="The rule it broke, e.g. NOT_A_SHARED_RECORD, REGION_MISMATCH, BELOW_THRESHOLD.")
    detail: str
    stream_sequence: int = Field(description="Its sequence in the statewide stream.")
    size_bytes: int = Field(description="Its size (the payload itself is never kept).")


class RejectionList(BaseModel):
    items: list[Rejection]
    next_page_token: str
