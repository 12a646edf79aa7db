"""membership over real gRPC: organization rules, access by role and scope, pagination."""

from __future__ import annotations

import grpc
import pymongo
import pytest
from copnet.kernel.errors import details_of
from copnet.membership.v1 import membership_pb2

from tests.integration.http import request
from tests.integration.jetstream_events import wait_for_types

pytestmark = pytest.mark.integration

TZ = "America/Los_Angeles"


@pytest.fixture(scope="module")
def tree(services):
    """state > region > two county offices > district > school, created by a platform admin."""
    admin = services.token("platform_admin")
    for org_id, kind, parent in (("mem-state", membership_pb2.ORGANIZATION_KIND_STATE, ""),
                                 ("mem-bay", membership_pb2.ORGANIZATION_KIND_REGION, "mem-state"),
                                 ("mem-alameda", membership_pb2.ORGANIZATION_KIND_COUNTY_OFFICE, "mem-bay"),
                                 ("mem-marin", membership_pb2.ORGANIZATION_KIND_COUNTY_OFFICE, "mem-bay"),
                                 ("mem-oakland", membership_pb2.ORGANIZATION_KIND_DISTRICT, "mem-alameda"),
                                 ("mem-school", membership_pb2.ORGANIZATION_KIND_SCHOOL, "mem-oakland")):
        services.membership(admin).CreateOrganization(membership_pb2.CreateOrganizationRequest(organization_id=org_id, name=org_id, kind=kind,
                                                                                               parent_id=parent, time_zone=TZ if not parent else ""))
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
    school = tree.membership().GetOrganization(membership_pb2.GetOrganizationRequest(id="mem-school"))
    assert list(school.organization.ancestor_ids) == ["mem-state", "mem-bay", "mem-alameda", "mem-oakland"]
    assert school.organization.time_zone == TZ


def test_community_records_its_county_office(tree):
    reply = tree.membership(tree.token("county_admin", "mem-alameda")).CreateCommunity(membership_pb2.CreateCommunityRequest(
        name="Oakland PLC", kind=membership_pb2.COMMUNITY_KIND_PLC, host_organization_id="mem-school"))
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
    request = membership_pb2.CreateCommunityRequest(name="x", kind=membership_pb2.COMMUNITY_KIND_PLC, host_organization_id=host)
    if code is None:
        tree.membership(tree.token(role, org)).CreateCommunity(request)
        assert community_count(tree) == before + 1
    else:
        assert rpc_error(tree.membership(tree.token(role, org)).CreateCommunity, request).code == code
        assert community_count(tree) == before


def test_anonymous_writes_are_unauthenticated_and_reads_are_open(tree):
    error = rpc_error(tree.membership().CreateCommunity, membership_pb2.CreateCommunityRequest(
        name="x", kind=membership_pb2.COMMUNITY_KIND_PLC, host_organization_id="mem-school"))
    assert (error.code, error.reason) == (grpc.StatusCode.UNAUTHENTICATED, "TOKEN_REQUIRED")
    assert tree.membership().ListCommunities(membership_pb2.ListCommunitiesRequest(host_organization_id="mem-school")).communities


def test_a_forged_token_is_refused(tree):
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from copnet.kernel import auth, token_keys
    stranger = Ed25519PrivateKey.generate()
    forged = auth.issue_token(auth.Signer(stranger, token_keys.key_id("people", stranger.public_key()),
                                          tree.settings.region), "p", "platform_admin")
    error = rpc_error(tree.membership(forged).CreateOrganization, membership_pb2.CreateOrganizationRequest(name="x", kind=membership_pb2.ORGANIZATION_KIND_STATE, time_zone=TZ))
    assert (error.code, error.reason) == (grpc.StatusCode.UNAUTHENTICATED, "TOKEN_INVALID")


