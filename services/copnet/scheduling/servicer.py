"""scheduling's gRPC API and event handlers."""

from __future__ import annotations

import logging
import re

import bson

from copnet.events.v1 import events_pb2
from copnet.kernel import db
from copnet.kernel.bus import Subscription
from copnet.kernel.errors import NotFound
from copnet.kernel.events import CloudEvent
from copnet.kernel.service import ServiceContext
from copnet.kernel.timestamps import timestamp
from copnet.scheduling.models import Calendar
from copnet.scheduling.v1 import scheduling_pb2 as pb
from copnet.scheduling.v1 import scheduling_pb2_grpc

log = logging.getLogger(__name__)
SESSION_TYPE_KEY = re.compile(r"^[a-z][a-z0-9_]{1,62}$")


class SchedulingServicer(scheduling_pb2_grpc.SchedulingServiceServicer):
    def __init__(self, context: ServiceContext):
        self.ctx = context

    def GetCalendar(self, request: pb.GetCalendarRequest, _context) -> pb.GetCalendarResponse:
        calendar = Calendar.objects(community_id=request.community_id).first() if request.community_id else None
        if calendar is None:
            raise NotFound(f"no calendar for community {request.community_id!r}")
        return pb.GetCalendarResponse(calendar=pb.Calendar(id=calendar.id, community_id=calendar.community_id,
                                                           create_time=timestamp(calendar.created_at)))

    def ListSessionTypes(self, request: pb.ListSessionTypesRequest, _context) -> pb.ListSessionTypesResponse:
        return pb.ListSessionTypesResponse(session_types=collect_session_types(self.ctx))


def collect_session_types(ctx: ServiceContext) -> list[pb.SessionType]:
    """Every plugin's session types; a malformed entry or a duplicate key is dropped and logged."""
    by_key: dict[str, pb.SessionType] = {}
    for result in ctx.plugins.call("register_session_types"):
        for item in result.value if isinstance(result.value, list) else []:
            try:
                session_type = pb.SessionType(key=item["key"], title=item["title"],
                                              description=item.get("description", ""),
                                              default_duration_minutes=int(item["default_duration_minutes"]),
                                              plugin=result.plugin)
            except (KeyError, TypeError, ValueError) as exc:
                log.warning("plugins: %s returned a malformed session type (%r); skipped", result.plugin, exc)
                continue
            if not SESSION_TYPE_KEY.match(session_type.key) or not 1 <= session_type.default_duration_minutes <= 1440:
                log.warning("plugins: %s returned an invalid session type %r; skipped", result.plugin, item)
                continue
            if session_type.key in by_key:
                log.warning("plugins: session type %r from %s duplicates %s's; skipped", session_type.key,
                            result.plugin, by_key[session_type.key].plugin)
                continue
            by_key[session_type.key] = session_type
    return sorted(by_key.values(), key=lambda t: t.key)


def create_calendar(uow: db.UnitOfWork, event: CloudEvent) -> None:
    community = event.payload(events_pb2.CommunityCreated)
    calendar = Calendar(id=str(bson.ObjectId()), community_id=community.community_id, created_at=db.utcnow())
    if uow.find_one(Calendar, {"community_id": community.community_id}) is None:
        uow.insert(calendar)


def subscriptions(_ctx: ServiceContext) -> list[Subscription]:
    return [Subscription("calendars", ("copnet.membership.community.created",), create_calendar)]
