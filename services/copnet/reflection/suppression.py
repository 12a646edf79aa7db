"""The one suppression engine: which counts of a table may be published without letting anyone
work out a count of fewer than `min_cell` students.

Threat model. The attacker knows every published count, every additive relation between the
table's cells (a district is the sum of its schools, all students the sum of each group family's
groups, grade "all" the sum of the grades: the `Constraint`s) and that counts are non-negative
integers. A withheld count is safe when those facts leave it undetermined.

1. Primary suppression withholds every count with 0 < n < min_cell (zeros are published: a zero
   says nothing about any student).
2. Complementary suppression then withholds more counts until no withheld count can be solved:
   a. no relation has exactly one withheld member (it would equal the published total minus the
      published parts), and
   b. exactly: a withheld count is solvable when its unit vector lies in the row space of the
      relations restricted to the withheld counts (the published counts are constants). That is
      decided by exact integer elimination, per connected component of withheld counts.
   Each exposed count gets one more withheld count that breaks the combination of relations
   solving it: from a relation it is in when one will do, the smallest published non-zero part,
   a total only when no part will do. A complement is never a zero: a withheld zero sits on the
   boundary of what the attacker knows (n >= 0) and pins its partners. Every withheld count is
   then at least 1, so a small enough move along the null space of the relations keeps every
   count non-negative; the property tests also find, by search, a second non-negative integer
   table for every withheld count.

A key named by a relation but absent from `counts` is treated as a published zero (a roll-up has
no cell for a group without students). A relation whose counts do not add up (students with an
unreported status) is treated as if the attacker knew the difference: it only costs a little
more suppression. Figures derived from counts (means, percentages, level counts, the gap between
two cells) are withheld whenever a count they come from is; percentages are top/bottom coded.

Output is deterministic: it depends on the keys, counts and relations, not on their order.
"""

from __future__ import annotations

import heapq
import logging
import math
import operator
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from copnet.reflection.reference import ALL_GRADES, ALL_STUDENTS, FAMILIES, GroupFamily

K = TypeVar("K", bound=Hashable)
log = logging.getLogger(__name__)

# No count under 10 is ever published, whatever a deployment configures (settings enforce it too).
MIN_CELL_FLOOR = 10
# A region's lattice is ~150,000 cells (seconds); a table this large is a caller's mistake.
MAX_CELLS = 2_000_000
MAX_RELATIONS = 2_000_000


@dataclass(frozen=True, slots=True)
class Constraint(Generic[K]):
    """Published counts satisfy count[total] == sum(count[part] for part in parts)."""

    total: K
    parts: tuple[K, ...]

    def __post_init__(self) -> None:
        if not isinstance(self.parts, tuple):
            object.__setattr__(self, "parts", tuple(self.parts))
        if not self.parts:
            raise ValueError(f"constraint on {self.total!r} has no parts")
        if self.total in self.parts:
            raise ValueError(f"constraint on {self.total!r} names its total among its parts")
        if len(set(self.parts)) != len(self.parts):
            raise ValueError(f"constraint on {self.total!r} names a part twice")


def suppress(counts: Mapping[K, int], constraints: Sequence[Constraint[K]], min_cell: int) -> frozenset[K]:
    """Every key of `counts` to withhold: primary (0 < n < min_cell) and complementary cells."""
    if min_cell < MIN_CELL_FLOOR:
        raise ValueError(f"min_cell must be at least {MIN_CELL_FLOOR}, got {min_cell}")
    _check_size(counts, constraints)
    table = _Table(_whole_counts(counts), constraints)
    for cell in range(len(table.keys)):
        if 0 < table.values[cell] < min_cell:
            table.withhold(cell)
    table.protect()
    return frozenset(table.keys[cell] for cell in range(len(table.keys)) if table.withheld[cell])


def unprotected(counts: Mapping[K, int], constraints: Sequence[Constraint[K]], min_cell: int,
                withheld: Iterable[K]) -> frozenset[K]:
    """The counts a given withheld set fails to protect: small counts it publishes, and withheld
    counts the published ones and the relations determine. Empty for what `suppress` returns;
    an audit of a withheld set stored earlier or chosen elsewhere."""
    if min_cell < MIN_CELL_FLOOR:
        raise ValueError(f"min_cell must be at least {MIN_CELL_FLOOR}, got {min_cell}")
    _check_size(counts, constraints)
    table = _Table(_whole_counts(counts), constraints)
    position = {key: index for index, key in enumerate(table.keys)}
    for key in withheld:
        if key in position:
            table.withhold(position[key])
    failing = {table.keys[cell] for cell in range(len(table.keys))
               if not table.withheld[cell] and 0 < table.values[cell] < min_cell}
    for _component, relations in table._components():
        failing.update(table.keys[cell] for cell in _exposed_cells(table._rows(relations)))
    return frozenset(failing)


