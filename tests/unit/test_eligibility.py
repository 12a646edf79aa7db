"""Who may sign up: one affiliation must match both the positions and the organizations."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from copnet.membership.eligibility import ineligibility


def person(*affiliations, grade_bands=()):
    return SimpleNamespace(id="p1", grade_bands=list(grade_bands), affiliations=[
        SimpleNamespace(organization_id=org, position=position, scope=scope) for org, position, scope in affiliations])


TEACHER_IN_OAKLAND = ("school-a", "teacher", ["state", "bay", "alameda", "oakland", "school-a"])
COACH_IN_MARIN = ("school-m", "coach", ["state", "bay", "marin", "district-m", "school-m"])


@pytest.mark.parametrize(("positions", "organizations"), [
    ([], []),                                   # empty lists do not restrict
    (["teacher"], []),
    ([], ["alameda"]),                          # an organization admits its whole subtree
    (["teacher", "coach"], ["oakland"]),
    (["teacher"], ["school-a"]),                # ... and itself
])
def test_an_affiliation_matching_both_lists_is_eligible(positions, organizations):
    assert ineligibility(person(TEACHER_IN_OAKLAND), positions, organizations) is None


def test_a_missing_position_is_named():
    why = ineligibility(person(TEACHER_IN_OAKLAND), ["coach", "specialist"], [])
    assert "coach, specialist" in why and "holds none" in why


def test_an_organization_outside_the_lists_is_named():
    why = ineligibility(person(TEACHER_IN_OAKLAND), [], ["marin"])
    assert "within marin" in why and "no affiliation there" in why


def test_position_and_organization_must_come_from_the_same_affiliation():
    # A teacher in Oakland and a coach in Marin is neither a teacher in Marin nor a coach in Oakland.
    someone = person(TEACHER_IN_OAKLAND, COACH_IN_MARIN)
    assert "is both" in ineligibility(someone, ["teacher"], ["marin"])
    assert ineligibility(someone, ["coach"], ["marin"]) is None


def test_nobody_without_affiliations_passes_a_restriction():
    assert ineligibility(person(), ["teacher"], []) is not None
    assert ineligibility(person(), [], []) is None


def test_an_affiliation_without_a_copied_scope_still_matches_its_own_organization():
    assert ineligibility(person(("school-a", "teacher", [])), [], ["school-a"]) is None
