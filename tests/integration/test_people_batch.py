"""membership's BatchGetPeople and BatchCreatePeople (a roster import's calls): each person read or
created under GetPerson's and CreatePerson's rules, a refused one reported without stopping the rest."""

from __future__ import annotations

import grpc
import pytest

from copnet.membership.v1 import membership_pb2

pytestmark = pytest.mark.integration

PREFIX = "pb"


def teacher(person_id: str, org: str, email: str | None = None) -> membership_pb2.CreatePersonRequest:
    return membership_pb2.CreatePersonRequest(
        person_id=person_id, name=f"Teacher {person_id}", email=email or f"{person_id}@pb.example",
        grade_bands=[membership_pb2.GRADE_BAND_3_5],
        affiliations=[membership_pb2.Affiliation(organization_id=org, position=membership_pb2.POSITION_TEACHER)])


@pytest.fixture(scope="module")
def tree(stack):
    """state > region > county A (district > school) and county B (district)."""
    admin = stack.membership(stack.token("platform_admin"))
    for org_id, kind, parent in (
            (f"{PREFIX}-state", membership_pb2.ORGANIZATION_KIND_STATE, ""),
            (f"{PREFIX}-region", membership_pb2.ORGANIZATION_KIND_REGION, f"{PREFIX}-state"),
            (f"{PREFIX}-county-a", membership_pb2.ORGANIZATION_KIND_COUNTY_OFFICE, f"{PREFIX}-region"),
            (f"{PREFIX}-county-b", membership_pb2.ORGANIZATION_KIND_COUNTY_OFFICE, f"{PREFIX}-region"),
            (f"{PREFIX}-district-a", membership_pb2.ORGANIZATION_KIND_DISTRICT, f"{PREFIX}-county-a"),
            (f"{PREFIX}-school-a", membership_pb2.ORGANIZATION_KIND_SCHOOL, f"{PREFIX}-district-a"),
            (f"{PREFIX}-district-b", membership_pb2.ORGANIZATION_KIND_DISTRICT, f"{PREFIX}-county-b")):
        admin.CreateOrganization(membership_pb2.CreateOrganizationRequest(
            organization_id=org_id, name=org_id, kind=kind, parent_id=parent,
            time_zone="" if parent else "America/Los_Angeles"))
    admin.CreatePerson(teacher(f"{PREFIX}-elsewhere", f"{PREFIX}-district-b"))
    return stack.membership(stack.token("county_admin", f"{PREFIX}-county-a", person=f"{PREFIX}-admin"))


def test_each_person_is_created_or_refused_with_create_persons_reason_in_order(tree, stack):
    results = tree.BatchCreatePeople(membership_pb2.BatchCreatePeopleRequest(requests=[
        teacher(f"{PREFIX}-t1", f"{PREFIX}-school-a"),
        teacher(f"{PREFIX}-elsewhere", f"{PREFIX}-school-a"),  # exists, outside this admin's reach
        teacher(f"{PREFIX}-t2", f"{PREFIX}-school-a", email=f"{PREFIX}-elsewhere@pb.example"),
        teacher(f"{PREFIX}-t3", f"{PREFIX}-district-b"),  # another county office's district
        teacher(f"{PREFIX}-t4", f"{PREFIX}-nowhere"),
        teacher(f"{PREFIX}-t5", f"{PREFIX}-school-a", email="not an email"),
        teacher(f"{PREFIX}-t1", f"{PREFIX}-school-a", email=f"{PREFIX}-t1b@pb.example"),  # twice in one call
        teacher(f"{PREFIX}-t6", f"{PREFIX}-district-a"),
    ])).results
    assert [(r.person_id, r.created, r.reason) for r in results] == [
        (f"{PREFIX}-t1", True, ""),
        (f"{PREFIX}-elsewhere", False, "DUPLICATE_ID"),
        (f"{PREFIX}-t2", False, "DUPLICATE_EMAIL"),
        (f"{PREFIX}-t3", False, "OUT_OF_SCOPE"),
        (f"{PREFIX}-t4", False, "UNKNOWN_ORGANIZATION"),
        (f"{PREFIX}-t5", False, "INVALID_EMAIL"),
        (f"{PREFIX}-t1", False, "DUPLICATE_ID"),
        (f"{PREFIX}-t6", True, ""),
    ]
    assert "affiliations[0].organization_id" in results[4].message
    created = tree.GetPerson(membership_pb2.GetPersonRequest(id=f"{PREFIX}-t6")).person
    assert created.name == f"Teacher {PREFIX}-t6" and list(created.grade_bands) == [membership_pb2.GRADE_BAND_3_5]
    assert [a.organization_id for a in created.affiliations] == [f"{PREFIX}-district-a"]


def test_reading_many_leaves_out_nobody_and_those_out_of_reach(tree):
    tree.BatchCreatePeople(membership_pb2.BatchCreatePeopleRequest(requests=[teacher(f"{PREFIX}-r1",
                                                                                     f"{PREFIX}-school-a")]))
    found = tree.BatchGetPeople(membership_pb2.BatchGetPeopleRequest(
        ids=[f"{PREFIX}-r1", f"{PREFIX}-elsewhere", f"{PREFIX}-nobody", f"{PREFIX}-r1"])).people
    assert [p.id for p in found] == [f"{PREFIX}-r1"]


def test_a_batch_is_bounded(tree):
    with pytest.raises(grpc.RpcError) as refused:
        tree.BatchGetPeople(membership_pb2.BatchGetPeopleRequest(ids=[f"p{n}" for n in range(1001)]))
    assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