def _check_size(counts: Mapping, constraints: Sequence) -> None:
    if len(counts) > MAX_CELLS:
        raise ValueError(f"a table has at most {MAX_CELLS} counts, got {len(counts)}")
    if len(constraints) > MAX_RELATIONS:
        raise ValueError(f"a table has at most {MAX_RELATIONS} constraints, got {len(constraints)}")


def _whole_counts(counts: Mapping[K, int]) -> dict[K, int]:
    """`counts` as Python ints (NumPy and Arrow integers welcome); anything else is refused."""
    whole: dict[K, int] = {}
    for key, value in counts.items():
        try:
            number = operator.index(value)
        except TypeError:
            number = -1
        if isinstance(value, bool) or number < 0:
            raise ValueError(f"count of {key!r} must be a non-negative integer, got {value!r}")
        whole[key] = number
    return whole


def any_withheld(keys: Iterable[K], suppressed: frozenset[K] | set[K]) -> bool:
    """Whether a figure computed from the counts of `keys` must be withheld."""
    return any(key in suppressed for key in keys)


def withheld_gap(a: K, b: K, suppressed: frozenset[K] | set[K]) -> bool:
    """Whether the difference between two cells' figures must be withheld (either one is)."""
    return a in suppressed or b in suppressed


# -- percentages ----------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class PercentFigure:
    """A percentage as published: `value` is None when coded (only `display` is shown)."""

    value: float | None
    display: str
    coded: bool


@dataclass(frozen=True, slots=True)
class Coding:
    """Top/bottom coding of percentages for groups of up to `max_students` students."""

    max_students: int | None
    bottom: float
    top: float
    decimals: int


# The reporting rules of NCES's SLDS Technical Brief 3 (NCES 2011-603): the smaller the group, the
# wider the coded ends, so that "0%" or "100%" of a small group (everyone or no one) and one or two
# students near either end never show. copnet rounds to one decimal for every size (a mean of
# percentages must be reproducible across views); a group of unknown size gets the widest coding.
CODINGS: tuple[Coding, ...] = (
    Coding(60, 5.0, 95.0, 1),
    Coding(300, 1.0, 99.0, 1),
    Coding(None, 0.1, 99.9, 1),
)


def coding_for(students: int | None) -> Coding:
    if students is None:
        return CODINGS[0]
    return next(coding for coding in CODINGS if coding.max_students is None or students <= coding.max_students)


def round_percent(value: float, decimals: int = 1) -> float:
    """Half away from zero (what a reader expects of 12.25 -> 12.3), not banker's rounding."""
    scaled = abs(value) * 10 ** decimals
    rounded = math.floor(scaled + 0.5 + 1e-9) / 10 ** decimals
    return math.copysign(rounded, value)


def code_percent(value: float, students: int | None = None) -> PercentFigure:
    """A percentage (0..100) with its ends coded: "≤5" and "≥95" for a group of up to 60 students
    or of unknown size, narrower ends for larger groups; otherwise rounded to one decimal."""
    if not math.isfinite(value) or value < 0 or value > 100:
        raise ValueError(f"a percentage must be between 0 and 100, got {value!r}")
    coding = coding_for(students)
    if value <= coding.bottom:
        return PercentFigure(None, f"≤{_plain(coding.bottom)}", True)
    if value >= coding.top:
        return PercentFigure(None, f"≥{_plain(coding.top)}", True)
    rounded = round_percent(value, coding.decimals)
    return PercentFigure(rounded, f"{rounded:.{coding.decimals}f}", False)


def _plain(threshold: float) -> str:
    return f"{threshold:g}"


# -- the lattice of measure cells -----------------------------------------------------------------

