"""Effect sizes: participating teachers' students against comparable non-participants' students,
from the per-teacher cells (TEACHER_CELLS), never from student rows.

Comparable students are those of the same test, school year, window and grades (the grades the
participants' students were tested in), taught by teachers who do not participate, in schools of
the same county offices as the participants' schools. County offices rather than districts: a
community usually draws teachers from several districts of its county, and a district alone is
often too small to hold enough non-participating teachers. The outcome is distance from standard
where the test has cut scores (comparable across grades), else the scale score.

A side with fewer students than the suppression threshold or fewer than three teachers is
withheld, with the other side: an effect size of one or two teachers' classes would describe
those teachers, not the program.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass

import pyarrow as pa
import pyarrow.compute as pc

from copnet.reflection import reference
from copnet.reflection.measures.figures import Sample, hedges_g

MIN_TEACHERS = 3
COUNTY_OFFICE = "county_office"
DECIMALS = 3
COMPARISON = ("students of non-participating teachers in the same test, school year, window and grades, in "
              "schools of the same county offices as the participants' schools")


@dataclass(frozen=True)
class EffectSizeResult:
    test: str
    school_year: str
    window: str
    grades: tuple[str, ...]
    student_group: str
    outcome: str
    withheld: bool
    withheld_reason: str = ""
    participant_students: int | None = None
    participant_teachers: int | None = None
    participant_mean: float | None = None
    comparison_students: int | None = None
    comparison_teachers: int | None = None
    comparison_mean: float | None = None
    hedges_g: float | None = None
    ci_low: float | None = None
    ci_high: float | None = None
    comparison: str = COMPARISON
    cut_scores_version: str = ""


def county_office_of(organization: str, parents: Mapping[str, tuple[str, str]]) -> str:
    """The county office at or above `organization` ("" when none is known)."""
    seen = set()
    while organization and organization not in seen:
        seen.add(organization)
        parent, level = parents.get(organization, ("", ""))
        if level == COUNTY_OFFICE:
            return organization
        organization = parent
    return ""


def _sample(rows: pa.Table) -> tuple[Sample, int]:
    n = pc.sum(rows.column("students")).as_py() or 0
    total = pc.sum(rows.column("outcome_sum")).as_py() or 0.0
    squares = pc.sum(rows.column("outcome_square_sum")).as_py() or 0.0
    with_students = rows.filter(pc.greater(rows.column("students"), 0))
    return Sample(int(n), float(total), float(squares)), len(set(with_students.column("teacher_id").to_pylist()))


def effect_sizes(cells: pa.Table, participants: Collection[str], parents: Mapping[str, tuple[str, str]],
                 min_cell: int, *, tests: Sequence[str] = (), school_years: Sequence[str] = (),
                 windows: Sequence[str] = (), student_group: str = reference.ALL_STUDENTS,
                 max_results: int = 45) -> list[EffectSizeResult]:
    """One effect size per (test, school year, window) the participants' students were tested in."""
    cells = cells.filter(pc.equal(cells.column("student_group"), student_group))
    for name, values in (("test", tests), ("school_year", school_years), ("window", windows)):
        if values:
            cells = cells.filter(pc.is_in(cells.column(name), pa.array(list(values), pa.string())))
    participating = pc.is_in(cells.column("teacher_id"), pa.array(sorted(participants), pa.string()))
    theirs, others = cells.filter(participating), cells.filter(pc.invert(participating))
    partitions = sorted(set(zip(*(theirs.column(n).to_pylist() for n in ("test", "school_year", "window")))))
    return [_effect_size(theirs, others, partition, parents, min_cell, student_group)
            for partition in partitions[:max_results]]


def _in_partition(rows: pa.Table, partition: tuple[str, str, str], grades: Sequence[str]) -> pa.Table:
    test, school_year, window = partition
    mask = pc.and_(pc.and_(pc.equal(rows.column("test"), test), pc.equal(rows.column("school_year"), school_year)),
                   pc.equal(rows.column("window"), window))
    mask = pc.and_(mask, pc.is_in(rows.column("grade"), pa.array(list(grades), pa.string())))
    return rows.filter(mask)


def _effect_size(theirs: pa.Table, others: pa.Table, partition: tuple[str, str, str],
                 parents: Mapping[str, tuple[str, str]], min_cell: int, student_group: str) -> EffectSizeResult:
    test_key, school_year, window = partition
    test = reference.test_named(test_key)
    all_grades = set(_in_partition(theirs, partition, reference.GRADES).column("grade").to_pylist())
    # With cut scores, only grades that have them (the outcome must be distance from standard throughout).
    grades = tuple(g for g in reference.GRADES if g in all_grades and (test.scales is None or g in test.scales))
    participants = _in_partition(theirs, partition, grades)
    counties = {county_office_of(school, parents) for school in set(participants.column("school_id").to_pylist())}
    counties.discard("")
    comparison = _in_partition(others, partition, grades)
    in_counties = [county_office_of(school, parents) in counties
                   for school in comparison.column("school_id").to_pylist()]
    comparison = comparison.filter(pa.array(in_counties, pa.bool_()))
    treated, treated_teachers = _sample(participants)
    control, control_teachers = _sample(comparison)
    common = {"test": test_key, "school_year": school_year, "window": window, "grades": grades,
              "student_group": student_group,
              "outcome": "scale_score" if test.scales is None else "distance_from_standard",
              "cut_scores_version": test.cut_scores_version}
    if min(treated.n, control.n) < min_cell or min(treated_teachers, control_teachers) < MIN_TEACHERS:
        return EffectSizeResult(**common, withheld=True, withheld_reason=(
            f"fewer than {min_cell} students or fewer than {MIN_TEACHERS} teachers on a side"))
    figures = hedges_g(treated, control)
    if figures is None:
        return EffectSizeResult(**common, withheld=True, withheld_reason="no spread in the outcome")
    return EffectSizeResult(
        **common, withheld=False, participant_students=treated.n, participant_teachers=treated_teachers,
        participant_mean=round(figures.treated_mean, 1), comparison_students=control.n,
        comparison_teachers=control_teachers, comparison_mean=round(figures.comparison_mean, 1),
        hedges_g=round(figures.hedges_g, DECIMALS), ci_low=round(figures.ci_low, DECIMALS),
        ci_high=round(figures.ci_high, DECIMALS))
