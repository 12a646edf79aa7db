"""/api/v1/reports: aggregates the reflection service maintains from events."""

from __future__ import annotations

from flask_openapi3 import APIBlueprint, Tag

from copnet.gateway.convert import reports as convert
from copnet.gateway.backend import reflection
from copnet.gateway.openapi import operation_id, problem_responses
from copnet.gateway.schemas import Page
from copnet.gateway.schemas.reports import CommunityCount, CommunityCountList, CountyOfficePath
from copnet.reflection.v1 import reflection_pb2

blueprint = APIBlueprint("reports", __name__, url_prefix="/api/v1/reports", operation_id_callback=operation_id,
                         abp_tags=[Tag(name="reports", description="Counts maintained as events arrive.")])


@blueprint.get("/community-counts", responses={200: CommunityCountList, **problem_responses(422, 503, 504)})
def list_community_counts(query: Page):
    """Communities per county office, by county office id, a page at a time."""
    reply = reflection().ListCommunityCounts(
        reflection_pb2.ListCommunityCountsRequest(page_size=query.page_size, page_token=query.page_token))
    return CommunityCountList(items=[convert.community_count(c) for c in reply.community_counts],
                              next_page_token=reply.next_page_token).model_dump(mode="json")


@blueprint.get("/community-counts/<county_office_id>",
               responses={200: CommunityCount, **problem_responses(422, 503, 504)})
def get_community_count(path: CountyOfficePath):
    """Communities in one county office's subtree (zero when it has none yet)."""
    reply = reflection().GetCommunityCount(
        reflection_pb2.GetCommunityCountRequest(county_office_id=path.county_office_id))
    return convert.community_count(reply.community_count).model_dump(mode="json")
