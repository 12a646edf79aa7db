"""Published cells: what a suppressed lattice row may show (figures rounded and percentages
top/bottom coded), and the gap of a group to a reference group."""

from __future__ import annotations

from dataclasses import dataclass

from copnet.reflection import reference, suppression
from copnet.reflection.measures import figures
from copnet.reflection.measures.lattice import Lattice

DECIMALS = 1


@dataclass(frozen=True)
class Percent:
    """A percentage as shown: `value` None when coded (then only `text`, e.g. "<5", is known)."""

    value: float | None
    text: str


def coded(value: float, students: int | None = None) -> Percent:
    """`value` (0..100) rounded, or coded near 0 and 100 (the wider, the fewer `students`) by the
    suppression engine."""
    figure = suppression.code_percent(value, students)
    return Percent(figure.value, figure.display)


@dataclass(frozen=True)
class Gap:
    reference_group: str
    withheld: bool
    percent_met_points: float | None = None
    distance_from_standard_points: float | None = None


@dataclass(frozen=True)
class PublishedCell:
    """One measure cell as anyone may see it: a withheld cell has no figure at all."""

    organization_id: str
    level: str
    student_group: str
    grade: str
    test: str
    school_year: str
    window: str
    withheld: bool
    students_tested: int | None = None
    mean_scale_score: float | None = None
    percent_at_level: tuple[Percent, ...] = ()
    percent_met_or_exceeded: Percent | None = None
    distance_from_standard: float | None = None
    cut_scores_version: str = ""
    gap: Gap | None = None


def _sums(lattice: Lattice, row: int) -> figures.Sums:
    s = lattice.sums
    return figures.Sums(int(s["students"][row]), float(s["scale_sum"][row]), float(s["scale_square_sum"][row]),
                        tuple(int(s[f"level_{n}"][row]) for n in range(1, 5)),  # type: ignore[arg-type]
                        int(s["dfs_students"][row]), float(s["dfs_sum"][row]))


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, DECIMALS)


def published_row(lattice: Lattice, row: int, reference_row: int | None = None,
                  reference_group: str = reference.ALL_STUDENTS) -> PublishedCell:
    """Row `row` of a suppressed lattice as published; with a gap to `reference_row` (the same
    organization, grade and window in the reference group) unless it is the reference itself."""
    key = lattice.key(row)
    version = reference.test_named(key["test"]).cut_scores_version
    common = dict(key, level=lattice.level_of.get(key["organization_id"], ""), cut_scores_version=version)
    gap = None if key["student_group"] == reference_group else _gap(lattice, row, reference_row, reference_group)
    if lattice.withheld[row]:
        return PublishedCell(**common, withheld=True, gap=gap)
    shown = figures.figures_of(_sums(lattice, row))
    if shown is None:  # a cell without students: published as zero students, nothing else
        return PublishedCell(**common, withheld=False, students_tested=0, gap=gap)
    return PublishedCell(
        **common, withheld=False, students_tested=shown.students_tested,
        mean_scale_score=_rounded(shown.mean_scale_score),
        percent_at_level=tuple(coded(p, shown.students_tested) for p in shown.percent_at_level),
        percent_met_or_exceeded=coded(shown.percent_met_or_exceeded, shown.students_tested)
        if shown.percent_met_or_exceeded is not None else None,
        distance_from_standard=_rounded(shown.distance_from_standard), gap=gap)


def _gap(lattice: Lattice, row: int, reference_row: int | None, reference_group: str) -> Gap:
    if reference_row is None or lattice.withheld[row] or lattice.withheld[reference_row]:
        return Gap(reference_group, withheld=True)
    mine, theirs = figures.figures_of(_sums(lattice, row)), figures.figures_of(_sums(lattice, reference_row))
    if mine is None or theirs is None:
        return Gap(reference_group, withheld=True)
    percent_points = None
    if mine.percent_met_or_exceeded is not None and theirs.percent_met_or_exceeded is not None and not (
            suppression.code_percent(mine.percent_met_or_exceeded, mine.students_tested).coded
            or suppression.code_percent(theirs.percent_met_or_exceeded, theirs.students_tested).coded):
        # A coded side would be given away by the difference to a published side.
        percent_points = _rounded(mine.percent_met_or_exceeded - theirs.percent_met_or_exceeded)
    return Gap(reference_group, withheld=False, percent_met_points=percent_points,
               distance_from_standard_points=_rounded(
                   figures.difference(mine.distance_from_standard, theirs.distance_from_standard)))