def lattice_constraints(keys: Iterable[tuple], parent_of: Mapping[str, str | tuple[str, str] | None],
                        families: Sequence[GroupFamily] = FAMILIES, *,
                        organization: int = 0, level: int | None = 1, group: int = 2,
                        grade: int | None = 3) -> list[Constraint[tuple]]:
    """The additive relations among measure cells keyed like MEASURE_CELLS (organization_id, level,
    student_group, grade, test, school_year, window) or any tuple with those fields at the given
    positions: an organization's cell is the sum of its children's (the same group, grade, test,
    window...), all students the sum of each family's groups, grade "all" the sum of the grades.

    `parent_of` maps an organization id to its parent's id (or to (parent id, level)). A relation
    is produced when its total is in `keys` and at least one part is; absent parts are zeros
    (the roll-up has no cell where there are no students)."""
    cells = list(dict.fromkeys(keys))
    ignored = {position for position in (organization, level, group, grade) if position is not None}

    def rest(key: tuple) -> tuple:
        return tuple(value for position, value in enumerate(key) if position not in ignored)

    by_place: dict[tuple, tuple] = {}
    for key in cells:
        by_place[(key[organization], key[group], key[grade] if grade is not None else None, rest(key))] = key

    constraints: list[Constraint[tuple]] = []
    # Organization hierarchy: parent = sum of children.
    children: dict[tuple, list[tuple]] = {}
    for key in cells:
        parent = _parent_id(parent_of.get(key[organization]))
        if parent is None:
            continue
        total = by_place.get((parent, key[group], key[grade] if grade is not None else None, rest(key)))
        if total is not None:
            children.setdefault(total, []).append(key)
    constraints.extend(Constraint(total, tuple(parts)) for total, parts in children.items())
    # Group families: all students = sum of each family's groups.
    members: dict[tuple[tuple, str], list[tuple]] = {}
    family_of = {member: family.key for family in families for member in family.groups}
    for key in cells:
        family = family_of.get(key[group])
        if family is None:
            continue
        total = by_place.get((key[organization], ALL_STUDENTS, key[grade] if grade is not None else None, rest(key)))
        if total is not None:
            members.setdefault((total, family), []).append(key)
    constraints.extend(Constraint(total, tuple(parts)) for (total, _family), parts in members.items())
    # Grades: grade "all" = sum of the grades.
    if grade is not None:
        grades: dict[tuple, list[tuple]] = {}
        for key in cells:
            if key[grade] == ALL_GRADES:
                continue
            total = by_place.get((key[organization], key[group], ALL_GRADES, rest(key)))
            if total is not None:
                grades.setdefault(total, []).append(key)
        constraints.extend(Constraint(total, tuple(parts)) for total, parts in grades.items())
    return constraints


def _parent_id(parent: str | tuple[str, str] | None) -> str | None:
    if isinstance(parent, tuple):
        return parent[0] if parent else None
    return parent or None


# -- the engine -----------------------------------------------------------------------------------

def _ordered(keys: Iterable[K]) -> list[K]:
    keys = list(keys)
    try:
        return sorted(keys)
    except TypeError:
        return sorted(keys, key=repr)


