"""/api/v1/communities: communities of practice (membership), with their calendar (scheduling)
and library (resources) on a single read."""

from __future__ import annotations

import logging

import grpc
from flask import url_for
from flask_openapi3 import APIBlueprint, Tag

from copnet.gateway.convert import communities as convert
from copnet.gateway.auth import BEARER_REQUIRED
from copnet.gateway.backend import ServiceCallFailed, backend, membership, resources, scheduling
from copnet.gateway.openapi import WRITE_PROBLEMS, operation_id, problem_responses
from copnet.gateway.schemas.communities import (Community, CommunityCreate, CommunityList, CommunityPath,
                                                CommunityQuery, CommunityStatusChange, CommunitySummary,
                                                CommunityUpdate, CommunityUpdated)
from copnet.membership.v1 import membership_pb2
from copnet.resources.v1 import resources_pb2
from copnet.scheduling.v1 import scheduling_pb2

log = logging.getLogger(__name__)
# A community read must not wait on a slow scheduling or resources for the full deadline.
LOOKUP_TIMEOUT_SECONDS = 1.0

blueprint = APIBlueprint("communities", __name__, url_prefix="/api/v1/communities",
                         operation_id_callback=operation_id,
                         abp_tags=[Tag(name="communities", description="Communities of practice.")])


@blueprint.post("", responses={201: Community, **problem_responses(400, 403, 409, 413, 415, 422, 503, 504)},
                security=BEARER_REQUIRED)
def create_community(body: CommunityCreate):
    """Create a community (a draft) hosted by an organization, optionally in a program; its calendar and
    library follow shortly."""
    reply = membership().CreateCommunity(convert.create_community_request(body))
    community = convert.community(reply.community, calendar_id=None, library_id=None)
    return community.model_dump(mode="json"), 201, {"Location": url_for(".get_community", id=community.id)}


@blueprint.get("", responses={200: CommunityList, **problem_responses(422, 503, 504)})
def list_communities(query: CommunityQuery):
    """Communities in id order, a page at a time, filtered by host, program, status, kind or region
    (without calendar and library: one call per page). Public."""
    reply = membership().ListCommunities(convert.list_communities_request(query))
    return CommunityList(items=[convert.community_summary(c) for c in reply.communities],
                         next_page_token=reply.next_page_token).model_dump(mode="json")


@blueprint.get("/<id>", responses={200: Community, **problem_responses(404, 503, 504)})
def get_community(path: CommunityPath):
    """One community, with its calendar and library ids (null until made, or while that service is down)."""
    reply = membership().GetCommunity(membership_pb2.GetCommunityRequest(id=path.id))
    pool = backend().pool
    calendar = pool.submit(lookup_id, scheduling().GetCalendar, scheduling_pb2.GetCalendarRequest(community_id=path.id),
                           "calendar")
    library = pool.submit(lookup_id, resources().GetLibrary, resources_pb2.GetLibraryRequest(community_id=path.id),
                          "library")
    return convert.community(reply.community, calendar_id=calendar.result(),
                             library_id=library.result()).model_dump(mode="json")


@blueprint.patch("/<id>", responses={200: CommunityUpdated,
                                     **WRITE_PROBLEMS},
                 security=BEARER_REQUIRED)
def update_community(path: CommunityPath, body: CommunityUpdate):
    """Change the fields sent (a list sent replaces the whole list). A completed community cannot change;
    capacity never drops below the confirmed registrations, and growing it promotes from the waiting list
    at once (`promoted`)."""
    reply = membership().UpdateCommunity(convert.update_community_request(path.id, body))
    return convert.community_updated(reply).model_dump(mode="json")


@blueprint.post("/<id>/status", responses={200: CommunitySummary,
                                           **WRITE_PROBLEMS},
                security=BEARER_REQUIRED)
def change_community_status(path: CommunityPath, body: CommunityStatusChange):
    """Move the community through draft -> open -> closed -> active -> completed (closed -> open reopens
    sign-up). Community managers; the community's facilitators may complete an active one."""
    reply = membership().ChangeCommunityStatus(convert.change_status_request(path.id, body))
    return convert.community_summary(reply.community).model_dump(mode="json")


def lookup_id(rpc, message, field: str) -> str | None:
    """The id of the `field` a Get* (`rpc`, bound to the caller) returns, or None when it does not
    exist (yet) or cannot be asked."""
    try:
        return getattr(rpc(message, timeout=LOOKUP_TIMEOUT_SECONDS), field).id
    except ServiceCallFailed as failure:
        if failure.error.code() != grpc.StatusCode.NOT_FOUND:
            log.warning("community read without %s: %s", field, failure)
        return None