@pytest.mark.parametrize(("request_fields", "field", "reason"), [
    ({"name": "x", "kind": membership_pb2.ORGANIZATION_KIND_SCHOOL, "parent_id": "mem-bay"}, "parent_id", "INVALID_PARENT_KIND"),
    ({"name": "x", "kind": membership_pb2.ORGANIZATION_KIND_DISTRICT, "parent_id": "nowhere"}, "parent_id", "UNKNOWN_PARENT"),
    ({"name": " ", "kind": membership_pb2.ORGANIZATION_KIND_DISTRICT, "parent_id": "mem-alameda"}, "name", "INVALID_FIELD"),
    ({"name": "x", "parent_id": "mem-alameda"}, "kind", "INVALID_FIELD"),
    ({"name": "x", "kind": 99, "parent_id": "mem-alameda"}, "kind", "INVALID_FIELD"),
    ({"name": "x", "kind": membership_pb2.ORGANIZATION_KIND_STATE, "time_zone": "Mars/Olympus"}, "time_zone", "UNKNOWN_TIME_ZONE"),
    ({"name": "x", "kind": membership_pb2.ORGANIZATION_KIND_STATE}, "time_zone", "INVALID_FIELD"),
    ({"organization_id": "Bad Id", "name": "x", "kind": membership_pb2.ORGANIZATION_KIND_DISTRICT, "parent_id": "mem-alameda"},
     "organization_id", "INVALID_FIELD"),
    ({"name": "x", "kind": membership_pb2.ORGANIZATION_KIND_DISTRICT, "parent_id": "mem-alameda", "code": "no spaces"},
     "code", "INVALID_FIELD"),
])
def test_bad_organizations_are_refused_naming_the_field(tree, request_fields, field, reason):
    error = rpc_error(tree.membership(tree.token("platform_admin")).CreateOrganization, membership_pb2.CreateOrganizationRequest(**request_fields))
    assert error.code == grpc.StatusCode.INVALID_ARGUMENT
    assert (error.reason, [f.field for f in error.fields]) == (reason, [field])


def test_duplicate_id_and_duplicate_code_conflict_without_writing(tree):
    admin = tree.token("platform_admin")
    tree.membership(admin).CreateOrganization(membership_pb2.CreateOrganizationRequest(organization_id="mem-d1", name="D1", code="0161119",
                                                                                       kind=membership_pb2.ORGANIZATION_KIND_DISTRICT, parent_id="mem-alameda"))
    duplicate_id = rpc_error(tree.membership(admin).CreateOrganization, membership_pb2.CreateOrganizationRequest(
        organization_id="mem-d1", name="other", kind=membership_pb2.ORGANIZATION_KIND_DISTRICT, parent_id="mem-alameda"))
    assert (duplicate_id.code, duplicate_id.reason) == (grpc.StatusCode.ALREADY_EXISTS, "DUPLICATE_ID")
    duplicate_code = rpc_error(tree.membership(admin).CreateOrganization, membership_pb2.CreateOrganizationRequest(
        organization_id="mem-d2", name="D2", code="0161119", kind=membership_pb2.ORGANIZATION_KIND_DISTRICT,
        parent_id="mem-alameda"))
    assert (duplicate_code.code, duplicate_code.reason) == (grpc.StatusCode.ALREADY_EXISTS, "DUPLICATE_CODE")
    assert rpc_error(tree.membership().GetOrganization, membership_pb2.GetOrganizationRequest(id="mem-d2")).code == grpc.StatusCode.NOT_FOUND
    # The same code is fine for another kind (codes are unique per kind).
    tree.membership(admin).CreateOrganization(membership_pb2.CreateOrganizationRequest(organization_id="mem-s2", name="S2", code="0161119",
                                                                                       kind=membership_pb2.ORGANIZATION_KIND_SCHOOL, parent_id="mem-d1"))


def test_listing_pages_through_every_child_once(tree):
    admin = tree.token("platform_admin")
    for n in range(7):
        tree.membership(admin).CreateOrganization(membership_pb2.CreateOrganizationRequest(organization_id=f"mem-page-{n}", name=f"S{n}",
                                                                                           kind=membership_pb2.ORGANIZATION_KIND_SCHOOL,
                                                                                           parent_id="mem-oakland"))
    seen, token = [], ""
    while True:
        page = tree.membership().ListOrganizations(membership_pb2.ListOrganizationsRequest(parent_id="mem-oakland", page_size=3,
                                                                                           page_token=token))
        seen += [o.id for o in page.organizations]
        token = page.next_page_token
        if not token:
            break
    assert seen == sorted(["mem-school", *(f"mem-page-{n}" for n in range(7))])
    error = rpc_error(tree.membership().ListOrganizations, membership_pb2.ListOrganizationsRequest(parent_id="mem-bay", page_token=page_token_of(tree.membership())))
    assert [f.field for f in error.fields] == ["page_token"]