class _Table:
    """Cells as indices in a canonical order; each relation as (total index or -1, part indices)
    over the cells present in `counts`."""

    def __init__(self, counts: Mapping[K, int], constraints: Sequence[Constraint[K]]) -> None:
        self.keys = _ordered(counts)
        index = {key: position for position, key in enumerate(self.keys)}
        self.values = [counts[key] for key in self.keys]
        self.withheld = bytearray(len(self.keys))
        relations: set[tuple[int, tuple[int, ...]]] = set()
        for constraint in constraints:
            total = index.get(constraint.total, -1)
            parts = tuple(sorted(index[part] for part in constraint.parts if part in index))
            # One present member alone would equal a constant: no relation between counts.
            if len(parts) + (total >= 0) >= 2:
                relations.add((total, parts))
        self.relations = sorted(relations)
        self.relations_of: list[list[int]] = [[] for _ in self.keys]
        for position, (total, parts) in enumerate(self.relations):
            if total >= 0:
                self.relations_of[total].append(position)
            for part in parts:
                self.relations_of[part].append(position)
        self.withheld_in = [0] * len(self.relations)
        self._lonely: list[int] = []

    def members(self, relation: int) -> tuple[int, ...]:
        total, parts = self.relations[relation]
        return parts if total < 0 else (total, *parts)

    def withhold(self, cell: int) -> None:
        if self.withheld[cell]:
            return
        self.withheld[cell] = 1
        for relation in self.relations_of[cell]:
            self.withheld_in[relation] += 1
            if self.withheld_in[relation] == 1:
                heapq.heappush(self._lonely, relation)

    def protect(self) -> None:
        checked: dict[tuple[int, ...], dict[int, dict[int, int]]] = {}
        while True:
            self._close_lonely_relations()
            # Exposed cell -> the relations (with their coefficients) that solve it.
            exposed: dict[int, dict[int, int]] = {}
            for component, relations in self._components():
                signature = tuple(component)
                if signature not in checked:
                    solved = _exposed_cells(self._rows(relations))
                    checked[signature] = {cell: {relations[row]: weight for row, weight in proof.items()}
                                          for cell, proof in solved.items()}
                exposed.update(checked[signature])
            if not exposed:
                return
            if not self._complement_exposed(exposed):
                # Only relations that do not add up can leave a count exposed with nothing left
                # to withhold around it (their difference is taken as known).
                log.warning("suppression: %d withheld counts stay determined by relations whose counts "
                            "do not add up", len(exposed))
                return

    def _close_lonely_relations(self) -> None:
        """Rule (a): a relation with exactly one withheld member gets a second."""
        while self._lonely:
            relation = heapq.heappop(self._lonely)
            if self.withheld_in[relation] != 1:
                continue
            complement = self._complement_in((relation,))
            if complement is None:
                lonely = next(cell for cell in self.members(relation) if self.withheld[cell])
                complement = self._complement_near(lonely)
            if complement is not None:
                self.withhold(complement)

    def _complement_in(self, relations: Iterable[int]) -> int | None:
        """The cell to withhold next among `relations`' published members: the smallest non-zero
        part, else the smallest non-zero total. Never a zero: n >= 0 would pin it (and its partners)."""
        best: tuple | None = None
        for relation in relations:
            total, _parts = self.relations[relation]
            for cell in self.members(relation):
                value = self.values[cell]
                if self.withheld[cell] or value == 0:
                    continue
                # Among equal counts, one that also pairs another lone withheld cell saves one.
                pairs = sum(1 for other in self.relations_of[cell] if self.withheld_in[other] == 1)
                rank = (cell == total, value, -pairs, cell)
                if best is None or rank < best:
                    best = rank
        return None if best is None else best[-1]

    def _complement_near(self, cell: int) -> int | None:
        """A complement for `cell`: from the relations it is in, else (all their non-zero members
        withheld already) from the nearest relations reached through withheld cells."""
        seen_cells = {cell}
        seen_relations: set[int] = set()
        frontier = [cell]
        while frontier:
            layer = sorted({relation for current in frontier for relation in self.relations_of[current]} - seen_relations)
            complement = self._complement_in(layer)
            if complement is not None:
                return complement
            seen_relations.update(layer)
            frontier = sorted({member for relation in layer for member in self.members(relation)
                               if self.withheld[member] and member not in seen_cells})
            seen_cells.update(frontier)
        return None

    def _components(self) -> Iterable[tuple[list[int], list[int]]]:
        """Connected components of withheld cells (two are connected when a relation holds both),
        each with the relations touching it."""
        parent: dict[int, int] = {}

        def find(cell: int) -> int:
            root = cell
            while parent[root] != root:
                root = parent[root]
            while parent[cell] != root:
                parent[cell], cell = root, parent[cell]
            return root

        touching = [relation for relation, count in enumerate(self.withheld_in) if count > 0]
        for relation in touching:
            inside = [cell for cell in self.members(relation) if self.withheld[cell]]
            for cell in inside:
                parent.setdefault(cell, cell)
            first = find(inside[0])
            for cell in inside[1:]:
                other = find(cell)
                if other != first:
                    parent[max(other, first)] = min(other, first)
                    first = min(other, first)
        groups: dict[int, tuple[list[int], list[int]]] = {}
        for cell in sorted(parent):
            groups.setdefault(find(cell), ([], []))[0].append(cell)
        for relation in touching:
            first = next(cell for cell in self.members(relation) if self.withheld[cell])
            groups[find(first)][1].append(relation)
        return groups.values()

    def _rows(self, relations: list[int]) -> list[dict[int, int]]:
        rows = []
        for relation in relations:
            total, parts = self.relations[relation]
            row = {part: -1 for part in parts if self.withheld[part]}
            if total >= 0 and self.withheld[total]:
                row[total] = 1
            rows.append(row)
        return rows

    def _complement_exposed(self, exposed: dict[int, dict[int, int]]) -> bool:
        """Rule (b): withhold, for each exposed cell, a published cell that breaks the combination
        of relations solving it. If x = sum(w_r * relation_r) over withheld cells, withholding c
        adds sum(w_r * coefficient of c in r) * c to that sum: when that is non-zero the
        combination no longer isolates x. One complement often breaks several combinations, so
        a cell whose combination an earlier complement of this round broke waits for the next
        check. False when nothing could be added."""
        added: list[int] = []
        for cell in sorted(exposed):
            proof = exposed[cell]
            if any(self._weight_in(proof, complement) for complement in added):
                continue
            complement = self._complement_breaking(proof, cell)
            if complement is None:
                complement = self._complement_near(cell)
            if complement is None:
                continue
            self.withhold(complement)
            added.append(complement)
        return bool(added)

    def _weight_in(self, proof: dict[int, int], cell: int) -> int:
        weight = 0
        for relation in self.relations_of[cell]:
            if relation in proof:
                weight += proof[relation] * (1 if self.relations[relation][0] == cell else -1)
        return weight

    def _complement_breaking(self, proof: dict[int, int], exposed: int) -> int | None:
        """A published non-zero cell that breaks `proof`: in a relation of the exposed cell if
        one will do, a part rather than a total, the smallest count."""
        own = set(self.relations_of[exposed])
        best: tuple | None = None
        for relation in proof:
            total, _parts = self.relations[relation]
            for cell in self.members(relation):
                value = self.values[cell]
                if self.withheld[cell] or value == 0:
                    continue
                rank = (relation not in own, cell == total, value, cell)
                if (best is None or rank < best) and self._weight_in(proof, cell):
                    best = rank
        return None if best is None else best[-1]


