import pytest

from copnet.kernel.enums import from_label, to_label
from copnet.membership.v1 import membership_pb2


@pytest.mark.parametrize(("enum", "number", "label"), [
    (membership_pb2.OrganizationKind, membership_pb2.ORGANIZATION_KIND_COUNTY_OFFICE, "county_office"),
    (membership_pb2.OrganizationKind, membership_pb2.ORGANIZATION_KIND_STATE, "state"),
    (membership_pb2.CommunityKind, membership_pb2.COMMUNITY_KIND_CROSS_DISTRICT_TEAM, "cross_district_team"),
])
def test_labels_drop_the_enum_name_prefix_both_ways(enum, number, label):
    assert to_label(enum, number) == label
    assert from_label(enum, label) == number


def test_an_unknown_label_is_refused():
    with pytest.raises(ValueError):
        from_label(membership_pb2.CommunityKind, "book_club")
