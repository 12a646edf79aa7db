"""membership over real gRPC: organization rules, access by role and scope, pagination."""

from __future__ import annotations

import grpc
import pymongo
import pytest

from copnet.kernel.errors import details_of
from copnet.membership.v1 import membership_pb2 as m

pytestmark = pytest.mark.integration

TZ = "America/Los_Angeles"


@pytest.fixture(scope="module")
def tree(services):
    """state > region > two county offices > district > school, created by a platform admin."""
    admin = services.token("platform_admin")
    call = services.clients["membership"].call
    for org_id, kind, parent in (("mem-state", m.ORGANIZATION_KIND_STATE, ""),
                                 ("mem-bay", m.ORGANIZATION_KIND_REGION, "mem-state"),
                                 ("mem-alameda", m.ORGANIZATION_KIND_COUNTY_OFFICE, "mem-bay"),
                                 ("mem-marin", m.ORGANIZATION_KIND_COUNTY_OFFICE, "mem-bay"),
                                 ("mem-oakland", m.ORGANIZATION_KIND_DISTRICT, "mem-alameda"),
                                 ("mem-school", m.ORGANIZATION_KIND_SCHOOL, "mem-oakland")):
        call("CreateOrganization", m.CreateOrganizationRequest(organization_id=org_id, name=org_id, kind=kind,
                                                               parent_id=parent, time_zone=TZ if not parent else ""),
             token=admin)
    return services


def rpc_error(call, *args, **kwargs):
    with pytest.raises(grpc.RpcError) as raised:
        call(*args, **kwargs)
    return details_of(raised.value)


def community_count(services) -> int:
    client = pymongo.MongoClient(services.mongodb_uri)
    with client:
        return client[services.settings.database_name("membership")].communities.count_documents({})


def test_children_inherit_ancestry_and_time_zone(tree):
    school = tree.clients["membership"].call("GetOrganization", m.GetOrganizationRequest(id="mem-school"))
    assert list(school.organization.ancestor_ids) == ["mem-state", "mem-bay", "mem-alameda", "mem-oakland"]
    assert school.organization.time_zone == TZ


def test_community_records_its_county_office(tree):
    reply = tree.clients["membership"].call("CreateCommunity", m.CreateCommunityRequest(
        name="Oakland PLC", kind=m.COMMUNITY_KIND_PLC, host_organization_id="mem-school"),
        token=tree.token("county_admin", "mem-alameda"))
    assert reply.community.county_office_id == "mem-alameda"
    assert len(reply.community.id) == 24          # generated when not chosen


@pytest.mark.parametrize(("role", "org", "host", "code"), [
    ("county_admin", "mem-marin", "mem-school", grpc.StatusCode.PERMISSION_DENIED),   # another county
    ("regional_lead", "mem-bay", "mem-school", None),                                  # above: reaches down
    ("county_admin", "mem-alameda", "mem-bay", grpc.StatusCode.PERMISSION_DENIED),    # below cannot reach up
    ("member", "mem-school", "mem-school", grpc.StatusCode.PERMISSION_DENIED),        # role not allowed
    ("facilitator", "mem-alameda", "mem-school", grpc.StatusCode.PERMISSION_DENIED),
    ("platform_admin", "", "mem-school", None),
])
def test_who_may_create_a_community(tree, role, org, host, code):
    before = community_count(tree)
    request = m.CreateCommunityRequest(name="x", kind=m.COMMUNITY_KIND_PLC, host_organization_id=host)
    call = tree.clients["membership"].call
    if code is None:
        call("CreateCommunity", request, token=tree.token(role, org))
        assert community_count(tree) == before + 1
    else:
        assert rpc_error(call, "CreateCommunity", request, token=tree.token(role, org)).code == code
        assert community_count(tree) == before


def test_anonymous_writes_are_unauthenticated_and_reads_are_open(tree):
    call = tree.clients["membership"].call
    error = rpc_error(call, "CreateCommunity", m.CreateCommunityRequest(
        name="x", kind=m.COMMUNITY_KIND_PLC, host_organization_id="mem-school"))
    assert (error.code, error.reason) == (grpc.StatusCode.UNAUTHENTICATED, "TOKEN_REQUIRED")
    assert call("ListCommunities", m.ListCommunitiesRequest(host_organization_id="mem-school")).communities


def test_a_forged_token_is_refused(tree):
    from copnet.kernel import auth
    forged = auth.issue_token("someone-elses-secret-0123456789abcdef", "p", "platform_admin")
    error = rpc_error(tree.clients["membership"].call, "CreateOrganization",
                      m.CreateOrganizationRequest(name="x", kind=m.ORGANIZATION_KIND_STATE, time_zone=TZ),
                      token=forged)
    assert (error.code, error.reason) == (grpc.StatusCode.UNAUTHENTICATED, "TOKEN_INVALID")