def _exposed_cells(rows: list[dict[int, int]]) -> dict[int, dict[int, int]]:
    """Columns whose unit vector lies in the row space of `rows` (sparse integer rows), each with
    the combination of rows (row index -> weight) that gives a multiple of it. Exact Gauss-Jordan
    elimination over the integers: in reduced row echelon form a unit vector is in the row space
    exactly when some basis row is that unit vector. Each basis row carries the combination of
    original rows it is."""
    basis: dict[int, tuple[dict[int, int], dict[int, int]]] = {}
    # Non-pivot column -> the pivots whose basis row has an entry in it.
    holders: dict[int, set[int]] = {}
    for number in sorted(range(len(rows)), key=lambda position: (len(rows[position]), position)):
        row, proof = dict(rows[number]), {number: 1}
        for pivot in [column for column in row if column in basis]:
            if row.get(pivot):
                row, proof = _combine(row, proof, *basis[pivot], pivot)
        if not row:
            continue
        pivot = min(row, key=lambda column: (len(holders.get(column, ())), column))
        for other in sorted(holders.pop(pivot, set())):
            before = basis[other][0]
            after = _combine(*basis[other], row, proof, pivot)
            for column in before:
                if column not in after[0] and column in holders:
                    holders[column].discard(other)
            for column in after[0]:
                if column != other:
                    holders.setdefault(column, set()).add(other)
            basis[other] = after
        basis[pivot] = (row, proof)
        for column in row:
            if column != pivot:
                holders.setdefault(column, set()).add(pivot)
    return {pivot: proof for pivot, (row, proof) in basis.items() if len(row) == 1}


def _combine(row: dict[int, int], proof: dict[int, int], by: dict[int, int], by_proof: dict[int, int],
             column: int) -> tuple[dict[int, int], dict[int, int]]:
    """`row` with `column` eliminated using `by` (which has an entry there), and the same
    combination of their proofs; both divided by the gcd of all their entries."""
    a, b = row[column], by[column]
    g = math.gcd(a, b)
    scale_row, scale_by = b // g, a // g
    combined = []
    for mine, theirs in ((row, by), (proof, by_proof)):
        result = {key: value * scale_row for key, value in mine.items()}
        for key, value in theirs.items():
            total = result.get(key, 0) - value * scale_by
            if total:
                result[key] = total
            else:
                result.pop(key, None)
        combined.append(result)
    divisor = 0
    for part in combined:
        for value in part.values():
            divisor = math.gcd(divisor, value)
            if divisor == 1:
                return combined[0], combined[1]
    if divisor > 1:
        return ({key: value // divisor for key, value in combined[0].items()},
                {key: value // divisor for key, value in combined[1].items()})
    return combined[0], combined[1]
