"""reflection's gRPC API (the counts it serves are kept by `copnet.reflection.counts`)."""

from __future__ import annotations

from copnet.kernel.errors import InvalidArgument
from copnet.kernel.pagination import page_of
from copnet.kernel.service import ServiceContext
from copnet.reflection.models import CommunityCount
from copnet.reflection.v1 import reflection_pb2
from copnet.reflection.v1 import reflection_pb2_grpc


class ReflectionServicer(reflection_pb2_grpc.ReflectionServiceServicer):
    def __init__(self, context: ServiceContext):
        self.ctx = context

    def GetCommunityCount(
        self, request: reflection_pb2.GetCommunityCountRequest, _context
    ) -> reflection_pb2.GetCommunityCountResponse:
        if not request.county_office_id:
            raise InvalidArgument.for_field("county_office_id", "is required")
        count = CommunityCount.objects(county_office_id=request.county_office_id).first()
        # A county office with no communities yet simply counts zero.
        return reflection_pb2.GetCommunityCountResponse(
            community_count=reflection_pb2.CommunityCount(
                county_office_id=request.county_office_id, communities=count.communities if count else 0
            )
        )

    def ListCommunityCounts(
        self, request: reflection_pb2.ListCommunityCountsRequest, _context
    ) -> reflection_pb2.ListCommunityCountsResponse:
        found, token = page_of(CommunityCount, {}, request.page_size, request.page_token, key="county_office_id")
        return reflection_pb2.ListCommunityCountsResponse(
            community_counts=[
                reflection_pb2.CommunityCount(county_office_id=c.county_office_id, communities=c.communities)
                for c in found
            ],
            next_page_token=token,
        )
