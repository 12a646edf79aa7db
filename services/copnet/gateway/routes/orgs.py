"""/api/v1/orgs: the organization tree and networks beside it (membership)."""

from __future__ import annotations

from flask import url_for
from flask_openapi3 import APIBlueprint, Tag

from copnet.gateway.auth import BEARER_REQUIRED, ORG_MANAGERS, roles_required
from copnet.gateway.backend import membership
from copnet.gateway.convert import organizations as convert
from copnet.gateway.openapi import DELETE_PROBLEMS, WRITE_PROBLEMS, operation_id, problem_responses
from copnet.gateway.schemas.organizations import (
    NetworkMemberPath,
    Organization,
    OrganizationCreate,
    OrganizationList,
    OrganizationMove,
    OrganizationPath,
    OrganizationQuery,
    OrganizationUpdate,
)
from copnet.membership.v1 import membership_pb2

blueprint = APIBlueprint("orgs", __name__, url_prefix="/api/v1/orgs", operation_id_callback=operation_id,
                         abp_tags=[Tag(name="organizations", description="State, regions, county offices, "
                                                                          "districts, schools and partners.")])
# A DELETE has no body to be malformed, too large or of the wrong type.


@blueprint.post("", responses={201: Organization, **problem_responses(400, 403, 409, 413, 415, 422, 503, 504)},
                security=BEARER_REQUIRED,
                openapi_extensions=roles_required(*ORG_MANAGERS))
def create_organization(body: OrganizationCreate):
    """Create an organization under its parent (a state needs a platform_admin token)."""
    reply = membership().CreateOrganization(convert.create_organization_request(body))
    org = convert.organization(reply.organization)
    return org.model_dump(mode="json"), 201, {"Location": url_for(".get_organization", id=org.id)}


@blueprint.get("", responses={200: OrganizationList, **problem_responses(422, 503, 504)})
def list_organizations(query: OrganizationQuery):
    """Organizations in id order, a page at a time; filter by parent, kind, region, network or ancestor."""
    reply = membership().ListOrganizations(convert.list_organizations_request(query))
    return OrganizationList(items=[convert.organization(o) for o in reply.organizations],
                            next_page_token=reply.next_page_token).model_dump(mode="json")


@blueprint.get("/<id>", responses={200: Organization, **problem_responses(404, 503, 504)})
def get_organization(path: OrganizationPath):
    """One organization, with its networks and earlier parents."""
    reply = membership().GetOrganization(membership_pb2.GetOrganizationRequest(id=path.id))
    return convert.organization(reply.organization).model_dump(mode="json")


@blueprint.patch("/<id>", responses={200: Organization, **WRITE_PROBLEMS}, security=BEARER_REQUIRED,
                 openapi_extensions=roles_required(*ORG_MANAGERS))
def update_organization(path: OrganizationPath, body: OrganizationUpdate):
    """Rename an organization, change its code (unique per kind) or its time zone."""
    reply = membership().UpdateOrganization(convert.update_organization_request(path.id, body))
    return convert.organization(reply.organization).model_dump(mode="json")


@blueprint.post("/<id>/move", responses={200: Organization, **WRITE_PROBLEMS}, security=BEARER_REQUIRED,
                openapi_extensions=roles_required(*ORG_MANAGERS))
def move_organization(path: OrganizationPath, body: OrganizationMove):
    """Move an organization and its subtree under a new parent (e.g. a school to another district).

    Needs a manager over both the old and the new parent; the earlier parent is kept in
    `parent_history`."""
    reply = membership().MoveOrganization(membership_pb2.MoveOrganizationRequest(id=path.id,
                                                                                 new_parent_id=body.parent_id))
    return convert.organization(reply.organization).model_dump(mode="json")


@blueprint.put("/<network_id>/members/<org_id>", responses={200: Organization, **WRITE_PROBLEMS},
               security=BEARER_REQUIRED,
               openapi_extensions=roles_required(*ORG_MANAGERS))
def add_network_member(path: NetworkMemberPath):
    """Make an organization a member of a network (idempotent); answers the member."""
    reply = membership().AddNetworkMember(membership_pb2.AddNetworkMemberRequest(network_id=path.network_id,
                                                                                 organization_id=path.org_id))
    return convert.organization(reply.organization).model_dump(mode="json")


@blueprint.delete("/<network_id>/members/<org_id>", responses={200: Organization, **DELETE_PROBLEMS},
                  security=BEARER_REQUIRED,
                  openapi_extensions=roles_required(*ORG_MANAGERS))
def remove_network_member(path: NetworkMemberPath):
    """Take an organization out of a network (409 NOT_A_MEMBER when it was not in it); answers the member."""
    reply = membership().RemoveNetworkMember(membership_pb2.RemoveNetworkMemberRequest(network_id=path.network_id,
                                                                                       organization_id=path.org_id))
    return convert.organization(reply.organization).model_dump(mode="json")