@pytest.mark.parametrize(("request_fields", "field", "reason"), [
    ({"name": "x", "kind": m.ORGANIZATION_KIND_SCHOOL, "parent_id": "mem-bay"}, "parent_id", "INVALID_PARENT_KIND"),
    ({"name": "x", "kind": m.ORGANIZATION_KIND_DISTRICT, "parent_id": "nowhere"}, "parent_id", "UNKNOWN_PARENT"),
    ({"name": " ", "kind": m.ORGANIZATION_KIND_DISTRICT, "parent_id": "mem-alameda"}, "name", "INVALID_FIELD"),
    ({"name": "x", "parent_id": "mem-alameda"}, "kind", "INVALID_FIELD"),
    ({"name": "x", "kind": 99, "parent_id": "mem-alameda"}, "kind", "INVALID_FIELD"),
    ({"name": "x", "kind": m.ORGANIZATION_KIND_STATE, "time_zone": "Mars/Olympus"}, "time_zone", "INVALID_FIELD"),
    ({"name": "x", "kind": m.ORGANIZATION_KIND_STATE}, "time_zone", "INVALID_FIELD"),
    ({"organization_id": "Bad Id", "name": "x", "kind": m.ORGANIZATION_KIND_DISTRICT, "parent_id": "mem-alameda"},
     "organization_id", "INVALID_FIELD"),
    ({"name": "x", "kind": m.ORGANIZATION_KIND_DISTRICT, "parent_id": "mem-alameda", "code": "no spaces"},
     "code", "INVALID_FIELD"),
])
def test_bad_organizations_are_refused_naming_the_field(tree, request_fields, field, reason):
    error = rpc_error(tree.clients["membership"].call, "CreateOrganization",
                      m.CreateOrganizationRequest(**request_fields), token=tree.token("platform_admin"))
    assert error.code == grpc.StatusCode.INVALID_ARGUMENT
    assert (error.reason, [f.field for f in error.fields]) == (reason, [field])


def test_duplicate_id_and_duplicate_code_conflict_without_writing(tree):
    call, admin = tree.clients["membership"].call, tree.token("platform_admin")
    call("CreateOrganization", m.CreateOrganizationRequest(organization_id="mem-d1", name="D1", code="0161119",
                                                           kind=m.ORGANIZATION_KIND_DISTRICT, parent_id="mem-alameda"),
         token=admin)
    duplicate_id = rpc_error(call, "CreateOrganization", m.CreateOrganizationRequest(
        organization_id="mem-d1", name="other", kind=m.ORGANIZATION_KIND_DISTRICT, parent_id="mem-alameda"),
        token=admin)
    assert (duplicate_id.code, duplicate_id.reason) == (grpc.StatusCode.ALREADY_EXISTS, "DUPLICATE_ID")
    duplicate_code = rpc_error(call, "CreateOrganization", m.CreateOrganizationRequest(
        organization_id="mem-d2", name="D2", code="0161119", kind=m.ORGANIZATION_KIND_DISTRICT,
        parent_id="mem-alameda"), token=admin)
    assert (duplicate_code.code, duplicate_code.reason) == (grpc.StatusCode.ALREADY_EXISTS, "DUPLICATE_CODE")
    assert rpc_error(call, "GetOrganization", m.GetOrganizationRequest(id="mem-d2")).code == grpc.StatusCode.NOT_FOUND
    # The same code is fine for another kind (codes are unique per kind).
    call("CreateOrganization", m.CreateOrganizationRequest(organization_id="mem-s2", name="S2", code="0161119",
                                                           kind=m.ORGANIZATION_KIND_SCHOOL, parent_id="mem-d1"),
         token=admin)


def test_listing_pages_through_every_child_once(tree):
    call, admin = tree.clients["membership"].call, tree.token("platform_admin")
    for n in range(7):
        call("CreateOrganization", m.CreateOrganizationRequest(organization_id=f"mem-page-{n}", name=f"S{n}",
                                                               kind=m.ORGANIZATION_KIND_SCHOOL,
                                                               parent_id="mem-oakland"), token=admin)
    seen, token = [], ""
    while True:
        page = call("ListOrganizations", m.ListOrganizationsRequest(parent_id="mem-oakland", page_size=3,
                                                                    page_token=token))
        seen += [o.id for o in page.organizations]
        token = page.next_page_token
        if not token:
            break
    assert seen == sorted(["mem-school", *(f"mem-page-{n}" for n in range(7))])
    error = rpc_error(call, "ListOrganizations", m.ListOrganizationsRequest(parent_id="mem-bay", page_token=page_token_of(call)))
    assert [f.field for f in error.fields] == ["page_token"]


def page_token_of(call) -> str:
    return call("ListOrganizations", m.ListOrganizationsRequest(parent_id="mem-oakland", page_size=1)).next_page_token


def test_unknown_ids_are_not_found(tree):
    call = tree.clients["membership"].call
    assert rpc_error(call, "GetCommunity", m.GetCommunityRequest(id="nope")).code == grpc.StatusCode.NOT_FOUND
    assert rpc_error(call, "GetOrganization", m.GetOrganizationRequest(id="")).code == grpc.StatusCode.NOT_FOUND
