"""reflection's gRPC API: one ReflectionService made of each area's methods (`parts.ServicePart`)."""

from __future__ import annotations

from copnet.kernel.errors import InvalidArgument
from copnet.kernel.pagination import page_of
from copnet.kernel.service import ServiceContext
from copnet.reflection import cycles, datasets, measures, participation, student_rows, surveys
from copnet.reflection.models import CommunityCount
from copnet.kernel.service_parts import ServicePart
from copnet.reflection.v1 import reflection_pb2, reflection_pb2_grpc


class CommunityCountRpcs:
    """Community counts per county office (kept by `copnet.reflection.counts`)."""

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


PARTS: tuple[ServicePart, ...] = (datasets.PART, student_rows.PART, measures.PART, participation.PART, cycles.PART,
                                  surveys.PART)


class ReflectionServicer(CommunityCountRpcs, *(part.rpcs for part in PARTS),
                         reflection_pb2_grpc.ReflectionServiceServicer):
    def __init__(self, context: ServiceContext):
        self.ctx = context
