"""A table of summed cells, suppressed once over its lattice, and kept for fast reads.

Cells are keyed by organization, some partition columns (test, school year, window: cells of
different partitions hold different students and never add up to each other), student group and
grade. Within a partition the suppression engine (`copnet.reflection.suppression`) is given every
total that holds (a parent = its children, all students = each family's groups, grade "all" = the
grades), so no withheld cell can be worked out from what is published.

Rows are held as numpy columns sorted by (organization, partition, group, grade), with each
organization's rows one contiguous slice, and each key packed into one int64 so any cell is found
by binary search: a read costs the rows of the organizations it asks for, never the size of the
whole table or the number of students behind it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from copnet.reflection import reference, suppression

ORGANIZATION, GROUP, GRADE = "organization_id", "student_group", "grade"
# The order values are shown in (anything else after them, alphabetically).
PREFERRED_ORDER: dict[str, tuple[str, ...]] = {
    GROUP: reference.STUDENT_GROUPS,
    GRADE: (reference.ALL_GRADES, *reference.GRADES),
    "window": reference.WINDOWS,
    "from_window": reference.WINDOWS,
    "to_window": reference.WINDOWS,
}
# Bits of each key column in the packed key (organization first: its rows stay contiguous).
BITS = {ORGANIZATION: 21, GROUP: 7, GRADE: 5}
PARTITION_BITS = 8


def _ranked(values: list[str], preferred: Sequence[str]) -> list[str]:
    place = {value: n for n, value in enumerate(preferred)}
    return sorted(values, key=lambda value: (place.get(value, len(place)), value))


def _encoded(column: pa.ChunkedArray, name: str) -> tuple[np.ndarray, list[str]]:
    """(codes, values): codes index values, values in their shown order."""
    encoded = pc.dictionary_encode(column.combine_chunks())
    seen = encoded.dictionary.to_pylist()
    values = _ranked(seen, PREFERRED_ORDER.get(name, ()))
    rank = np.empty(len(seen), dtype=np.int64)
    rank[[seen.index(value) for value in values]] = np.arange(len(values))
    indices = encoded.indices.to_numpy(zero_copy_only=False).astype(np.int64, copy=False)
    return (rank[indices] if len(seen) else indices), values


@dataclass
class Lattice:
    """Summed, suppressed cells: key columns (codes + their values), sums, and `withheld`."""

    key_names: tuple[str, ...]
    codes: dict[str, np.ndarray]
    values: dict[str, list[str]]
    sums: dict[str, np.ndarray]
    withheld: np.ndarray
    packed: np.ndarray
    slices: dict[str, tuple[int, int]]
    level_of: dict[str, str]
    parent_of: dict[str, str]

    @property
    def size(self) -> int:
        return len(self.withheld)

    def code(self, name: str, value: str) -> int | None:
        try:
            return self.values[name].index(value)
        except ValueError:
            return None

    def organizations_under(self, organization_id: str) -> list[str]:
        """Every organization in the cells below `organization_id`, nearest first, then by id."""
        children: dict[str, list[str]] = {}
        for child, parent in self.parent_of.items():
            children.setdefault(parent, []).append(child)
        found, frontier = [], [organization_id]
        while frontier:
            below = sorted(child for parent in frontier for child in children.get(parent, ()) if child in self.slices)
            found += below
            frontier = below
        return found

    def select(self, organizations: Iterable[str], wanted: Mapping[str, Iterable[str]]) -> np.ndarray:
        """Row numbers of the cells of `organizations` (in that order) whose key columns hold one of
        the `wanted` values (a column not named: any value)."""
        wanted_codes = {name: np.array([c for c in (self.code(name, v) for v in values) if c is not None],
                                       dtype=np.int64)
                        for name, values in wanted.items()}
        found = []
        for organization in organizations:
            start, stop = self.slices.get(organization, (0, 0))
            if start == stop:
                continue
            mask = np.ones(stop - start, dtype=bool)
            for name, codes in wanted_codes.items():
                mask &= np.isin(self.codes[name][start:stop], codes)
            found.append(np.flatnonzero(mask) + start)
        return np.concatenate(found) if found else np.empty(0, dtype=np.int64)

    def rows_like(self, rows: np.ndarray, name: str, value: str) -> np.ndarray:
        """For each of `rows`, the row of the cell with the same key but `name` = `value` (-1: none)."""
        code = self.code(name, value)
        if code is None or not len(rows):
            return np.full(len(rows), -1, dtype=np.int64)
        offset = sum(_bits(later) for later in self.key_names[self.key_names.index(name) + 1:])
        field = ((1 << _bits(name)) - 1) << offset
        wanted = (self.packed[rows] & ~field) | (code << offset)
        at = np.minimum(np.searchsorted(self.packed, wanted), len(self.packed) - 1)
        return np.where(self.packed[at] == wanted, at, -1)

    def key(self, row: int) -> dict[str, str]:
        return {name: self.values[name][int(self.codes[name][row])] for name in self.key_names}


def _bits(name: str) -> int:
    return BITS.get(name, PARTITION_BITS)


def _pack(key_names: Sequence[str], codes: Sequence[np.ndarray]) -> np.ndarray:
    packed = np.zeros(len(codes[0]), dtype=np.int64)
    for name, column in zip(key_names, codes):
        packed = (packed << _bits(name)) | column
    return packed


def build(table: pa.Table, partition_names: Sequence[str], sum_names: Sequence[str],
          parents: Mapping[str, tuple[str, str]], min_cell: int, count_name: str = "students") -> Lattice:
    """Sum `table`'s rows per cell, suppress the lattice (each partition on its own) and index it."""
    key_names = (ORGANIZATION, *partition_names, GROUP, GRADE)
    summed = table.group_by(list(key_names)).aggregate([(name, "sum") for name in sum_names])
    level_of = {organization: level for organization, (_parent, level) in parents.items()}
    levels = table.group_by([ORGANIZATION, "level"]).aggregate([])
    for organization, level in zip(levels.column(ORGANIZATION).to_pylist(), levels.column("level").to_pylist()):
        level_of.setdefault(organization, level)
    codes, values = {}, {}
    for name in key_names:
        codes[name], values[name] = _encoded(summed.column(name), name)
        if len(values[name]) >= 1 << _bits(name):
            raise ValueError(f"too many distinct {name} values to index ({len(values[name])})")
    order = np.lexsort([codes[name] for name in reversed(key_names)])
    codes = {name: column[order] for name, column in codes.items()}
    # A sum over cells that all lack a figure (a benchmark's levels, a grade without cut scores) is
    # null in Arrow: none of its students counted there, so zero.
    sums = {name: pc.fill_null(summed.column(f"{name}_sum"), 0).to_numpy()[order] for name in sum_names}
    packed = _pack(key_names, [codes[name] for name in key_names])
    organizations = values[ORGANIZATION]
    starts = np.searchsorted(codes[ORGANIZATION], np.arange(len(organizations)), side="left")
    stops = np.searchsorted(codes[ORGANIZATION], np.arange(len(organizations)), side="right")
    slices = {organization: (int(starts[n]), int(stops[n])) for n, organization in enumerate(organizations)}
    parent_of = {organization: parent for organization, (parent, _level) in parents.items() if parent}
    lattice = Lattice(key_names, codes, values, sums, np.zeros(len(packed), dtype=bool), packed, slices,
                      level_of, parent_of)
    lattice.withheld = _suppressed(lattice, partition_names, sums[count_name].astype(np.int64), min_cell)
    return lattice


