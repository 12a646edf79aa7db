"""scheduling's gRPC API and event handlers."""

from __future__ import annotations

import functools
import json
import logging

import bson
import grpc
import pydantic

from copnet.events.v1 import events_pb2
from copnet.kernel import auth, db
from copnet.kernel.bus import Subscription
from copnet.kernel.clients import Clients
from copnet.kernel.errors import NotFound, Unavailable
from copnet.kernel.events import CloudEvent
from copnet.kernel.service import ServiceContext
from copnet.kernel.timestamps import timestamp
from copnet.pluginapi import SessionType
from copnet.scheduling.models import Calendar
from copnet.scheduling.v1 import scheduling_pb2 as pb
from copnet.scheduling.v1 import scheduling_pb2_grpc

log = logging.getLogger(__name__)


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
        scope = self._community_scope(request.community_id) if request.community_id else None
        return pb.ListSessionTypesResponse(session_types=collect_session_types(self.ctx, scope))

    def _community_scope(self, community_id: str) -> list[str]:
        """The community's scope (its host's ancestry plus the host), from membership."""
        from copnet.membership.v1 import membership_pb2

        token = auth.service_token(self.ctx.settings.require_secret(), self.ctx.name)
        membership = self._clients["membership"]
        try:
            community = membership.call("GetCommunity", membership_pb2.GetCommunityRequest(id=community_id),
                                        token=token).community
            host = membership.call("GetOrganization",
                                   membership_pb2.GetOrganizationRequest(id=community.host_organization_id),
                                   token=token).organization
        except grpc.RpcError as error:
            if error.code() == grpc.StatusCode.NOT_FOUND:
                raise NotFound(f"no community {community_id!r}", reason="UNKNOWN_COMMUNITY",
                               metadata={"field": "community_id"}) from None
            raise Unavailable(f"membership could not be asked for community {community_id!r}: "
                              f"{error.code().name}", reason="MEMBERSHIP_UNAVAILABLE") from None
        return [*host.ancestor_ids, host.id]

    @functools.cached_property
    def _clients(self) -> Clients:
        return Clients(self.ctx.settings)


def collect_session_types(ctx: ServiceContext, scope: list[str] | None = None) -> list[pb.SessionType]:
    """The plugins' session types (with `scope`, only those of plugins enabled there); a malformed
    entry or a duplicate key is dropped and logged."""
    by_key: dict[str, pb.SessionType] = {}
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
            by_key[declared.key] = pb.SessionType(
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
