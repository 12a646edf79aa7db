"""Measure cells for tests and the benchmark: the MEASURE_CELLS / GROWTH_CELLS / TEACHER_CELLS a
list of students rolls up to (every organization of their ancestry x every group they are in x
their grade and "all"), computed here independently of the importer's roll-up code, and a cell
source that serves them like the data-set store."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import pyarrow as pa
from copnet.reflection import columns, reference


@dataclass(frozen=True)
class Student:
    school: str
    grade: str
    scale: float
    # One group of each family they are in (e.g. "el", "not_swd", "hispanic").
    groups: tuple[str, ...] = ()
    test: str = "sbac-math"
    school_year: str = "2024-25"
    window: str = "spring"
    teacher: str = ""


@dataclass
class Tree:
    """organization id -> (parent id, level)."""

    parents: dict[str, tuple[str, str]] = field(default_factory=dict)

    def ancestry(self, organization: str) -> list[tuple[str, str]]:
        found = []
        while organization:
            parent, level = self.parents[organization]
            found.append((organization, level))
            organization = parent
        return found


def level_of(student: Student) -> int | None:
    scales = reference.test_named(student.test).scales
    return scales[student.grade].level_of(student.scale) if scales and student.grade in scales else None


def dfs_of(student: Student) -> float | None:
    scales = reference.test_named(student.test).scales
    return student.scale - scales[student.grade].standard_met if scales and student.grade in scales else None


def _add(cell: dict, student: Student) -> None:
    cell["students"] += 1
    cell["scale_sum"] += student.scale
    cell["scale_square_sum"] += student.scale ** 2
    level = level_of(student)
    if level:
        cell[f"level_{level}"] += 1
    dfs = dfs_of(student)
    if dfs is not None:
        cell["dfs_students"] += 1
        cell["dfs_sum"] += dfs


def _empty(schema: pa.Schema, keys: Sequence[str]) -> dict:
    return {name: (0.0 if schema.field(name).type == pa.float64() else 0) for name in schema.names if name not in keys}


def measure_cells(students: Iterable[Student], tree: Tree) -> pa.Table:
    cells: dict[tuple, dict] = defaultdict(lambda: _empty(columns.MEASURE_CELLS, columns.CELL_KEYS))
    for student in students:
        for organization, level in tree.ancestry(student.school):
            for group in (reference.ALL_STUDENTS, *student.groups):
                for grade in (student.grade, reference.ALL_GRADES):
                    _add(cells[(organization, level, group, grade, student.test, student.school_year,
                                student.window)], student)
    rows = [dict(zip(columns.CELL_KEYS, key), **sums) for key, sums in cells.items()]
    return pa.Table.from_pylist(rows, schema=columns.MEASURE_CELLS)


def teacher_cells(students: Iterable[Student], tree: Tree) -> pa.Table:
    keys = ("teacher_id", "school_id", "student_group", "grade", "test", "school_year", "window")
    cells: dict[tuple, dict] = defaultdict(lambda: _empty(columns.TEACHER_CELLS, keys))
    for student in students:
        if not student.teacher:
            continue
        for group in (reference.ALL_STUDENTS, *student.groups):
            cell = cells[(student.teacher, student.school, group, student.grade, student.test, student.school_year,
                          student.window)]
            _add(cell, student)
            outcome = dfs_of(student)
            outcome = student.scale if outcome is None else outcome
            cell["outcome_sum"] += outcome
            cell["outcome_square_sum"] += outcome ** 2
    rows = [dict(zip(keys, key), **sums) for key, sums in cells.items()]
    return pa.Table.from_pylist(rows, schema=columns.TEACHER_CELLS)


def growth_cells(pairs: Iterable[tuple[Student, Student]], tree: Tree) -> pa.Table:
    """The same students' (earlier, later) results, grouped by the later one's cell."""
    keys = ("organization_id", "level", "student_group", "grade", "test", "from_school_year", "from_window",
            "to_school_year", "to_window")
    cells: dict[tuple, dict] = defaultdict(lambda: _empty(columns.GROWTH_CELLS, keys))
    for before, after in pairs:
        change = after.scale - before.scale
        for organization, level in tree.ancestry(after.school):
            for group in (reference.ALL_STUDENTS, *after.groups):
                for grade in (after.grade, reference.ALL_GRADES):
                    cell = cells[(organization, level, group, grade, after.test, before.school_year, before.window,
                                  after.school_year, after.window)]
                    cell["students"] += 1
                    cell["change_sum"] += change
                    cell["change_square_sum"] += change ** 2
    rows = [dict(zip(keys, key), **sums) for key, sums in cells.items()]
    return pa.Table.from_pylist(rows, schema=columns.GROWTH_CELLS)


@dataclass
class TableSource:
    """Serves tables the way the data-set store does (copnet.reflection.measures.index.CellSource)."""

    tree: Tree
    measures: pa.Table = field(default_factory=columns.MEASURE_CELLS.empty_table)
    growth: pa.Table = field(default_factory=columns.GROWTH_CELLS.empty_table)
    teachers: pa.Table = field(default_factory=columns.TEACHER_CELLS.empty_table)
    aggregates: pa.Table | None = None
    generation: str = "1"
    reads: int = 0

    def ready_generation(self) -> str:
        self.reads += 1
        return self.generation

    def measure_cells(self) -> pa.Table:
        return self.measures

    def growth_cells(self) -> pa.Table:
        return self.growth

    def teacher_cells(self) -> pa.Table:
        return self.teachers

    def aggregate_results(self) -> pa.Table:
        if self.aggregates is None:
            return columns.AGGREGATE_RESULTS.append(pa.field("organization_id", pa.string())).empty_table()
        return self.aggregates

    def organization_parents(self) -> dict[str, tuple[str, str]]:
        return dict(self.tree.parents)

