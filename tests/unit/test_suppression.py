"""The suppression engine on hand-made tables: primary and complementary suppression, the exact
exposure rule, the measure-cell lattice, and the coding of derived figures."""

from __future__ import annotations

import pytest

from copnet.reflection.suppression import (
    Constraint,
    PercentFigure,
    any_withheld,
    code_percent,
    lattice_constraints,
    round_percent,
    suppress,
    unprotected,
    withheld_gap,
)
from tests.unit.test_suppression_properties import another_value, linearly_determined, table_with_margins

MIN_CELL = 11


def test_a_minimum_cell_under_ten_is_refused():
    with pytest.raises(ValueError, match="min_cell"):
        suppress({"a": 5}, [], 9)


def test_a_table_beyond_the_bounds_is_refused_before_any_work(monkeypatch):
    from copnet.reflection import suppression

    monkeypatch.setattr(suppression, "MAX_CELLS", 2)
    with pytest.raises(ValueError, match="at most 2 counts"):
        suppress({"a": 1, "b": 2, "c": 3}, [], MIN_CELL)
    monkeypatch.setattr(suppression, "MAX_RELATIONS", 1)
    with pytest.raises(ValueError, match="at most 1 constraints"):
        suppress({"a": 1}, [Constraint("a", ("b",)), Constraint("a", ("c",))], MIN_CELL)


def test_a_negative_or_fractional_count_is_refused():
    with pytest.raises(ValueError, match="'a'"):
        suppress({"a": -1}, [], MIN_CELL)
    with pytest.raises(ValueError, match="'a'"):
        suppress({"a": 2.5}, [], MIN_CELL)


class ArrowLikeInteger:
    """An integer type that is not int (a NumPy or Arrow integer converts the same way)."""

    def __init__(self, value: int) -> None:
        self.value = value

    def __index__(self) -> int:
        return self.value


def test_integer_types_other_than_int_are_counts_and_booleans_are_not():
    assert suppress({"a": ArrowLikeInteger(5), "b": ArrowLikeInteger(40)}, [], MIN_CELL) == {"a"}
    with pytest.raises(ValueError, match="'a'"):
        suppress({"a": True}, [], MIN_CELL)


def test_a_constraint_naming_its_total_as_a_part_or_a_part_twice_is_refused():
    with pytest.raises(ValueError, match="total among its parts"):
        Constraint("t", ("t", "a"))
    with pytest.raises(ValueError, match="twice"):
        Constraint("t", ("a", "a"))
    with pytest.raises(ValueError, match="no parts"):
        Constraint("t", ())


def test_small_counts_are_withheld_and_zeros_and_large_counts_are_not():
    assert suppress({"zero": 0, "small": 1, "edge": 10, "eleven": 11, "large": 500}, [], MIN_CELL) == {"small", "edge"}
    assert suppress({"ten": 10}, [], 10) == frozenset()


def test_one_small_cell_in_a_row_withholds_the_smallest_other_part_not_the_total():
    counts = {"total": 120, "a": 4, "b": 30, "c": 26, "d": 60}
    assert suppress(counts, [Constraint("total", ("a", "b", "c", "d"))], MIN_CELL) == {"a", "c"}


def test_a_small_total_whose_parts_are_published_withholds_a_part_too():
    counts = {"total": 9, "a": 0, "b": 9}
    assert suppress(counts, [Constraint("total", ("a", "b"))], MIN_CELL) == {"total", "b"}
    counts = {"total": 9, "a": 3, "b": 6, "c": 0}
    assert suppress(counts, [Constraint("total", ("a", "b", "c"))], MIN_CELL) == {"total", "a", "b"}


def test_a_zero_is_never_a_complement():
    counts = {"total": 40, "a": 5, "b": 0, "c": 35}
    assert suppress(counts, [Constraint("total", ("a", "b", "c"))], MIN_CELL) == {"a", "c"}


def test_a_two_by_two_table_with_one_small_cell_withholds_all_four_inner_cells():
    counts, constraints = table_with_margins((2, 2), [5, 20, 30, 40])
    withheld = suppress(counts, constraints, MIN_CELL)
    assert withheld == {(0, 0), (0, 1), (1, 0), (1, 1)}
    assert linearly_determined(counts, constraints, withheld) == []


def test_a_district_is_the_sum_of_its_schools():
    counts = {"district": 95, "small": 6, "middle": 25, "large": 64}
    constraints = [Constraint("district", ("small", "middle", "large"))]
    assert suppress(counts, constraints, MIN_CELL) == {"small", "middle"}