def page_token_of(membership) -> str:
    return membership.ListOrganizations(membership_pb2.ListOrganizationsRequest(parent_id="mem-oakland", page_size=1)).next_page_token


def test_unknown_ids_are_not_found(tree):
    assert rpc_error(tree.membership().GetCommunity, membership_pb2.GetCommunityRequest(id="nope")).code == grpc.StatusCode.NOT_FOUND
    assert rpc_error(tree.membership().GetOrganization, membership_pb2.GetOrganizationRequest(id="")).code == grpc.StatusCode.NOT_FOUND


# -- regions, filters, updates ---------------------------------------------------------------------
def organization(services, org_id: str) -> membership_pb2.Organization:
    return services.membership().GetOrganization(membership_pb2.GetOrganizationRequest(id=org_id)).organization


def create_org(services, org_id: str, kind, parent: str, token: str | None = None, **fields) -> membership_pb2.Organization:
    return services.membership(token or services.token("platform_admin")).CreateOrganization(membership_pb2.CreateOrganizationRequest(
        organization_id=org_id, name=org_id, kind=kind, parent_id=parent, **fields)).organization


def listed(membership, **filters) -> list[str]:
    ids, token = [], ""
    while True:
        page = membership.ListOrganizations(membership_pb2.ListOrganizationsRequest(page_size=2, page_token=token, **filters))
        ids += [o.id for o in page.organizations]
        token = page.next_page_token
        if not token:
            return ids


def test_region_is_its_own_inherited_below_and_empty_above(tree):
    assert organization(tree, "mem-state").region_id == ""
    assert organization(tree, "mem-bay").region_id == "mem-bay"
    assert organization(tree, "mem-school").region_id == "mem-bay"
    school = organization(tree, "mem-school")
    assert school.HasField("update_time") and school.parent_history == []


@pytest.fixture(scope="module")
def filtered(tree):
    """A second region with its own county, district and school, to tell the filters apart."""
    create_org(tree, "mem-f-south", membership_pb2.ORGANIZATION_KIND_REGION, "mem-state")
    create_org(tree, "mem-f-county", membership_pb2.ORGANIZATION_KIND_COUNTY_OFFICE, "mem-f-south")
    create_org(tree, "mem-f-district", membership_pb2.ORGANIZATION_KIND_DISTRICT, "mem-f-county")
    create_org(tree, "mem-f-school", membership_pb2.ORGANIZATION_KIND_SCHOOL, "mem-f-district")
    create_org(tree, "mem-f-school2", membership_pb2.ORGANIZATION_KIND_SCHOOL, "mem-f-district")
    return tree


def test_list_filters_by_region_ancestor_and_kind_combined(filtered):
    assert listed(filtered.membership(), region_id="mem-f-south") == ["mem-f-county", "mem-f-district", "mem-f-school",
                                                     "mem-f-school2", "mem-f-south"]
    assert listed(filtered.membership(), ancestor_id="mem-f-county") == ["mem-f-district", "mem-f-school", "mem-f-school2"]
    assert listed(filtered.membership(), region_id="mem-f-south", kind=membership_pb2.ORGANIZATION_KIND_SCHOOL) == ["mem-f-school",
                                                                                        "mem-f-school2"]
    assert listed(filtered.membership(), ancestor_id="mem-f-county", parent_id="mem-f-district",
                  kind=membership_pb2.ORGANIZATION_KIND_DISTRICT) == []
    first = filtered.membership().ListOrganizations(membership_pb2.ListOrganizationsRequest(region_id="mem-f-south", page_size=1))
    error = rpc_error(filtered.membership().ListOrganizations, membership_pb2.ListOrganizationsRequest(
        region_id="mem-f-south", kind=membership_pb2.ORGANIZATION_KIND_SCHOOL, page_size=1, page_token=first.next_page_token))
    assert [f.field for f in error.fields] == ["page_token"]


