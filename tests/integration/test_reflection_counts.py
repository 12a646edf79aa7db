"""Reflection's community counts per county office follow the communities when the organization
tree changes under them: a subtree moved to another county office takes its communities' counts
along, and a community hosted above county level starts counting once its host moves under a
county office."""

from __future__ import annotations

import pytest

from copnet.membership.v1 import membership_pb2
from copnet.reflection.v1 import reflection_pb2

pytestmark = pytest.mark.integration


def create_organizations(services, *organizations: tuple[str, int, str]) -> None:
    for org_id, kind, parent in organizations:
        services.membership(services.token("platform_admin")).CreateOrganization(membership_pb2.CreateOrganizationRequest(
            organization_id=org_id, name=org_id, kind=kind, parent_id=parent, time_zone="America/Los_Angeles"))


def create_community(services, host: str, community_id: str) -> None:
    services.membership(services.token("platform_admin")).CreateCommunity(membership_pb2.CreateCommunityRequest(
        community_id=community_id, name=community_id, kind=membership_pb2.COMMUNITY_KIND_PLC, host_organization_id=host))


def move(services, organization: str, new_parent: str) -> None:
    services.membership(services.token("platform_admin")).MoveOrganization(membership_pb2.MoveOrganizationRequest(
        id=organization, new_parent_id=new_parent))


def counts(services, *county_offices: str) -> tuple[int, ...]:
    reflection = services.reflection()
    return tuple(reflection.GetCommunityCount(reflection_pb2.GetCommunityCountRequest(county_office_id=county))
                 .community_count.communities for county in county_offices)


def wait_for_counts(services, county_offices: tuple[str, ...], expected: tuple[int, ...], what: str) -> None:
    services.wait_for(lambda: counts(services, *county_offices) == expected, timeout=60, what=what)


def test_a_district_moved_to_another_county_office_takes_its_communities_counts_along(services):
    create_organizations(
        services,
        ("mv-state", membership_pb2.ORGANIZATION_KIND_STATE, ""), ("mv-region", membership_pb2.ORGANIZATION_KIND_REGION, "mv-state"),
        ("mv-coe-a", membership_pb2.ORGANIZATION_KIND_COUNTY_OFFICE, "mv-region"),
        ("mv-coe-b", membership_pb2.ORGANIZATION_KIND_COUNTY_OFFICE, "mv-region"),
        ("mv-usd", membership_pb2.ORGANIZATION_KIND_DISTRICT, "mv-coe-a"), ("mv-ms", membership_pb2.ORGANIZATION_KIND_SCHOOL, "mv-usd"))
    for host, community in (("mv-usd", "mv-district-plc"), ("mv-ms", "mv-school-plc"),
                            ("mv-coe-a", "mv-county-a-plc"), ("mv-coe-b", "mv-county-b-plc")):
        create_community(services, host, community)
    both = ("mv-coe-a", "mv-coe-b")
    wait_for_counts(services, both, (3, 1), "the communities counted where they were created")

    move(services, "mv-usd", "mv-coe-b")
    # The district's community and its school's both count toward the new county office now.
    wait_for_counts(services, both, (1, 3), "the district's communities counted toward mv-coe-b")

    move(services, "mv-usd", "mv-coe-a")
    wait_for_counts(services, both, (3, 1), "the district's communities counted toward mv-coe-a again")

    # A new community in the district counts where the district is now.
    create_community(services, "mv-ms", "mv-school-plc-2")
    wait_for_counts(services, both, (4, 1), "a later community counted toward the district's county office")


def test_a_community_above_county_level_counts_once_its_host_moves_under_a_county_office(services):
    create_organizations(
        services,
        ("nw-state", membership_pb2.ORGANIZATION_KIND_STATE, ""), ("nw-region", membership_pb2.ORGANIZATION_KIND_REGION, "nw-state"),
        ("nw-coe", membership_pb2.ORGANIZATION_KIND_COUNTY_OFFICE, "nw-region"),
        ("nw-network", membership_pb2.ORGANIZATION_KIND_NETWORK, "nw-state"))
    create_community(services, "nw-coe", "nw-county-plc")
    create_community(services, "nw-network", "nw-network-plc")
    wait_for_counts(services, ("nw-coe",), (1,), "only the county office's own community counted")

    move(services, "nw-network", "nw-coe")
    wait_for_counts(services, ("nw-coe",), (2,), "the network's community counted once it sits under nw-coe")

    move(services, "nw-network", "nw-region")
    wait_for_counts(services, ("nw-coe",), (1,), "the network's community no longer counted")
    listed = {c.county_office_id: c.communities for c in services.reflection().ListCommunityCounts(
        reflection_pb2.ListCommunityCountsRequest(page_size=1000)).community_counts}
    assert listed.get("nw-coe") == 1
