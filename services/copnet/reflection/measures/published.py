"""Published cells: what a suppressed lattice row may show (figures rounded and percentages
top/bottom coded), and the gap of a group to a reference group."""

from __future__ import annotations

import functools
from dataclasses import dataclass

import copnet.reflection.measures.figures as figures
from copnet.reflection import reference, suppression
from copnet.reflection.measures.lattice import Lattice

DECIMALS = 1
# Published rows' figures kept per generation, at most (a few hundred bytes each).
MAX_REMEMBERED_ROWS = 300_000


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


@functools.lru_cache(maxsize=1 << 16)
def coded_share(count: int, total: int, students: int) -> Percent:
    """`count` of `total` as a coded percentage (the same few shares recur in thousands of cells)."""
    return coded(100.0 * count / total, students)


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


@dataclass(frozen=True)
class _Shown:
    """A published row's figures, exact and as shown (percentages coded)."""

    exact: figures.Figures
    percent_at_level: tuple[Percent, ...]
    percent_met_or_exceeded: Percent | None


class Publisher:
    """Publishes rows of one suppressed lattice, each row's figures worked out once (a reference
    group's cell serves every gap to it; with a snapshot's `shown`, once per generation)."""

    def __init__(self, lattice: Lattice, reference_group: str = reference.ALL_STUDENTS,
                 shown: dict[int, _Shown | None] | None = None):
        self.lattice = lattice
        self.reference_group = reference_group
        # Rows' figures as published: the snapshot's (kept for its generation), else this answer's.
        self._shown = shown if shown is not None else {}
        if len(self._shown) > MAX_REMEMBERED_ROWS:
            self._shown.clear()

    def _figures(self, row: int) -> _Shown | None:
        """None for a withheld row or one without students."""
        if row not in self._shown:
            sums = None if self.lattice.withheld[row] else _sums(self.lattice, row)
            exact = None if sums is None else figures.figures_of(sums)
            if exact is None:
                self._shown[row] = None
            else:
                n, with_level = exact.students_tested, sum(sums.levels)
                met = sums.levels[2] + sums.levels[3]
                self._shown[row] = _Shown(
                    exact, tuple(coded_share(count, with_level, n) for count in sums.levels) if with_level else (),
                    coded_share(met, with_level, n) if with_level else None)
        return self._shown[row]

    def cell(self, row: int, reference_row: int | None = None) -> PublishedCell:
        """Row `row` as published; with a gap to `reference_row` (the same organization, grade and
        window in the reference group) unless it is the reference itself."""
        lattice = self.lattice
        key = lattice.key(row)
        common = dict(key, level=lattice.level_of.get(key["organization_id"], ""),
                      cut_scores_version=reference.test_named(key["test"]).cut_scores_version)
        gap = None if key["student_group"] == self.reference_group else self._gap(row, reference_row)
        if lattice.withheld[row]:
            return PublishedCell(**common, withheld=True, gap=gap)
        shown = self._figures(row)
        if shown is None:  # a cell without students: published as zero students, nothing else
            return PublishedCell(**common, withheld=False, students_tested=0, gap=gap)
        exact = shown.exact
        return PublishedCell(
            **common, withheld=False, students_tested=exact.students_tested,
            mean_scale_score=_rounded(exact.mean_scale_score), percent_at_level=shown.percent_at_level,
            percent_met_or_exceeded=shown.percent_met_or_exceeded,
            distance_from_standard=_rounded(exact.distance_from_standard), gap=gap)

    def _gap(self, row: int, reference_row: int | None) -> Gap:
        mine = self._figures(row)
        theirs = self._figures(reference_row) if reference_row is not None else None
        if mine is None or theirs is None:
            return Gap(self.reference_group, withheld=True)
        percent_points = None
        # A coded side would be given away by the difference to a published side.
        if mine.percent_met_or_exceeded is not None and theirs.percent_met_or_exceeded is not None and \
                mine.percent_met_or_exceeded.value is not None and theirs.percent_met_or_exceeded.value is not None:
            percent_points = _rounded(mine.exact.percent_met_or_exceeded - theirs.exact.percent_met_or_exceeded)
        return Gap(self.reference_group, withheld=False, percent_met_points=percent_points,
                   distance_from_standard_points=_rounded(figures.difference(
                       mine.exact.distance_from_standard, theirs.exact.distance_from_standard)))


def published_row(lattice: Lattice, row: int, reference_row: int | None = None,
                  reference_group: str = reference.ALL_STUDENTS) -> PublishedCell:
    """One row of a suppressed lattice as published (see Publisher.cell)."""
    return Publisher(lattice, reference_group).cell(row, reference_row)