def test_update_renames_recodes_and_changes_the_time_zone(tree):
    create_org(tree, "mem-u-district", membership_pb2.ORGANIZATION_KIND_DISTRICT, "mem-marin", code="U1")
    before = organization(tree, "mem-u-district")
    updated = tree.membership(tree.token("county_admin", "mem-marin")).UpdateOrganization(membership_pb2.UpdateOrganizationRequest(
        id="mem-u-district", name="Renamed USD", code="U2", time_zone="America/Denver")).organization
    assert (updated.name, updated.code, updated.time_zone) == ("Renamed USD", "U2", "America/Denver")
    assert updated.update_time.ToDatetime() >= before.update_time.ToDatetime()
    assert organization(tree, "mem-u-district") == updated
    # Unset fields stay; an empty code clears it, and the old code is free again.
    cleared = tree.membership(tree.token("platform_admin")).UpdateOrganization(membership_pb2.UpdateOrganizationRequest(id="mem-u-district", code="")).organization
    assert (cleared.name, cleared.code) == ("Renamed USD", "")
    create_org(tree, "mem-u-other", membership_pb2.ORGANIZATION_KIND_DISTRICT, "mem-marin", code="U2")


def test_update_refuses_a_taken_code_a_bad_time_zone_and_outsiders(tree):
    create_org(tree, "mem-u2-a", membership_pb2.ORGANIZATION_KIND_DISTRICT, "mem-alameda", code="TAKEN-1")
    create_org(tree, "mem-u2-b", membership_pb2.ORGANIZATION_KIND_DISTRICT, "mem-alameda")
    admin = tree.token("county_admin", "mem-alameda")
    taken = rpc_error(tree.membership(admin).UpdateOrganization, membership_pb2.UpdateOrganizationRequest(id="mem-u2-b", code="TAKEN-1"))
    assert (taken.code, taken.reason) == (grpc.StatusCode.ALREADY_EXISTS, "DUPLICATE_CODE")
    zone = rpc_error(tree.membership(admin).UpdateOrganization, membership_pb2.UpdateOrganizationRequest(id="mem-u2-b", time_zone="Mars/Base"))
    assert (zone.code, [f.field for f in zone.fields]) == (grpc.StatusCode.INVALID_ARGUMENT, ["time_zone"])
    outsider = rpc_error(tree.membership(tree.token("county_admin", "mem-marin")).UpdateOrganization, membership_pb2.UpdateOrganizationRequest(id="mem-u2-b", name="Mine"))
    assert (outsider.code, outsider.reason) == (grpc.StatusCode.PERMISSION_DENIED, "OUT_OF_SCOPE")
    teacher = rpc_error(tree.membership(tree.token("member", "mem-u2-b")).UpdateOrganization, membership_pb2.UpdateOrganizationRequest(id="mem-u2-b", name="Mine"))
    assert teacher.code == grpc.StatusCode.PERMISSION_DENIED
    anonymous = rpc_error(tree.membership().UpdateOrganization, membership_pb2.UpdateOrganizationRequest(id="mem-u2-b", name="Mine"))
    assert anonymous.code == grpc.StatusCode.UNAUTHENTICATED
    assert rpc_error(tree.membership(tree.token("platform_admin")).UpdateOrganization, membership_pb2.UpdateOrganizationRequest(id="mem-nowhere", name="x")).code == grpc.StatusCode.NOT_FOUND
    assert organization(tree, "mem-u2-b").name == "mem-u2-b" and organization(tree, "mem-u2-b").code == ""


# -- moves -------------------------------------------------------------------------------------------
def membership_db(services):
    client = pymongo.MongoClient(services.mongodb_uri)
    return client, client[services.settings.database_name("membership")]


