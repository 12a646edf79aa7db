"""resources' gRPC API and event handlers."""

from __future__ import annotations

import bson

from copnet.events.v1 import events_pb2
from copnet.kernel import db
from copnet.kernel.bus import Subscription
from copnet.kernel.errors import NotFound
from copnet.kernel.events import CloudEvent
from copnet.kernel.service import ServiceContext
from copnet.kernel.timestamps import timestamp
from copnet.resources.models import Library
from copnet.resources.v1 import resources_pb2
from copnet.resources.v1 import resources_pb2_grpc


class ResourcesServicer(resources_pb2_grpc.ResourcesServiceServicer):
    def __init__(self, context: ServiceContext):
        self.ctx = context

    def GetLibrary(self, request: resources_pb2.GetLibraryRequest, _context) -> resources_pb2.GetLibraryResponse:
        library = Library.objects(community_id=request.community_id).first() if request.community_id else None
        if library is None:
            raise NotFound(f"no library for community {request.community_id!r}")
        return resources_pb2.GetLibraryResponse(
            library=resources_pb2.Library(
                id=library.id, community_id=library.community_id, create_time=timestamp(library.created_at)
            )
        )


def create_library(uow: db.UnitOfWork, event: CloudEvent) -> None:
    community = event.payload(events_pb2.CommunityCreated)
    if uow.find_one(Library, {"community_id": community.community_id}) is None:
        uow.insert(Library(id=str(bson.ObjectId()), community_id=community.community_id, created_at=db.utcnow()))


def subscriptions(_ctx: ServiceContext) -> list[Subscription]:
    return [Subscription("libraries", ("copnet.membership.community.created",), create_library)]
