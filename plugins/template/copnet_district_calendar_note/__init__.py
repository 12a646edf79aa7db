"""District calendar note: a calendar review session type, and a note kept for every session scheduled.

Offers communities a "district calendar review" session type that carries the region's note
(testing windows, holidays), and when a session is scheduled in the region keeps a note of it for
the district calendar, once per event.
"""

from __future__ import annotations

import logging
import threading

import pydantic

from copnet import EventView, PluginContext, PluginSettings, SessionType, hookimpl

COPNET_HOOKSPEC_VERSION = 2

log = logging.getLogger(__name__)


class Settings(PluginSettings):
    note: str = pydantic.Field("", max_length=500,
                               description="Shown with the session type, e.g. 'No sessions during testing in May'.")
    default_duration_minutes: int = pydantic.Field(60, ge=15, le=240)
    # A secret: write-only through the API (it shows {"set": true}).
    calendar_token: pydantic.SecretStr | None = None


@hookimpl
def register_session_types(settings: Settings) -> list[SessionType]:
    description = "Check the session calendar against the district calendar."
    if settings.note:
        description += f" {settings.note}"
    return [SessionType(key="district_calendar_review", title="District calendar review",
                        description=description, default_duration_minutes=settings.default_duration_minutes,
                        preparation_prompts=["Bring your district's calendar for the next three months."],
                        reflection_prompts=["Which sessions need to move?"])]


@hookimpl
def subscribed_event_types() -> list[str]:
    return ["copnet.scheduling.session.*"]


# What this plugin noted, per organization whose configuration applied: a real plugin would
# send it to the district's calendar; keyed by organization so one region never sees another's.
NOTES: dict[str, dict[str, str]] = {}
_lock = threading.Lock()


@hookimpl
def react_to_event(event: EventView, settings: Settings, context: PluginContext) -> None:
    # Events arrive at least once: the event id makes a redelivery harmless.
    with _lock:
        notes = NOTES.setdefault(context.organization_id, {})
        if event.id in notes:
            return
        notes[event.id] = f"{event.type} {event.subject}".strip()
    log.info("district-calendar-note: noted %s for %s", event.id, context.organization_id)