@pytest.fixture(scope="module")
def moving(tree):
    """A school with a community, a person and a program-less subtree, in Alameda, ready to move to Marin."""
    admin = tree.token("platform_admin")
    create_org(tree, "mem-mv-from", membership_pb2.ORGANIZATION_KIND_DISTRICT, "mem-alameda")
    create_org(tree, "mem-mv-to", membership_pb2.ORGANIZATION_KIND_DISTRICT, "mem-marin")
    school = create_org(tree, "mem-mv-school", membership_pb2.ORGANIZATION_KIND_SCHOOL, "mem-mv-from")
    tree.membership(admin).CreateCommunity(membership_pb2.CreateCommunityRequest(community_id="mem-mv-plc", name="PLC", kind=membership_pb2.COMMUNITY_KIND_PLC,
                                                                                 host_organization_id="mem-mv-school"))
    tree.membership(admin).CreatePerson(membership_pb2.CreatePersonRequest(
        person_id="mem-mv-teacher", name="Mover", email="mover@mem.example",
        affiliations=[membership_pb2.Affiliation(organization_id="mem-mv-school", position=membership_pb2.POSITION_TEACHER),
                      membership_pb2.Affiliation(organization_id="mem-mv-from", position=membership_pb2.POSITION_COACH)]))
    return tree, school


@pytest.mark.parametrize(("role", "org"), [
    ("county_admin", "mem-alameda"),    # reaches the old parent only
    ("county_admin", "mem-marin"),      # reaches the new parent only
    ("member", "mem-bay"),
])
def test_a_move_needs_a_manager_over_both_parents(moving, role, org):
    tree, _school = moving
    error = rpc_error(tree.membership(tree.token(role, org)).MoveOrganization, membership_pb2.MoveOrganizationRequest(id="mem-mv-school", new_parent_id="mem-mv-to"))
    assert (error.code, error.reason) == (grpc.StatusCode.PERMISSION_DENIED, "OUT_OF_SCOPE")
    assert organization(tree, "mem-mv-school").parent_id == "mem-mv-from"


def test_moving_a_school_keeps_history_and_rewrites_everything_that_copied_its_place(moving):
    tree, school = moving
    moved = tree.membership(tree.token("regional_lead", "mem-bay", person="lead-1")).MoveOrganization(membership_pb2.MoveOrganizationRequest(id="mem-mv-school", new_parent_id="mem-mv-to")).organization
    assert (moved.parent_id, list(moved.ancestor_ids)) == ("mem-mv-to", ["mem-state", "mem-bay", "mem-marin",
                                                                         "mem-mv-to"])
    [change] = moved.parent_history
    assert (change.parent_id, change.moved_by) == ("mem-mv-from", "lead-1")
    assert change.from_time == school.create_time and change.until_time == moved.update_time
    assert organization(tree, "mem-mv-school") == moved

    community = tree.membership().GetCommunity(membership_pb2.GetCommunityRequest(id="mem-mv-plc")).community
    assert community.county_office_id == "mem-marin"
    client, database = membership_db(tree)
    with client:
        assert database.communities.find_one({"_id": "mem-mv-plc"})["scope"] == list(moved.ancestor_ids) + [moved.id]
        person = database.people.find_one({"_id": "mem-mv-teacher"})
    # The coach affiliation at the old district stays where it was; the school one moved along.
    assert [a["scope"] for a in person["affiliations"]] == [[*moved.ancestor_ids, moved.id],
                                                           ["mem-state", "mem-bay", "mem-alameda", "mem-mv-from"]]
    assert set(person["scope"]) == {"mem-state", "mem-bay", "mem-marin", "mem-mv-to", "mem-mv-school",
                                    "mem-alameda", "mem-mv-from"}
    # Marin's county admin now reaches the person through the moved school.
    tree.membership(tree.token("county_admin", "mem-marin")).GetPerson(membership_pb2.GetPersonRequest(id="mem-mv-teacher"))

    # Moving back appends a second placement: the history is kept, oldest first.
    back = tree.membership(tree.token("platform_admin", person="admin-2")).MoveOrganization(membership_pb2.MoveOrganizationRequest(id="mem-mv-school", new_parent_id="mem-mv-from")).organization
    assert [(c.parent_id, c.moved_by) for c in back.parent_history] == [("mem-mv-from", "lead-1"),
                                                                        ("mem-mv-to", "admin-2")]
    assert back.parent_history[1].from_time == moved.update_time

    created, moved_type = "copnet.membership.organization.created", "copnet.membership.organization.moved"
    events = wait_for_types(tree, "membership.organization.*", "mem-mv-school", [created, moved_type, moved_type])
    assert [(e.data["changed_by"], e.data["organization"]["parent_id"]) for e in events[1:]] == [
        ("lead-1", "mem-mv-to"), ("admin-2", "mem-mv-from")]


