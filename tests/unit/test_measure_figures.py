"""Measure figures against hand computations on a tiny table: mean scale score, % per level,
% met or exceeded, distance from standard, gaps, growth and Hedges' g with its confidence interval."""

from __future__ import annotations

import pyarrow as pa
import pytest
from copnet.reflection.measures import effect_size, growth, queries
from copnet.reflection.measures.figures import Sample, hedges_g
from copnet.reflection.measures.index import MeasureIndex

from tests.support.measure_tables import (
    Student,
    TableSource,
    Tree,
    growth_cells,
    measure_cells,
    teacher_cells,
)

TREE = Tree({"region": ("", "region"), "county": ("region", "county_office"), "district": ("county", "district"),
             "school": ("district", "school"), "other-county": ("region", "county_office"),
             "other-district": ("other-county", "district"), "other-school": ("other-district", "school")})
# Grade 3 Smarter Balanced math: levels start at 2381 (2), 2436 (3, standard met) and 2501 (4).
EL_SCORES = (2300, 2350, 2400, 2420, 2440, 2450, 2460, 2480, 2510, 2520, 2530, 2540)
NOT_EL_SCORES = (2400, 2450, 2500, 2520, 2540, 2550, 2560, 2580, 2610, 2620, 2630, 2640)


def students() -> list[Student]:
    return ([Student("school", "3", score, ("el",)) for score in EL_SCORES]
            + [Student("school", "3", score, ("not_el",)) for score in NOT_EL_SCORES])


def index_of(found: list[Student]) -> MeasureIndex:
    return MeasureIndex(TableSource(TREE, measures=measure_cells(found, TREE)), min_cell=11)


def cell(cells, group: str, grade: str = "3", organization: str = "school"):
    return next(c for c in cells if (c.organization_id, c.student_group, c.grade) == (organization, group, grade))


def query(organization: str = "school", reference_group: str = "", **filters) -> queries.MeasureQuery:
    return queries.measure_query(organization, filters.get("include_children", False), filters.get("groups", ()),
                                 reference_group, filters.get("grades", ()), (), (), ())


def test_a_cells_figures_are_the_hand_computed_ones():
    cells = queries.published_cells(query(), index_of(students()))
    english_learners = cell(cells, "el")
    # 12 students: 2 at level 1, 2 at level 2, 4 at level 3, 4 at level 4; scale scores sum to 29,400.
    assert not english_learners.withheld
    assert english_learners.students_tested == 12
    assert english_learners.mean_scale_score == 2450.0
    assert [p.value for p in english_learners.percent_at_level] == [16.7, 16.7, 33.3, 33.3]
    assert english_learners.percent_met_or_exceeded.value == 66.7
    assert english_learners.distance_from_standard == 14.0  # 2450 - 2436
    assert english_learners.cut_scores_version == "smarter-balanced-2014"
    everyone = cell(cells, "all", "all")
    # 24 students, 19 at levels 3 and 4; mean 2500, so 64 points above standard.
    assert (everyone.students_tested, everyone.mean_scale_score) == (24, 2500.0)
    assert everyone.percent_met_or_exceeded.value == 79.2
    assert everyone.distance_from_standard == 64.0


def test_gaps_are_to_all_students_or_to_a_chosen_reference_group():
    cells = queries.published_cells(query(), index_of(students()))
    # EL: 66.67 % met vs 79.17 % for all students; DFS 14 vs 64.
    gap = cell(cells, "el").gap
    assert (gap.reference_group, gap.withheld, gap.percent_met_points, gap.distance_from_standard_points) == (
        "all", False, -12.5, -50.0)
    assert cell(cells, "not_el").gap.percent_met_points == 12.5
    assert cell(cells, "all").gap is None
    to_not_el = queries.published_cells(query(reference_group="not_el"), index_of(students()))
    gap = cell(to_not_el, "el").gap
    assert (gap.reference_group, gap.percent_met_points, gap.distance_from_standard_points) == ("not_el", -25.0,
                                                                                                -100.0)
    assert cell(to_not_el, "not_el").gap is None


def test_a_gap_is_withheld_when_either_side_is():
    few = students()[:12] + [Student("school", "3", 2500, ("not_el",))] * 5
    cells = queries.published_cells(query(), index_of(few))
    assert cell(cells, "not_el").withheld
    assert cell(cells, "el").withheld  # its complement: all - EL would give not EL away
    assert cell(cells, "el").gap.withheld and cell(cells, "el").gap.percent_met_points is None


def test_hedges_g_and_its_confidence_interval_match_a_hand_computation():
    # Treated 10, 12, 14, 16, 18 and comparison 8, 10, 12, 14, 16: means 14 and 12, both variances 10,
    # d = 2 / sqrt(10) = 0.632456, J = 1 - 3 / 31, g = 0.571250,
    # SE = sqrt(10 / 25 + g^2 / 20) = 0.645226, CI = g -+ 1.959964 SE.
    treated = Sample(5, sum((10, 12, 14, 16, 18)), sum(v * v for v in (10, 12, 14, 16, 18)))
    comparison = Sample(5, sum((8, 10, 12, 14, 16)), sum(v * v for v in (8, 10, 12, 14, 16)))
    result = hedges_g(treated, comparison)
    assert result.hedges_g == pytest.approx(0.571250, abs=1e-6)
    assert result.ci_low == pytest.approx(-0.693370, abs=1e-5)
    assert result.ci_high == pytest.approx(1.835870, abs=1e-5)
    assert (result.treated_mean, result.comparison_mean) == (14.0, 12.0)


