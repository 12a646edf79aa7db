"""Pure rules of the organization tree: codes, regions, moves, scopes."""

from __future__ import annotations

import datetime as dt

import pytest
from copnet.kernel.errors import InvalidArgument
from copnet.membership.models import Organization
from copnet.membership.organizations import (
    nearest,
    refuse_move_into_own_subtree,
    region_below,
    union_of_scopes,
    valid_code,
)


def org(org_id: str, kind: str, ancestors: list[str], region: str = "") -> Organization:
    return Organization(id=org_id, name=org_id, kind=kind, ancestor_ids=ancestors, region_id=region,
                        time_zone="UTC", created_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC))


def test_a_region_is_its_own_region_and_others_inherit_their_parents():
    state, region = org("ca", "state", []), org("bay", "region", ["ca"], region="bay")
    assert region_below(state, "region", "bay") == "bay"
    assert region_below(region, "county_office", "alameda") == "bay"
    assert region_below(state, "university", "uc") == ""
    assert region_below(None, "state", "ca") == ""


def test_nearest_finds_the_closest_organization_of_a_kind_itself_first():
    kinds = {"ca": "state", "bay": "region", "alameda": "county_office", "oak": "district", "s1": "school"}
    assert nearest(["ca", "bay", "alameda", "oak", "s1"], kinds, "county_office") == "alameda"
    assert nearest(["ca", "bay"], kinds, "region") == "bay"
    assert nearest(["ca", "bay"], kinds, "county_office") == ""


def test_union_of_scopes_keeps_first_seen_order_without_repeats():
    assert union_of_scopes([["ca", "bay", "s1"], ["ca", "bay", "alameda"], []]) == ["ca", "bay", "s1", "alameda"]


@pytest.mark.parametrize("new_parent", [org("oak", "district", ["ca"]), org("s1", "school", ["ca", "oak"])])
def test_an_organization_cannot_move_under_itself_or_its_subtree(new_parent):
    with pytest.raises(InvalidArgument) as raised:
        refuse_move_into_own_subtree(org("oak", "district", ["ca"]), new_parent)
    assert raised.value.reason == "MOVE_INTO_OWN_SUBTREE"
    assert [f.field for f in raised.value.fields] == ["new_parent_id"]


def test_a_move_elsewhere_is_allowed():
    refuse_move_into_own_subtree(org("s1", "school", ["ca", "oak"]), org("berk", "district", ["ca"]))


@pytest.mark.parametrize(("code", "expected"), [(" 0161119 ", "0161119"), ("", None), ("  ", None),
                                                ("NCES-06-1234", "NCES-06-1234")])
def test_codes_are_trimmed_and_empty_means_none(code, expected):
    assert valid_code(code) == expected


@pytest.mark.parametrize("code", ["with space", "x" * 33, "semi;colon"])
def test_bad_codes_are_refused_naming_the_field(code):
    with pytest.raises(InvalidArgument) as raised:
        valid_code(code)
    assert [f.field for f in raised.value.fields] == ["code"]