def test_a_hierarchy_protects_a_small_school_at_every_level():
    # region = county A + county B; county A = district 1 + district 2; district 1 = s1 + s2.
    counts = {"region": 400, "county a": 250, "county b": 150, "district 1": 100, "district 2": 150,
              "s1": 3, "s2": 97}
    constraints = [Constraint("region", ("county a", "county b")),
                   Constraint("county a", ("district 1", "district 2")),
                   Constraint("district 1", ("s1", "s2"))]
    withheld = suppress(counts, constraints, MIN_CELL)
    assert {"s1", "s2"} <= withheld
    assert linearly_determined(counts, constraints, withheld) == []
    for cell in withheld:
        assert another_value(counts, constraints, withheld, cell, bound=400) is not None


def test_cells_each_paired_in_a_relation_can_still_be_solved_and_get_more_complements():
    # x + y, y + z and x + z are each known (the other parts are published): every relation has
    # two withheld members, yet x = ((x+y) + (x+z) - (y+z)) / 2.
    counts = {"t1": 50, "t2": 51, "t3": 52, "x": 3, "y": 4, "z": 5, "p1": 43, "p2": 42, "p3": 44}
    constraints = [Constraint("t1", ("x", "y", "p1")), Constraint("t2", ("y", "z", "p2")),
                   Constraint("t3", ("x", "z", "p3"))]
    assert linearly_determined(counts, constraints, frozenset({"x", "y", "z"})) == ["x", "y", "z"]
    withheld = suppress(counts, constraints, MIN_CELL)
    assert {"x", "y", "z"} < withheld
    assert linearly_determined(counts, constraints, withheld) == []
    for cell in withheld:
        assert another_value(counts, constraints, withheld, cell, bound=60) is not None


def test_an_audit_names_what_a_withheld_set_leaves_unprotected():
    counts = {"t1": 50, "t2": 51, "t3": 52, "x": 3, "y": 4, "z": 5, "p1": 43, "p2": 42, "p3": 44, "q": 7}
    constraints = [Constraint("t1", ("x", "y", "p1")), Constraint("t2", ("y", "z", "p2")),
                   Constraint("t3", ("x", "z", "p3"))]
    assert unprotected(counts, constraints, MIN_CELL, {"x", "y", "z"}) == {"x", "y", "z", "q"}
    assert unprotected(counts, constraints, MIN_CELL, suppress(counts, constraints, MIN_CELL)) == frozenset()
    with pytest.raises(ValueError, match="min_cell"):
        unprotected(counts, constraints, 5, set())


def test_a_part_absent_from_the_table_is_a_published_zero():
    counts = {"total": 30, "a": 4, "b": 26}
    withheld = suppress(counts, [Constraint("total", ("a", "b", "absent"))], MIN_CELL)
    assert withheld == {"a", "b"}


def test_a_relation_whose_counts_do_not_add_up_is_still_protected():
    # Students with an unreported status: 30 != 4 + 20; the difference is taken as known.
    counts = {"total": 30, "a": 4, "b": 20}
    assert suppress(counts, [Constraint("total", ("a", "b"))], MIN_CELL) == {"a", "b"}


def test_relations_that_contradict_each_other_leave_a_count_exposed_and_say_so(caplog):
    # total = a + b and total = a: b is their difference whatever else is withheld.
    counts = {"total": 50, "a": 40, "b": 5}
    constraints = [Constraint("total", ("a", "b")), Constraint("total", ("a",))]
    with caplog.at_level("WARNING", logger="copnet.reflection.suppression"):
        assert suppress(counts, constraints, MIN_CELL) == {"total", "a", "b"}
    assert "1 withheld counts stay determined" in caplog.text
    assert unprotected(counts, constraints, MIN_CELL, {"total", "a", "b"}) == {"b"}


def test_the_result_does_not_depend_on_the_order_of_counts_or_constraints():
    counts, constraints = table_with_margins((3, 3), [1, 20, 30, 40, 2, 60, 70, 80, 3])
    reordered = dict(reversed(list(counts.items())))
    assert suppress(reordered, list(reversed(constraints)), MIN_CELL) == suppress(counts, constraints, MIN_CELL)


def test_keys_that_do_not_sort_together_are_still_ordered_deterministically():
    counts = {1: 5, "b": 20, (2, "c"): 30, "total": 55}
    constraints = [Constraint("total", (1, "b", (2, "c")))]
    assert suppress(counts, constraints, MIN_CELL) == {1, "b"}


# -- the measure-cell lattice ---------------------------------------------------------------------

