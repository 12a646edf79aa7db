"""/api/v1/statewide: the statewide hub's API (only on a hub's gateway, settings.instance "hub").

What every linked region shares, read from the statewide service: the links and what was refused
on them, and the statewide views. Figures are suppressed by the regions before they ever leave
(the hub never sees a small cell's value); a withheld cell is shown as withheld, and as "*" in a
CSV export. The catalog and the organization directory are public; everything else needs a
state_coordinator or platform_admin token of the hub (rejections: platform_admin).
"""

from __future__ import annotations

from flask_openapi3 import APIBlueprint, Tag

from copnet.gateway.auth import BEARER_REQUIRED, PLATFORM_ADMINS, roles_required
from copnet.gateway.backend import on_behalf
from copnet.gateway.convert import statewide as convert
from copnet.gateway.openapi import LIST_PROBLEMS, operation_id, problem_responses
from copnet.gateway.schemas.statewide import RegionLinkList, RejectionList, RejectionQuery
from copnet.kernel.auth import Role
from copnet.statewide.client import STATEWIDE
from copnet.statewide.v1 import ingest_pb2
from copnet.statewide.v1.statewide_pb2_grpc import StatewideServiceStub

blueprint = APIBlueprint("statewide", __name__, url_prefix="/api/v1/statewide", operation_id_callback=operation_id,
                         abp_tags=[Tag(name="statewide", description="What every linked region shares: suppressed "
                                                                     "figures, the public catalog and directory.")])

# Who reads the statewide figures (at any organization: the hub has no organization tree of its own).
STATEWIDE_READERS = (Role.PLATFORM_ADMIN, Role.STATE_COORDINATOR)
# A read with nothing to validate but the token.
PLAIN_READ_PROBLEMS = problem_responses(403, 503, 504)


def statewide() -> StatewideServiceStub:
    return on_behalf(STATEWIDE)


@blueprint.get("/regions", responses={200: RegionLinkList, **PLAIN_READ_PROBLEMS}, security=BEARER_REQUIRED,
               openapi_extensions=roles_required(*STATEWIDE_READERS))
def list_statewide_regions():
    """Every linked region: where its instance is, how many shared records the hub has applied
    from it and when the last one arrived, and how many of its messages were refused."""
    return convert.region_link_list(statewide().ListRegions(ingest_pb2.ListRegionsRequest())).model_dump(mode="json")


@blueprint.get("/rejections", responses={200: RejectionList, **LIST_PROBLEMS}, security=BEARER_REQUIRED,
               openapi_extensions=roles_required(*PLATFORM_ADMINS))
def list_statewide_rejections(query: RejectionQuery):
    """Share messages the hub refused (never applied; their payload is not kept), newest first,
    each with the rule it broke. platform_admin only."""
    reply = statewide().ListRejections(convert.rejections_request(query))
    return convert.rejection_list(reply).model_dump(mode="json")
