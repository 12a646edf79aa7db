"""What participation.published sends for a program year: districts and above only, each with its
children of district level and above, suppressed like every read, scoped by its ancestry, and
changed content (not time) deciding whether a new version goes out."""

from __future__ import annotations

import pytest
from copnet.reflection.participation import publish, reads
from copnet.reflection.participation.rollups import Rollup, year_figures

YEAR = "2026-27"
ROLLUPS = [Rollup("ca", "state", "", YEAR, 40), Rollup("bay", "region", "ca", YEAR, 40),
           Rollup("coe", "county_office", "bay", YEAR, 40), Rollup("usd", "district", "coe", YEAR, 25),
           Rollup("usd2", "district", "coe", YEAR, 15), Rollup("ms", "school", "usd", YEAR, 20),
           Rollup("es", "school", "usd", YEAR, 5)]


@pytest.fixture
def year_tree(monkeypatch):
    monkeypatch.setattr(reads, "organization_tree", lambda year, min_cell: (ROLLUPS, year_figures(ROLLUPS, min_cell)))


def test_districts_and_above_are_sent_with_their_district_level_children_and_schools_never(year_tree):
    sent = publish.messages(YEAR, 11, "test")
    assert set(sent) == {f"{scope}|{YEAR}" for scope in ("ca", "bay", "coe", "usd", "usd2")}
    county, scope = sent[f"coe|{YEAR}"]
    assert scope == ("ca", "bay", "coe")
    assert [child.scope_id for child in county.children] == ["usd", "usd2"]
    assert county.figures.teachers_reached == 40 and county.region == "test" and county.min_cell == 11
    district, _ = sent[f"usd|{YEAR}"]
    assert list(district.children) == []  # its schools stay in the region
    named = {m.organization_id for m, _ in sent.values()} | {c.scope_id for m, _ in sent.values() for c in m.children}
    assert named.isdisjoint({"ms", "es"})


def test_a_withheld_district_is_sent_without_figures(year_tree):
    sent = publish.messages(YEAR, 11, "test")
    # es (5) is withheld, so is its sibling ms; the districts stay shown.
    district, _ = sent[f"usd|{YEAR}"]
    assert not district.figures.withheld and district.figures.teachers_reached == 25
    many = publish.messages(YEAR, 30, "test")
    small, _ = many[f"usd2|{YEAR}"]
    assert small.figures.withheld and not small.figures.HasField("teachers_reached")


def test_the_digest_depends_on_content_only(year_tree):
    first, _ = publish.messages(YEAR, 11, "test")[f"coe|{YEAR}"]
    again, _ = publish.messages(YEAR, 11, "test")[f"coe|{YEAR}"]
    assert publish.digest(first) == publish.digest(again)
    other, _ = publish.messages(YEAR, 30, "test")[f"coe|{YEAR}"]
    assert publish.digest(first) != publish.digest(other)
