"""The statewide service's messages -> /api/v1/statewide JSON, and the suppressed CSV export."""

from __future__ import annotations

from copnet.gateway.convert.common import or_null, rfc3339, rfc3339_or_null
from copnet.gateway.schemas import statewide as schemas
from copnet.statewide.v1 import ingest_pb2


def region_link(message: ingest_pb2.RegionLink) -> schemas.RegionLink:
    return schemas.RegionLink(region=message.region, public_url=or_null(message.public_url),
                              records_applied=message.records_applied,
                              last_applied_at=rfc3339_or_null(message, "last_applied_time"),
                              rejections=message.rejections)


def region_link_list(reply: ingest_pb2.ListRegionsResponse) -> schemas.RegionLinkList:
    return schemas.RegionLinkList(items=[region_link(r) for r in reply.regions])


def rejections_request(query: schemas.RejectionQuery) -> ingest_pb2.ListRejectionsRequest:
    return ingest_pb2.ListRejectionsRequest(page_size=query.page_size, page_token=query.page_token,
                                            region=query.region)


def rejection(message: ingest_pb2.Rejection) -> schemas.Rejection:
    return schemas.Rejection(id=message.id, received_at=rfc3339(message.receive_time), region=message.region,
                             subject=message.subject, reason=message.reason, detail=message.detail,
                             stream_sequence=message.stream_sequence, size_bytes=message.size_bytes)


def rejection_list(reply: ingest_pb2.ListRejectionsResponse) -> schemas.RejectionList:
    return schemas.RejectionList(items=[rejection(r) for r in reply.rejections],
                                 next_page_token=reply.next_page_token)
