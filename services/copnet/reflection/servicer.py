"""reflection's gRPC API and event handlers."""

from __future__ import annotations

import logging

from copnet.events.v1 import events_pb2
from copnet.kernel import db
from copnet.kernel.bus import Subscription
from copnet.kernel.errors import InvalidArgument
from copnet.kernel.events import CloudEvent
from copnet.kernel.pagination import page_of
from copnet.kernel.service import ServiceContext
from copnet.reflection.models import CommunityCount
from copnet.reflection.v1 import reflection_pb2 as pb
from copnet.reflection.v1 import reflection_pb2_grpc

log = logging.getLogger(__name__)


class ReflectionServicer(reflection_pb2_grpc.ReflectionServiceServicer):
    def __init__(self, context: ServiceContext):
        self.ctx = context

    def GetCommunityCount(self, request: pb.GetCommunityCountRequest, _context) -> pb.GetCommunityCountResponse:
        if not request.county_office_id:
            raise InvalidArgument.for_field("county_office_id", "is required")
        count = CommunityCount.objects(county_office_id=request.county_office_id).first()
        # A county office with no communities yet simply counts zero.
        return pb.GetCommunityCountResponse(community_count=pb.CommunityCount(
            county_office_id=request.county_office_id, communities=count.communities if count else 0))

    def ListCommunityCounts(self, request: pb.ListCommunityCountsRequest, _context) -> pb.ListCommunityCountsResponse:
        found, token = page_of(CommunityCount, {}, request.page_size, request.page_token, key="county_office_id")
        return pb.ListCommunityCountsResponse(
            community_counts=[pb.CommunityCount(county_office_id=c.county_office_id, communities=c.communities)
                              for c in found],
            next_page_token=token)


def count_community(uow: db.UnitOfWork, event: CloudEvent) -> None:
    community = event.payload(events_pb2.CommunityCreated)
    if not community.county_office_id:
        log.info("community %s sits above county level; not counted per county", community.community_id)
        return
    uow.update_one(CommunityCount, {"_id": community.county_office_id}, {"$inc": {"communities": 1}}, upsert=True)


def subscriptions(_ctx: ServiceContext) -> list[Subscription]:
    return [Subscription("community-counts", ("copnet.membership.community.created",), count_community)]