def test_moving_a_district_carries_its_schools_and_their_people(tree):
    admin = tree.token("platform_admin")
    create_org(tree, "mem-mv2-district", membership_pb2.ORGANIZATION_KIND_DISTRICT, "mem-alameda")
    create_org(tree, "mem-mv2-school", membership_pb2.ORGANIZATION_KIND_SCHOOL, "mem-mv2-district")
    tree.membership(admin).CreatePerson(membership_pb2.CreatePersonRequest(
        person_id="mem-mv2-teacher", name="Deep", email="deep@mem.example",
        affiliations=[membership_pb2.Affiliation(organization_id="mem-mv2-school", position=membership_pb2.POSITION_TEACHER)]))
    tree.membership(admin).MoveOrganization(membership_pb2.MoveOrganizationRequest(id="mem-mv2-district", new_parent_id="mem-marin"))
    child = organization(tree, "mem-mv2-school")
    assert list(child.ancestor_ids) == ["mem-state", "mem-bay", "mem-marin", "mem-mv2-district"]
    assert child.parent_history == []  # only the moved organization changed parent
    assert "mem-mv2-school" in listed(tree.membership(), ancestor_id="mem-marin")
    assert "mem-mv2-school" not in listed(tree.membership(), ancestor_id="mem-alameda")
    outsider = rpc_error(tree.membership(tree.token("county_admin", "mem-alameda")).GetPerson, membership_pb2.GetPersonRequest(id="mem-mv2-teacher"))
    assert outsider.code == grpc.StatusCode.NOT_FOUND  # out of reach reads like nobody


def test_moving_a_region_to_another_state_rewrites_region_scopes_and_programs(tree):
    admin = tree.token("platform_admin")
    create_org(tree, "mem-mv3-state", membership_pb2.ORGANIZATION_KIND_STATE, "", time_zone=TZ)
    create_org(tree, "mem-mv3-region", membership_pb2.ORGANIZATION_KIND_REGION, "mem-state")
    create_org(tree, "mem-mv3-county", membership_pb2.ORGANIZATION_KIND_COUNTY_OFFICE, "mem-mv3-region")
    client, database = membership_db(tree)
    with client:  # programs are owned by a region; written directly so this test needs only organizations
        database.programs.insert_one({"_id": "mem-mv3-program", "name": "P", "owner_organization_id": "mem-mv3-region",
                                      "scope": ["mem-state", "mem-mv3-region"], "program_year": "2026-27"})
        tree.membership(admin).MoveOrganization(membership_pb2.MoveOrganizationRequest(id="mem-mv3-region", new_parent_id="mem-mv3-state"))
        assert database.programs.find_one({"_id": "mem-mv3-program"})["scope"] == ["mem-mv3-state", "mem-mv3-region"]
    county = organization(tree, "mem-mv3-county")
    assert (list(county.ancestor_ids), county.region_id) == (["mem-mv3-state", "mem-mv3-region"], "mem-mv3-region")


@pytest.mark.parametrize(("org_id", "new_parent", "code", "reason"), [
    ("mem-oakland", "mem-school", grpc.StatusCode.INVALID_ARGUMENT, "MOVE_INTO_OWN_SUBTREE"),
    ("mem-oakland", "mem-oakland", grpc.StatusCode.INVALID_ARGUMENT, "MOVE_INTO_OWN_SUBTREE"),
    ("mem-school", "mem-marin", grpc.StatusCode.INVALID_ARGUMENT, "INVALID_PARENT_KIND"),
    ("mem-school", "mem-nowhere", grpc.StatusCode.INVALID_ARGUMENT, "UNKNOWN_PARENT"),
    ("mem-nowhere", "mem-oakland", grpc.StatusCode.NOT_FOUND, "NOT_FOUND"),
])
def test_bad_moves_are_refused(tree, org_id, new_parent, code, reason):
    error = rpc_error(tree.membership(tree.token("platform_admin")).MoveOrganization, membership_pb2.MoveOrganizationRequest(id=org_id, new_parent_id=new_parent))
    assert (error.code, error.reason) == (code, reason)
    if code == grpc.StatusCode.INVALID_ARGUMENT:
        assert [f.field for f in error.fields] == ["new_parent_id"]
    assert organization(tree, "mem-school").parent_id == "mem-oakland"
    assert organization(tree, "mem-oakland").parent_id == "mem-alameda"


