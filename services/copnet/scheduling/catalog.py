"""Calendars (one per community) and the session types on offer (from the plugins)."""

from __future__ import annotations

import json
import logging

import bson
import pydantic

from copnet.events.v1 import events_pb2
from copnet.kernel import db
from copnet.kernel.bus import Subscription
from copnet.kernel.errors import NotFound
from copnet.kernel.events import CloudEvent
from copnet.kernel.service import ServiceContext
from copnet.kernel.timestamps import timestamp
from copnet.pluginapi import SessionType
from copnet.scheduling.directory import Directory
from copnet.scheduling.models import Calendar
from copnet.scheduling.v1 import scheduling_pb2

log = logging.getLogger(__name__)


class CatalogApi:
    ctx: ServiceContext
    directory: Directory

    def GetCalendar(self, request: scheduling_pb2.GetCalendarRequest, _context) -> scheduling_pb2.GetCalendarResponse:
        calendar = Calendar.objects(community_id=request.community_id).first() if request.community_id else None
        if calendar is None:
            raise NotFound(f"no calendar for community {request.community_id!r}")
        return scheduling_pb2.GetCalendarResponse(calendar=scheduling_pb2.Calendar(id=calendar.id,
                                                                                   community_id=calendar.community_id,
                                                           create_time=timestamp(calendar.created_at)))

    def ListSessionTypes(self, request: scheduling_pb2.ListSessionTypesRequest,
                         _context) -> scheduling_pb2.ListSessionTypesResponse:
        scope = (list(self.directory.community(request.community_id, field=None).scope)
                 if request.community_id else None)
        return scheduling_pb2.ListSessionTypesResponse(session_types=collect_session_types(self.ctx, scope))



def collect_session_types(ctx: ServiceContext, scope: list[str] | None = None) -> list[scheduling_pb2.SessionType]:
    """The plugins' session types (with `scope`, only those of plugins enabled there); a malformed
    entry or a duplicate key is dropped and logged."""
    by_key: dict[str, scheduling_pb2.SessionType] = {}
    for result in ctx.plugins.call("register_session_types", scope=scope):
        for item in result.value if isinstance(result.value, list | tuple) else []:
            try:
                declared = item if isinstance(item, SessionType) else SessionType.model_validate(item)
            except (pydantic.ValidationError, TypeError) as exc:
                log.warning("plugins: %s returned an invalid session type %r; skipped: %s", result.plugin,
                            item.get("key") if isinstance(item, dict) else item, exc)
                continue
            if declared.key in by_key:
                log.warning("plugins: session type %r from %s duplicates %s's; skipped", declared.key,
                            result.plugin, by_key[declared.key].plugin)
                continue
            by_key[declared.key] = scheduling_pb2.SessionType(
                key=declared.key, title=declared.title, description=declared.description,
                default_duration_minutes=declared.default_duration_minutes, plugin=result.plugin,
                fields_schema_json=json.dumps(declared.fields, sort_keys=True),
                preparation_prompts=declared.preparation_prompts, reflection_prompts=declared.reflection_prompts)
    return sorted(by_key.values(), key=lambda t: t.key)


def create_calendar(uow: db.UnitOfWork, event: CloudEvent) -> None:
    community = event.payload(events_pb2.CommunityCreated)
    calendar = Calendar(id=str(bson.ObjectId()), community_id=community.community_id, created_at=db.utcnow())
    if uow.find_one(Calendar, {"community_id": community.community_id}) is None:
        uow.insert(calendar)


def subscriptions(_ctx: ServiceContext) -> list[Subscription]:
    return [Subscription("calendars", ("copnet.membership.community.created",), create_calendar)]