def _suppressed(lattice: Lattice, partition_names: Sequence[str], counts: np.ndarray, min_cell: int) -> np.ndarray:
    """Every row the suppression engine withholds, deciding each partition's lattice once (its
    totals from the engine's own lattice builder)."""
    withheld = np.zeros(len(counts), dtype=bool)
    if not len(counts):
        return withheld
    partition = np.zeros(len(counts), dtype=np.int64)
    for name in partition_names:
        partition = (partition << _bits(name)) | lattice.codes[name]
    organizations = lattice.codes[ORGANIZATION]
    groups, grades = lattice.values[GROUP], lattice.values[GRADE]
    code_of = {organization: n for n, organization in enumerate(lattice.values[ORGANIZATION])}
    parent_of = {code_of[child]: code_of[parent] for child, parent in lattice.parent_of.items()
                 if child in code_of and parent in code_of}
    for part in np.unique(partition):
        rows = np.flatnonzero(partition == part)
        # Keys as the engine's lattice builder reads them: (organization, student group, grade).
        row_of = {(organization, groups[group], grades[grade]): row for row, organization, group, grade in zip(
            rows.tolist(), organizations[rows].tolist(), lattice.codes[GROUP][rows].tolist(),
            lattice.codes[GRADE][rows].tolist())}
        constraints = suppression.lattice_constraints(row_of, parent_of, organization=0, level=None, group=1, grade=2)
        chosen = suppression.suppress({key: int(counts[row]) for key, row in row_of.items()}, constraints, min_cell)
        withheld[[row_of[key] for key in chosen]] = True
    return withheld
