"""/api/v1/orgs: the organization tree (membership)."""

from __future__ import annotations

from flask import url_for
from flask_openapi3 import APIBlueprint, Tag

from copnet.gateway.convert import organizations as convert
from copnet.gateway.auth import BEARER_REQUIRED
from copnet.gateway.backend import call
from copnet.gateway.openapi import operation_id, problem_responses
from copnet.gateway.schemas.organizations import (Organization, OrganizationCreate, OrganizationList, OrganizationPath,
                                    OrganizationQuery)
from copnet.membership.v1 import membership_pb2 as pb

blueprint = APIBlueprint("orgs", __name__, url_prefix="/api/v1/orgs", operation_id_callback=operation_id,
                         abp_tags=[Tag(name="organizations", description="State, regions, county offices, "
                                                                          "districts, schools and partners.")])


@blueprint.post("", responses={201: Organization, **problem_responses(400, 403, 409, 413, 415, 422, 503, 504)},
                security=BEARER_REQUIRED)
def create_organization(body: OrganizationCreate):
    """Create an organization under its parent (a state needs a platform_admin token)."""
    reply = call("membership", "CreateOrganization", convert.create_organization_request(body))
    org = convert.organization(reply.organization)
    return org.model_dump(mode="json"), 201, {"Location": url_for(".get_organization", id=org.id)}


@blueprint.get("", responses={200: OrganizationList, **problem_responses(422, 503, 504)})
def list_organizations(query: OrganizationQuery):
    """Organizations in id order, a page at a time; filter by parent or kind."""
    reply = call("membership", "ListOrganizations", convert.list_organizations_request(query))
    return OrganizationList(items=[convert.organization(o) for o in reply.organizations],
                            next_page_token=reply.next_page_token).model_dump(mode="json")


@blueprint.get("/<id>", responses={200: Organization, **problem_responses(404, 503, 504)})
def get_organization(path: OrganizationPath):
    """One organization."""
    reply = call("membership", "GetOrganization", pb.GetOrganizationRequest(id=path.id))
    return convert.organization(reply.organization).model_dump(mode="json")