# -- networks ----------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def network(tree):
    create_org(tree, "mem-net", membership_pb2.ORGANIZATION_KIND_NETWORK, "mem-bay")
    return tree


def test_network_membership_is_idempotent_listed_and_removable(network):
    alameda = network.token("county_admin", "mem-alameda")  # over the member, not over the network
    add = membership_pb2.AddNetworkMemberRequest(network_id="mem-net", organization_id="mem-school")
    first = network.membership(alameda).AddNetworkMember(add).organization
    again = network.membership(alameda).AddNetworkMember(add).organization
    assert list(first.network_ids) == list(again.network_ids) == ["mem-net"]
    assert again.update_time == first.update_time  # nothing changed the second time
    assert listed(network.membership(), network_id="mem-net") == ["mem-school"]
    removed = network.membership(network.token("regional_lead", "mem-bay")).RemoveNetworkMember(membership_pb2.RemoveNetworkMemberRequest(network_id="mem-net",
                                                                                                                                          organization_id="mem-school")).organization
    assert list(removed.network_ids) == [] and listed(network.membership(), network_id="mem-net") == []
    not_member = rpc_error(network.membership(alameda).RemoveNetworkMember, membership_pb2.RemoveNetworkMemberRequest(
        network_id="mem-net", organization_id="mem-school"))
    assert (not_member.code, not_member.reason) == (grpc.StatusCode.FAILED_PRECONDITION, "NOT_A_MEMBER")
    # One event per change: the second add changed nothing, the failed removal wrote nothing.
    prefix = "copnet.membership.organization."
    events = wait_for_types(network, "membership.organization.*", "mem-school",
                            [prefix + "created", prefix + "network_member_added", prefix + "network_member_removed"])
    assert events[1].data["organization"]["network_ids"] == ["mem-net"]


@pytest.mark.parametrize(("network_id", "member", "role", "org", "code", "reason"), [
    ("mem-net", "mem-school", "county_admin", "mem-marin", grpc.StatusCode.PERMISSION_DENIED, "OUT_OF_SCOPE"),
    ("mem-net", "mem-school", "member", "mem-school", grpc.StatusCode.PERMISSION_DENIED, "OUT_OF_SCOPE"),
    ("mem-oakland", "mem-school", "platform_admin", "", grpc.StatusCode.INVALID_ARGUMENT, "NOT_A_NETWORK"),
    ("mem-net", "mem-net", "platform_admin", "", grpc.StatusCode.INVALID_ARGUMENT, "NETWORK_CANNOT_JOIN_NETWORK"),
    ("mem-net", "mem-nowhere", "platform_admin", "", grpc.StatusCode.NOT_FOUND, "NOT_FOUND"),
])
def test_bad_network_changes_are_refused(network, network_id, member, role, org, code, reason):
    error = rpc_error(network.membership(network.token(role, org)).AddNetworkMember, membership_pb2.AddNetworkMemberRequest(network_id=network_id,
                                                                                                              organization_id=member))
    assert (error.code, error.reason) == (code, reason)
    assert "mem-net" not in organization(network, "mem-school").network_ids


# -- the same through the gateway's REST routes ----------------------------------------------------
@pytest.fixture(scope="module")
def rest(stack, tree):
    create_org(tree, "mem-r-district", membership_pb2.ORGANIZATION_KIND_DISTRICT, "mem-alameda")
    create_org(tree, "mem-r-school", membership_pb2.ORGANIZATION_KIND_SCHOOL, "mem-r-district")
    create_org(tree, "mem-r-net", membership_pb2.ORGANIZATION_KIND_NETWORK, "mem-state")

    def call(method: str, path: str, body=None, token: str | None = None):
        kwargs = {"json_body": body} if body is not None else {}
        return request(method, f"{stack.gateway_url}/api/v1/orgs{path}", token=token, **kwargs)
    call.token = stack.token
    return call