def teaching(teacher: str, school: str, scores) -> list[Student]:
    return [Student(school, "3", score, teacher=teacher) for score in scores]


def test_the_effect_size_compares_participants_students_with_comparable_students_in_the_same_county_offices():
    participants = [s for t in ("p1", "p2", "p3") for s in teaching(t, "school", (2446, 2448, 2450, 2452, 2454))]
    comparison = [s for t in ("c1", "c2", "c3") for s in teaching(t, "school", (2444, 2446, 2448, 2450, 2452))]
    # Another county's teachers are not comparable: their very different scores must not count.
    elsewhere = [s for t in ("x1", "x2", "x3") for s in teaching(t, "other-school", (2300,) * 5)]
    cells = teacher_cells(participants + comparison + elsewhere, TREE)
    [result] = effect_size.effect_sizes(cells, {"p1", "p2", "p3"}, TREE.parents, 11)
    # Outcome: distance from standard (level 3 minimum 2436). Participants: 15 students with DFS 10, 12,
    # 14, 16, 18 three times: mean 14, variance 3 x 40 / 14; comparison: mean 12, the same variance.
    assert (result.participant_students, result.participant_teachers, result.comparison_students,
            result.comparison_teachers) == (15, 3, 15, 3)
    assert (result.participant_mean, result.comparison_mean, result.outcome) == (14.0, 12.0,
                                                                                "distance_from_standard")
    d = 2 / (120 / 14) ** 0.5
    g = (1 - 3 / (4 * 30 - 9)) * d
    se = (30 / 225 + g * g / 60) ** 0.5
    assert result.hedges_g == pytest.approx(g, abs=1e-3)
    assert result.ci_low == pytest.approx(g - 1.959964 * se, abs=1e-3)
    assert result.ci_high == pytest.approx(g + 1.959964 * se, abs=1e-3)
    assert result.grades == ("3",)


def test_an_effect_size_of_fewer_than_three_teachers_or_few_students_is_withheld():
    participants = [s for t in ("p1", "p2") for s in teaching(t, "school", range(2440, 2460))]
    comparison = [s for t in ("c1", "c2", "c3") for s in teaching(t, "school", range(2440, 2460))]
    [result] = effect_size.effect_sizes(teacher_cells(participants + comparison, TREE), {"p1", "p2"},
                                        TREE.parents, 11)
    assert result.withheld and result.hedges_g is None and result.participant_students is None
    small = [s for t in ("p1", "p2", "p3") for s in teaching(t, "school", (2440, 2450, 2460))]
    [result] = effect_size.effect_sizes(teacher_cells(small + comparison, TREE), {"p1", "p2", "p3"}, TREE.parents, 11)
    assert result.withheld  # 9 students


def test_growth_is_the_mean_change_of_the_same_students_and_small_cells_are_withheld():
    pairs = [(Student("school", "3", before, ("el",), window="fall"), Student("school", "3", before + change, ("el",)))
             for before, change in zip(range(2400, 2412), (10, 20, 30, 40, 50, 60, 10, 20, 30, 40, 50, 60))]
    others = [(Student("school", "3", 2400, ("not_el",), window="fall"), Student("school", "3", 2410, ("not_el",)))]
    query = growth.growth_query("school", False, (), ("3",), (), "", "fall", "", "spring")
    index = MeasureIndex(TableSource(TREE, growth=growth_cells(pairs + others * 11, TREE)), min_cell=11)
    by_group = {c.student_group: c for c in growth.page(query, 0, "", index).cells}
    # EL: 12 students, changes 10 .. 60 twice: mean 35, standard deviation sqrt(2 x 1750 / 11).
    assert (by_group["el"].students, by_group["el"].mean_change, by_group["el"].withheld) == (12, 35.0, False)
    assert by_group["el"].change_standard_deviation == round((3500 / 11) ** 0.5, 1)
    assert (by_group["all"].students, by_group["all"].mean_change) == (23, round((420 + 110) / 23, 1))
    # 3 not-EL students: withheld, and so is one more cell of their family, so all - EL cannot give them away.
    index = MeasureIndex(TableSource(TREE, growth=growth_cells(pairs + others * 3, TREE)), min_cell=11)
    by_group = {c.student_group: c for c in growth.page(query, 0, "", index).cells}
    assert by_group["not_el"].withheld and by_group["not_el"].mean_change is None
    assert by_group["el"].withheld and by_group["el"].students is None
    assert not by_group["all"].withheld


def test_a_benchmark_cell_without_levels_or_cut_scores_shows_its_mean_and_no_level_figures():
    """A local benchmark's rows carry no achievement level and its test has no cut scores: the
    roll-ups' level and distance sums are null, which count as no student there (not a failure)."""
    table = measure_cells(students(), TREE)
    nulls = {name: pa.nulls(len(table), table.schema.field(name).type)
             for name in ("level_1", "level_2", "level_3", "level_4", "dfs_sum")}
    for name, column in nulls.items():
        table = table.set_column(table.schema.get_field_index(name), name, column)
    table = table.set_column(table.schema.get_field_index("dfs_students"), "dfs_students",
                             pa.array([0] * len(table), pa.int64()))
    index = MeasureIndex(TableSource(TREE, measures=table), min_cell=11)
    everyone = cell(queries.published_cells(query(), index), "all")
    assert not everyone.withheld
    assert everyone.students_tested == 24
    assert everyone.mean_scale_score == pytest.approx(sum(EL_SCORES + NOT_EL_SCORES) / 24, abs=0.1)
    assert everyone.distance_from_standard is None
    assert everyone.percent_at_level == () and everyone.percent_met_or_exceeded is None
