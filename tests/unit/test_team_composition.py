"""The team composition matcher: every member fills exactly one slot, every slot its exact count."""

from __future__ import annotations

from types import SimpleNamespace

from copnet.membership.eligibility import CompositionFailure, assign_slots

SCHOOL = "school-a"


def member(person_id, *positions, bands=(), school=SCHOOL):
    return SimpleNamespace(id=person_id, grade_bands=list(bands), affiliations=[
        SimpleNamespace(organization_id=school, position=p, scope=[school]) for p in positions])


def slot(position, count=1, bands=()):
    return SimpleNamespace(position=position, count=count, grade_bands=list(bands))


MATH_TEAM = [slot("specialist"), slot("site_admin"), slot("teacher", bands=("k_2", "3_5"))]


def test_the_math_team_default_is_filled_one_member_per_slot():
    people = [member("t", "teacher", bands=("3_5",)), member("a", "site_admin"), member("s", "specialist")]
    assert assign_slots(people, MATH_TEAM, SCHOOL) == [2, 1, 0]


def test_a_member_fitting_two_slots_is_moved_so_everyone_fits():
    # "both" could be the specialist or the teacher; only "t" can be the teacher, so "both" must be
    # the specialist even though it came first and grabbed the teacher slot greedily.
    people = [member("both", "teacher", "specialist", bands=("k_2",)), member("a", "site_admin"),
              member("t", "teacher", bands=("3_5",))]
    assert assign_slots(people, MATH_TEAM, SCHOOL) == [0, 1, 2]


def test_a_member_who_fits_no_slot_is_named():
    people = [member("s", "specialist"), member("a", "site_admin"), member("c", "coach")]
    failure = assign_slots(people, MATH_TEAM, SCHOOL)
    assert isinstance(failure, CompositionFailure) and "member c fits no slot" in failure.message


def test_the_grade_band_is_part_of_the_slot():
    people = [member("s", "specialist"), member("a", "site_admin"), member("hs", "teacher", bands=("9_12",))]
    failure = assign_slots(people, MATH_TEAM, SCHOOL)
    assert isinstance(failure, CompositionFailure) and "member hs" in failure.message


def test_the_position_must_be_held_at_the_teams_school():
    people = [member("s", "specialist"), member("a", "site_admin", school="school-b"),
              member("t", "teacher", bands=("k_2",))]
    failure = assign_slots(people, MATH_TEAM, SCHOOL)
    assert isinstance(failure, CompositionFailure) and "member a" in failure.message


def test_an_unfilled_slot_is_named():
    people = [member("s", "specialist"), member("t", "teacher", bands=("k_2",))]
    failure = assign_slots(people, MATH_TEAM, SCHOOL)
    assert isinstance(failure, CompositionFailure)
    assert "1 x site_admin is unfilled" in failure.message


def test_counts_are_exact_one_too_many_is_refused():
    people = [member("s", "specialist"), member("a", "site_admin"), member("t1", "teacher", bands=("k_2",)),
              member("t2", "teacher", bands=("k_2",))]
    failure = assign_slots(people, MATH_TEAM, SCHOOL)
    assert isinstance(failure, CompositionFailure) and "member t2" in failure.message


def test_two_members_competing_for_one_seat_while_another_slot_starves():
    slots = [slot("teacher", count=2), slot("coach")]
    people = [member("x", "teacher", "coach"), member("y", "teacher"), member("z", "teacher")]
    assert assign_slots(people, slots, SCHOOL) == [1, 0, 0]


def test_no_required_composition_accepts_any_team():
    assert assign_slots([member("x", "coach")], [], SCHOOL) == [-1]