def cell(organization, group, grade):
    return (organization, "school" if organization.startswith("s") else "district", group, grade,
            "sbac-math", "2025-26", "spring")


def test_the_lattice_has_the_organization_the_group_families_and_the_grades():
    keys = [cell(organization, group, grade) for organization in ("d", "s1", "s2")
            for group in ("all", "el", "not_el") for grade in ("3", "all")]
    keys.append(cell("s1", "asian", "3"))  # a race group alone: all = asian + (absent groups)
    constraints = set(lattice_constraints(keys, {"s1": "d", "s2": ("d", "district"), "d": None}))
    assert Constraint(cell("d", "el", "3"), (cell("s1", "el", "3"), cell("s2", "el", "3"))) in constraints
    assert Constraint(cell("s1", "all", "3"), (cell("s1", "el", "3"), cell("s1", "not_el", "3"))) in constraints
    assert Constraint(cell("s1", "all", "3"), (cell("s1", "asian", "3"),)) in constraints
    assert Constraint(cell("s2", "el", "all"), (cell("s2", "el", "3"),)) in constraints
    # Every relation of the lattice names cells of the same test, year and window.
    assert all({key[4:] for key in (c.total, *c.parts)} == {("sbac-math", "2025-26", "spring")} for c in constraints)
    # d (no parent in the table) totals nothing above it.
    assert not [c for c in constraints if c.total[0] not in ("d", "s1", "s2")]


def test_the_lattice_keeps_tests_years_and_windows_apart():
    keys = [("d", "district", "all", "3", "sbac-math", "2025-26", "spring"),
            ("s", "school", "all", "3", "sbac-math", "2025-26", "spring"),
            ("s", "school", "all", "3", "sbac-math", "2025-26", "fall")]
    constraints = lattice_constraints(keys, {"s": "d"})
    assert constraints == [Constraint(keys[0], (keys[1],))]


def test_a_small_group_in_a_school_is_protected_across_the_lattice():
    counts = {cell("d", "all", "3"): 100, cell("d", "el", "3"): 30, cell("d", "not_el", "3"): 70,
              cell("s1", "all", "3"): 50, cell("s1", "el", "3"): 4, cell("s1", "not_el", "3"): 46,
              cell("s2", "all", "3"): 50, cell("s2", "el", "3"): 26, cell("s2", "not_el", "3"): 24}
    constraints = lattice_constraints(counts, {"s1": "d", "s2": "d"})
    withheld = suppress(counts, constraints, MIN_CELL)
    assert withheld == {cell("s1", "el", "3"), cell("s1", "not_el", "3"), cell("s2", "el", "3"),
                        cell("s2", "not_el", "3")}
    assert linearly_determined(counts, constraints, withheld) == []


# -- derived figures ------------------------------------------------------------------------------

def test_a_gap_or_any_figure_is_withheld_when_either_of_its_cells_is():
    assert withheld_gap("a", "b", frozenset({"b"}))
    assert not withheld_gap("a", "b", frozenset({"c"}))
    assert any_withheld(["a", "b"], frozenset({"a"}))
    assert not any_withheld([], frozenset({"a"}))


@pytest.mark.parametrize(("value", "students", "figure"), [
    (0.0, None, PercentFigure(None, "≤5", True)),
    (5.0, 40, PercentFigure(None, "≤5", True)),
    (5.04, 40, PercentFigure(5.0, "5.0", False)),
    (42.25, None, PercentFigure(42.3, "42.3", False)),
    (95.0, 60, PercentFigure(None, "≥95", True)),
    (100.0, None, PercentFigure(None, "≥95", True)),
    (3.0, 200, PercentFigure(3.0, "3.0", False)),
    (1.0, 200, PercentFigure(None, "≤1", True)),
    (99.5, 200, PercentFigure(None, "≥99", True)),
    (0.5, 1000, PercentFigure(0.5, "0.5", False)),
    (99.95, 1000, PercentFigure(None, "≥99.9", True)),
])
def test_percentages_are_coded_at_both_ends_by_group_size_and_rounded_to_one_decimal(value, students, figure):
    assert code_percent(value, students) == figure


@pytest.mark.parametrize("value", [-0.1, 100.1, float("nan"), float("inf")])
def test_a_percentage_outside_zero_to_a_hundred_is_refused(value):
    with pytest.raises(ValueError, match="percentage"):
        code_percent(value)


def test_rounding_is_half_away_from_zero():
    assert round_percent(12.25) == 12.3
    assert round_percent(12.35) == 12.4
    assert round_percent(-12.25) == -12.3
    assert round_percent(12.24) == 12.2