def test_rest_patch_move_and_network_members(rest):
    admin = rest.token("county_admin", "mem-alameda")
    patched = rest("PATCH", "/mem-r-district", {"name": "R District", "code": "R-1"}, token=admin)
    assert patched.status == 200, patched.text
    assert (patched.json()["name"], patched.json()["code"], patched.json()["region_id"]) == ("R District", "R-1",
                                                                                           "mem-bay")
    cleared = rest("PATCH", "/mem-r-district", {"code": None}, token=admin).json()
    assert (cleared["name"], cleared["code"]) == ("R District", None)

    moved = rest("POST", "/mem-r-school/move", {"parent_id": "mem-oakland"}, token=admin)
    assert moved.status == 200, moved.text
    [change] = moved.json()["parent_history"]
    assert (change["parent_id"], change["moved_by"]) == ("mem-r-district", "tester")
    assert change["until_at"] == moved.json()["updated_at"]

    joined = rest("PUT", "/mem-r-net/members/mem-r-school", {}, token=admin)
    assert joined.status == 200 and joined.json()["network_ids"] == ["mem-r-net"], joined.text
    listed = rest("GET", "?network_id=mem-r-net").json()["items"]
    assert [item["id"] for item in listed] == ["mem-r-school"]
    assert rest("DELETE", "/mem-r-net/members/mem-r-school", token=admin).json()["network_ids"] == []
    gone = rest("DELETE", "/mem-r-net/members/mem-r-school", token=admin)
    assert (gone.status, gone.json()["reason"]) == (409, "NOT_A_MEMBER")


@pytest.mark.parametrize(("method", "path", "body", "token_of", "status", "reason"), [
    ("PATCH", "/mem-r-district", {"name": "x"}, None, 401, "TOKEN_REQUIRED"),
    ("PATCH", "/mem-r-district", {"name": "x"}, ("county_admin", "mem-marin"), 403, "OUT_OF_SCOPE"),
    ("PATCH", "/mem-r-district", {"time_zone": "Nowhere/Town"}, ("platform_admin", ""), 422, "UNKNOWN_TIME_ZONE"),
    ("PATCH", "/mem-r-district", {"colour": "red"}, ("platform_admin", ""), 422, "VALIDATION_FAILED"),
    ("POST", "/mem-r-district/move", {"parent_id": "mem-marin"}, None, 401, "TOKEN_REQUIRED"),
    ("POST", "/mem-r-district/move", {"parent_id": "mem-marin"}, ("county_admin", "mem-alameda"), 403,
     "OUT_OF_SCOPE"),
    ("POST", "/mem-r-district/move", {"parent_id": "mem-bay"}, ("platform_admin", ""), 422, "INVALID_PARENT_KIND"),
    ("POST", "/mem-nowhere/move", {"parent_id": "mem-marin"}, ("platform_admin", ""), 404, "NOT_FOUND"),
    ("PUT", "/mem-r-net/members/mem-r-district", {}, None, 401, "TOKEN_REQUIRED"),
    # A member holds no role that may change organizations anywhere: refused by the gateway at once.
    ("PUT", "/mem-r-net/members/mem-r-district", {}, ("member", "mem-r-district"), 403, "ROLE_REQUIRED"),
    ("PUT", "/mem-r-net/members/mem-r-district", {}, ("county_admin", "mem-marin"), 403, "OUT_OF_SCOPE"),
    ("PUT", "/mem-r-district/members/mem-school", {}, ("platform_admin", ""), 422, "NOT_A_NETWORK"),
])
def test_rest_refusals(rest, method, path, body, token_of, status, reason):
    reply = rest(method, path, body, token=rest.token(*token_of) if token_of else None)
    assert (reply.status, reply.json().get("reason")) == (status, reason), reply.text
    if status == 422 and method == "POST":
        assert [e["field"] for e in reply.json()["errors"]] == ["parent_id"]
    district = rest("GET", "/mem-r-district").json()
    assert district["name"] != "x" and district["time_zone"] == TZ
    assert (district["parent_id"], district["network_ids"]) == ("mem-alameda", [])
