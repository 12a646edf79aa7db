"""/api/v1/session-types: what kinds of session communities can schedule (scheduling's plugins)."""

from __future__ import annotations

from flask_openapi3 import APIBlueprint, Tag

from copnet.gateway.convert import reports as convert
from copnet.gateway.backend import scheduling
from copnet.gateway.openapi import operation_id, problem_responses
from copnet.gateway.schemas.reports import SessionTypeList, SessionTypeQuery
from copnet.scheduling.v1 import scheduling_pb2

blueprint = APIBlueprint("catalog", __name__, url_prefix="/api/v1", operation_id_callback=operation_id,
                         abp_tags=[Tag(name="catalog", description="What the installed plugins offer.")])


@blueprint.get("/session-types", responses={200: SessionTypeList, **problem_responses(404, 422, 503, 504)})
def list_session_types(query: SessionTypeQuery):
    """The session types plugins register, by key: with `community_id`, those of the plugins enabled
    for that community's region (a county office's configuration overriding its region's)."""
    reply = scheduling().ListSessionTypes(
        scheduling_pb2.ListSessionTypesRequest(community_id=query.community_id))
    return SessionTypeList(items=[convert.session_type(t) for t in reply.session_types]).model_dump(mode="json")
