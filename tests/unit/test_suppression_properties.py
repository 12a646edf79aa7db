"""Property tests of the suppression engine: random tables are published and an attacker who
knows every published count, every relation and that counts are non-negative integers tries to
solve each withheld cell, by rational linear algebra and by searching integer solutions.

The attacker's checks are written apart from the engine (dense rational algebra, a search over
integer solutions) so that a bug in the engine's elimination cannot hide itself."""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
import math

from copnet.reflection.suppression import Constraint


def withheld_system(counts: Mapping[Hashable, int], constraints: Sequence[Constraint],
                    withheld: frozenset) -> tuple[list, list[tuple[dict, int]]]:
    """The attacker's equations over withheld counts: sum(coefficient * x) == right-hand side,
    published counts (and absent keys, zeros) moved to the right."""
    cells = sorted(withheld, key=repr)
    equations = []
    for constraint in constraints:
        terms = [(constraint.total, 1)] + [(part, -1) for part in constraint.parts]
        row: dict = {}
        constant = 0
        for key, sign in terms:
            if key in withheld:
                row[key] = row.get(key, 0) + sign
            else:
                constant += sign * counts.get(key, 0)
        row = {key: value for key, value in row.items() if value}
        if row:
            equations.append((row, -constant))
    return cells, equations


