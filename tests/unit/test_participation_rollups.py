"""Participation roll-up arithmetic and the figures shown from it: what one attendance record adds,
when a school or district counts as reached, and one suppression over a year's organization tree."""

from __future__ import annotations

import pytest
from copnet.kernel.errors import InvalidArgument
from copnet.reflection.participation import years
from copnet.reflection.participation.rollups import (
    OWN,
    REST,
    Contribution,
    Rollup,
    reach_change,
    tree_table,
    year_figures,
)

YEAR = "2025-26"


def test_present_and_late_records_count_as_attended_with_their_minutes():
    assert Contribution.of("present", 90) == Contribution(1, 1, 90)
    assert Contribution.of("late", 45) == Contribution(1, 1, 45)
    assert Contribution.of("absent", 0) == Contribution(1, 0, 0)


def test_an_excused_absence_is_not_a_meeting_the_teacher_was_expected_at():
    assert Contribution.of("excused", 0) == Contribution()


def test_a_changed_record_moves_the_roll_up_by_the_difference_only():
    change = Contribution.of("absent", 0).minus(Contribution.of("present", 90))
    assert change.increments() == {"attended_records": -1, "attended_minutes": -90}
    assert Contribution.of("present", 90).minus(Contribution.of("present", 90)).increments() == {}


def test_a_school_is_reached_by_its_first_teacher_and_no_longer_after_its_last():
    assert reach_change("school", 0, 1) == ("schools_reached", 1)
    assert reach_change("school", 2, 3) is None
    assert reach_change("school", 1, 0) == ("schools_reached", -1)
    assert reach_change("district", 0, 1) == ("districts_reached", 1)
    assert reach_change("county_office", 0, 1) is None


def tree(**teachers: int) -> list[Rollup]:
    """A county office over two districts, each over schools; counts by scope id."""
    parents = {"coe": ("county_office", ""), "d1": ("district", "coe"), "d2": ("district", "coe"),
               "s1": ("school", "d1"), "s2": ("school", "d1"), "s3": ("school", "d2")}
    return [Rollup(scope, *parents[scope], YEAR, count) for scope, count in teachers.items()]


def test_each_parent_is_its_children_plus_the_teachers_placed_at_the_parent_itself():
    counts, constraints = tree_table(tree(coe=40, d1=25, d2=15, s1=12, s2=12, s3=15))
    assert counts[("d1", REST)] == 1 and counts[("coe", REST)] == 0
    by_total = {c.total: set(c.parts) for c in constraints}
    assert by_total[("d1", OWN)] == {("s1", OWN), ("s2", OWN), ("d1", REST)}
    assert by_total[("coe", OWN)] == {("d1", OWN), ("d2", OWN), ("coe", REST)}


def test_a_small_school_is_withheld_and_so_is_a_sibling_that_would_give_it_away():
    figures = year_figures(tree(coe=40, d1=25, d2=15, s1=20, s2=5, s3=15), 11)
    assert figures["s2"].withheld and figures["s2"].teachers_reached is None
    # d1 = s1 + s2 + rest(0): with s1 and d1 published, s2 would be d1 - s1.
    assert figures["s1"].withheld or figures["d1"].withheld
    assert not figures["coe"].withheld and figures["coe"].teachers_reached == 40


def test_figures_of_a_shown_organization_are_rate_hours_and_reach():
    rollup = Rollup("coe", "county_office", "", YEAR, teachers=30, schools_reached=4, districts_reached=2,
                    expected_records=120, attended_records=90, attended_minutes=5430)
    shown = year_figures([rollup], 11)["coe"]
    assert (shown.teachers_reached, shown.schools_reached, shown.districts_reached) == (30, 4, 2)
    assert shown.attendance_rate.value == 75.0 and shown.attendance_rate.display == "75.0"
    assert shown.learning_hours == 90.5
    assert shown.attendance_records == 120


def test_a_withheld_organization_carries_no_figure_at_all():
    rollup = Rollup("s1", "school", "", YEAR, teachers=3, expected_records=30, attended_records=30,
                    attended_minutes=900)
    shown = year_figures([rollup], 11)["s1"]
    assert shown.withheld
    assert (shown.teachers_reached, shown.attendance_rate, shown.learning_hours, shown.attendance_records) == \
        (None, None, None, None)


def test_an_attendance_rate_near_100_is_top_coded():
    rollup = Rollup("coe", "county_office", "", YEAR, teachers=20, expected_records=200, attended_records=199)
    rate = year_figures([rollup], 11)["coe"].attendance_rate
    assert rate.value is None and rate.display == "≥95"


def test_program_years_are_checked_and_placed_in_time():
    assert years.parse("2025-26") == "2025-26"
    assert years.parse("1999-00") == "1999-00"
    for bad in ("2025", "2025-27", "2025/26", "1800-01", ""):
        with pytest.raises(InvalidArgument):
            years.parse(bad)
    import datetime as dt
    assert years.containing(dt.datetime(2026, 6, 30)) == "2025-26"
    assert years.containing(dt.datetime(2026, 7, 1)) == "2026-27"
    assert years.next_year_start("2025-26") == dt.datetime(2026, 7, 1, tzinfo=dt.UTC)


def test_a_rate_over_fewer_records_than_the_threshold_is_withheld_while_the_count_shows():
    rollup = Rollup("coe", "county_office", "", YEAR, teachers=20, expected_records=10, attended_records=7,
                    attended_minutes=420)
    shown = year_figures([rollup], 11)["coe"]
    assert shown.teachers_reached == 20 and shown.attendance_rate is None and shown.learning_hours == 7.0
