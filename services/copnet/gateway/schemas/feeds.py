"""/api/v1 calendar feeds, their secret tokens, and reminders (scheduling)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from copnet.gateway.schemas.common import Instant, Strict


class FeedQuery(Strict):
    token: str = Field(min_length=1, description="The person's feed token (POST .../calendar-token): calendar "
                                                 "clients send no bearer token, so the URL carries this secret.")
    format: str = Field("", description='A calendar exporter\'s key; empty means "ics" (iCalendar).')


class CalendarToken(BaseModel):
    person_id: str
    token: str = Field(description="Shown once (only its hash is kept); the previous token stops working now.")
    person_feed_url: str = Field(description="The person's feed: every community they belong to or facilitate.")
    community_feed_url_template: str = Field(
        description="One community's feed with the same token: replace `{community_id}`.")
    issued_at: datetime


class CalendarExport(BaseModel):
    """A feed as JSON, for a client that asks for `application/json` instead of the calendar itself."""

    model_config = ConfigDict(openapi_extra={
        "description": "The feed in the exporter's media type (text/calendar for `ics`), or wrapped in JSON on "
                       "`Accept: application/json`.",
        "content": {"text/calendar": {"schema": {"type": "string"}}}})

    media_type: str = Field(description="The exporter's media type, e.g. text/calendar.")
    filename: str = Field(description='Suggested file name ("bay-area-algebra.ics").')
    content: str = Field(description="The feed's bytes, base64-encoded.")


class RemindersRun(Strict):
    now: Instant | None = Field(None, description="Scan as if it were this instant (defaults to now).")


class RemindersRan(BaseModel):
    emitted: int = Field(description="Reminders this scan emitted (each occurrence and person at most once, ever).")