def _reduced_rows(rows: list[list[int]]) -> list[list[int]]:
    """Reduced row echelon form over the rationals, kept in integers (each row divided by the gcd
    of its entries): dense and plain, unlike the engine's sparse elimination."""
    matrix = [list(row) for row in rows if any(row)]
    columns = len(matrix[0]) if matrix else 0
    rank = 0
    for column in range(columns):
        pivot = next((row for row in range(rank, len(matrix)) if matrix[row][column]), None)
        if pivot is None:
            continue
        matrix[rank], matrix[pivot] = matrix[pivot], matrix[rank]
        top = matrix[rank]
        for row in range(len(matrix)):
            if row != rank and matrix[row][column]:
                factor, lead = matrix[row][column], top[column]
                combined = [lead * a - factor * b for a, b in zip(matrix[row], top)]
                divisor = math.gcd(*combined)
                matrix[row] = [value // divisor for value in combined] if divisor > 1 else combined
        rank += 1
    return matrix[:rank]


def linearly_determined(counts, constraints, withheld: frozenset) -> list:
    """Withheld cells whose unit vector is in the row space of the equations over the rationals:
    in reduced row echelon form, exactly the cells some row is the unit vector of."""
    cells, equations = withheld_system(counts, constraints, withheld)
    if not cells:
        return []
    reduced = _reduced_rows([[row.get(cell, 0) for cell in cells] for row, _ in equations])
    determined = []
    for row in reduced:
        nonzero = [position for position, value in enumerate(row) if value]
        if len(nonzero) == 1:
            determined.append(cells[nonzero[0]])
    return determined


def another_value(counts, constraints, withheld: frozenset, cell, bound: int) -> dict | None:
    """A non-negative integer solution (each withheld count at most `bound`) of every published
    relation in which `cell` differs from its true count, or None when there is none."""
    cells, equations = withheld_system(counts, constraints, withheld)
    rows_of: dict = {key: [] for key in cells}
    for position, (row, _) in enumerate(equations):
        for key in row:
            rows_of[key].append(position)
    assignment: dict = {}

    def consistent(position: int) -> bool:
        row, right = equations[position]
        low = high = 0
        for key, coefficient in row.items():
            if key in assignment:
                low += coefficient * assignment[key]
                high += coefficient * assignment[key]
            elif coefficient > 0:
                high += coefficient * bound
            else:
                low += coefficient * bound
        return low <= right <= high

    def domain(key):
        # Nearest the true count first: a second solution, when there is one, is found at once.
        values = sorted(range(bound + 1), key=lambda value: (abs(value - counts[key]), value))
        return [value for value in values if value != counts[key]] if key == cell else values

    def search() -> bool:
        free = [key for key in cells if key not in assignment]
        if not free:
            return True
        # The cell in the most constrained equation first: the search stays small.
        def unassigned_in_rows(key):
            return min((sum(1 for other in equations[p][0] if other not in assignment) for p in rows_of[key]),
                       default=len(cells))
        key = min(free, key=lambda candidate: (candidate != cell, unassigned_in_rows(candidate), repr(candidate)))
        for value in domain(key):
            assignment[key] = value
            if all(consistent(position) for position in rows_of[key]) and search():
                return True
            del assignment[key]
        return False

    return dict(assignment) if search() else None


# -- random tables --------------------------------------------------------------------------------

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from copnet.reflection.reference import GroupFamily
from copnet.reflection.suppression import lattice_constraints, suppress, unprotected

MIN_CELL = 10
# Mostly small counts, so that tables need a lot of suppression.
COUNT = st.one_of(st.integers(0, 12), st.integers(0, 40))
PROPERTY_SETTINGS = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
MARGIN = "*"


def table_with_margins(shape: tuple[int, ...], interior: list[int]) -> tuple[dict, list[Constraint]]:
    """A table of len(shape) dimensions with every margin (MARGIN in a coordinate sums it), and
    the relations: along each dimension, the margin cell is the sum of the others."""
    import itertools

    counts: dict = {}
    cells = list(itertools.product(*(range(size) for size in shape)))
    for cell, value in zip(cells, interior):
        for summed in itertools.product((False, True), repeat=len(shape)):
            key = tuple(MARGIN if summing else coordinate for coordinate, summing in zip(cell, summed))
            counts[key] = counts.get(key, 0) + value
    constraints = []
    for key in counts:
        for dimension, coordinate in enumerate(key):
            if coordinate == MARGIN:
                parts = tuple(key[:dimension] + (index,) + key[dimension + 1:] for index in range(shape[dimension]))
                constraints.append(Constraint(key, parts))
    return counts, constraints


@st.composite
def tables(draw, dimensions: int, largest: int):
    shape = tuple(draw(st.integers(1, largest)) for _ in range(dimensions))
    size = 1
    for extent in shape:
        size *= extent
    interior = draw(st.lists(COUNT, min_size=size, max_size=size))
    return table_with_margins(shape, interior)


FAMILIES_FOR_TEST = (GroupFamily("status", "Status", ("in", "out")), GroupFamily("kind", "Kind", ("a", "b", "c")))


@st.composite
def organization_tables(draw):
    """A small organization tree (a root, districts, schools) × two group families × two grades,
    keyed like measure cells, with the relations lattice_constraints finds."""
    districts = draw(st.integers(1, 2))
    parent_of = {}
    schools = []
    for district in range(districts):
        parent_of[f"d{district}"] = "root"
        for school in range(draw(st.integers(1, 2))):
            parent_of[f"s{district}.{school}"] = f"d{district}"
            schools.append(f"s{district}.{school}")
    counts: dict = {}

    def add(organization, group, grade, value):
        level = "school" if organization.startswith("s") else "district" if organization.startswith("d") else "region"
        key = (organization, level, group, grade, "sbac-math", "2025-26", "spring")
        counts[key] = counts.get(key, 0) + value

    for school in schools:
        for grade in ("3", "4"):
            status = draw(st.lists(COUNT, min_size=2, max_size=2))
            total = sum(status)
            kinds = draw(st.lists(st.integers(0, total), min_size=2, max_size=2).map(sorted))
            kind = [kinds[0], kinds[1] - kinds[0], total - kinds[1]]
            groups = {"all": total, "in": status[0], "out": status[1], "a": kind[0], "b": kind[1], "c": kind[2]}
            for group, value in groups.items():
                if value == 0 and group != "all" and draw(st.booleans()):
                    continue  # a roll-up may have no cell where there are no students
                organization = school
                while organization:
                    add(organization, group, grade, value)
                    add(organization, group, "all", value)
                    organization = parent_of.get(organization)
    return counts, lattice_constraints(counts, parent_of, FAMILIES_FOR_TEST)


def assert_protected(counts, constraints, withheld, search_bound: int | None = None) -> None:
    assert not [key for key in counts if 0 < counts[key] < MIN_CELL and key not in withheld]
    assert withheld <= set(counts)
    assert linearly_determined(counts, constraints, withheld) == []
    assert unprotected(counts, constraints, MIN_CELL, withheld) == frozenset()
    if search_bound is not None:
        for cell in sorted(withheld, key=repr):
            assert another_value(counts, constraints, withheld, cell, search_bound) is not None, cell


def search_bound_for(counts, withheld, most_cells: int) -> int | None:
    """Integer search on small tables only (it is exponential in the number of withheld cells)."""
    if len(withheld) > most_cells:
        return None
    return max(counts[key] for key in withheld) + 2 if withheld else 0


@PROPERTY_SETTINGS
@given(tables(dimensions=2, largest=4))
def test_no_withheld_cell_of_a_two_way_table_can_be_solved(table):
    counts, constraints = table
    withheld = suppress(counts, constraints, MIN_CELL)
    assert_protected(counts, constraints, withheld, search_bound_for(counts, withheld, most_cells=16))


@PROPERTY_SETTINGS
@given(tables(dimensions=3, largest=3))
def test_no_withheld_cell_of_a_three_way_table_can_be_solved(table):
    counts, constraints = table
    withheld = suppress(counts, constraints, MIN_CELL)
    assert_protected(counts, constraints, withheld, search_bound_for(counts, withheld, most_cells=16))


@PROPERTY_SETTINGS
@given(organization_tables())
def test_no_withheld_cell_of_an_organization_lattice_can_be_solved(table):
    counts, constraints = table
    withheld = suppress(counts, constraints, MIN_CELL)
    assert_protected(counts, constraints, withheld, search_bound_for(counts, withheld, most_cells=16))


@PROPERTY_SETTINGS
@given(tables(dimensions=2, largest=4), st.randoms(use_true_random=False))
def test_the_same_table_in_any_order_withholds_the_same_cells(table, random):
    counts, constraints = table
    keys = list(counts)
    random.shuffle(keys)
    shuffled_constraints = list(constraints)
    random.shuffle(shuffled_constraints)
    shuffled = {key: counts[key] for key in keys}
    assert suppress(shuffled, shuffled_constraints, MIN_CELL) == suppress(counts, constraints, MIN_CELL)
