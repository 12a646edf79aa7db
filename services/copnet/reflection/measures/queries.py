"""Measure queries: which cells a query selects, checked and bounded at the door, answered from
the suppressed lattice (never from student rows)."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from copnet.kernel.errors import InvalidArgument
from copnet.kernel.inputs import ID_PATTERN
from copnet.kernel.pagination import decode_token, encode_token
from copnet.reflection import reference
from copnet.reflection.measures.index import MeasureIndex, Snapshot, process_index
from copnet.reflection.measures.lattice import GRADE, GROUP, Lattice
from copnet.reflection.measures.published import PublishedCell, Publisher

MAX_VALUES = 30
DEFAULT_PAGE_SIZE = 500
MAX_PAGE_SIZE = 5000
# What a reflection metric is fed at most (a region with its schools, narrowed to a year or a test).
MAX_METRIC_CELLS = 200_000
# Rendered cells kept per generation, at most.
MAX_RENDERED_CELLS = 100_000
SCHOOL_YEAR = re.compile(r"^(\d{4})-(\d{2})$")
TEST_KEY = re.compile(r"^[a-z0-9][a-z0-9._-]{0,62}$")


@dataclass(frozen=True)
class MeasureQuery:
    organization_id: str
    include_children: bool = False
    student_groups: tuple[str, ...] = ()
    reference_group: str = reference.ALL_STUDENTS
    grades: tuple[str, ...] = ()
    tests: tuple[str, ...] = ()
    school_years: tuple[str, ...] = ()
    windows: tuple[str, ...] = ()

    def filters(self) -> dict[str, tuple[str, ...]]:
        """The key columns this query narrows (a column it does not name: any value)."""
        wanted = {GROUP: self.student_groups, GRADE: self.grades, "test": self.tests,
                  "school_year": self.school_years, "window": self.windows}
        return {name: values for name, values in wanted.items() if values}

    def as_token_query(self) -> dict:
        return {"o": self.organization_id, "c": self.include_children, "g": list(self.student_groups),
                "r": self.reference_group, "gr": list(self.grades), "t": list(self.tests),
                "y": list(self.school_years), "w": list(self.windows)}


# -- checks at the door ----------------------------------------------------------------------------
def identifier(value: str, field: str, what: str) -> str:
    if not value:
        raise InvalidArgument.for_field(field, "is required")
    if not ID_PATTERN.match(value):
        raise InvalidArgument.for_field(field, f"is not {what} id (lower-case letters, digits and '-')")
    return value


def organization_id(value: str, field: str = "organization_id") -> str:
    return identifier(value, field, "an organization")


def listed(values: Sequence[str], field: str, check) -> tuple[str, ...]:
    if len(values) > MAX_VALUES:
        raise InvalidArgument.for_field(field, f"lists at most {MAX_VALUES} values", reason="TOO_MANY_VALUES")
    for n, value in enumerate(values):
        check(value, f"{field}[{n}]")
    return tuple(dict.fromkeys(values))


def student_group(value: str, field: str) -> str:
    if value not in reference.STUDENT_GROUPS:
        raise InvalidArgument.for_field(field, f"is not a student group (one of {', '.join(reference.STUDENT_GROUPS)})",
                                        reason="UNKNOWN_STUDENT_GROUP")
    return value


def grade(value: str, field: str) -> str:
    if value != reference.ALL_GRADES and value not in reference.GRADES:
        raise InvalidArgument.for_field(field, "is not a grade (K, 1 .. 12, or all)", reason="UNKNOWN_GRADE")
    return value


def test(value: str, field: str) -> str:
    if not TEST_KEY.match(value):
        raise InvalidArgument.for_field(field, "is not a test key (lower-case letters, digits, '.', '_', '-')",
                                        reason="UNKNOWN_TEST")
    return value


def school_year(value: str, field: str) -> str:
    matched = SCHOOL_YEAR.match(value)
    if not matched or not 1900 <= int(matched[1]) < 2200 or (int(matched[1]) + 1) % 100 != int(matched[2]):
        raise InvalidArgument.for_field(field, "is not a school year such as 2024-25", reason="INVALID_SCHOOL_YEAR")
    return value


def window(value: str, field: str) -> str:
    if value not in reference.WINDOWS:
        raise InvalidArgument.for_field(field, f"is not a test window ({', '.join(reference.WINDOWS)})",
                                        reason="UNKNOWN_WINDOW")
    return value


def measure_query(organization: str, include_children: bool, student_groups: Sequence[str], reference_group: str,
                  grades: Sequence[str], tests: Sequence[str], school_years: Sequence[str],
                  windows: Sequence[str]) -> MeasureQuery:
    """A query from a request's fields, every one checked and bounded."""
    return MeasureQuery(
        organization_id=organization_id(organization), include_children=include_children,
        student_groups=listed(student_groups, "student_groups", student_group),
        reference_group=student_group(reference_group, "reference_group") if reference_group
        else reference.ALL_STUDENTS,
        grades=listed(grades, "grades", grade), tests=listed(tests, "tests", test),
        school_years=listed(school_years, "school_years", school_year),
        windows=listed(windows, "windows", window))


def page_size(requested: int) -> int:
    if requested < 0:
        raise InvalidArgument.for_field("page_size", "must not be negative")
    return min(requested or DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)


# -- answers -------------------------------------------------------------------------------------
def organizations_of(lattice: Lattice, query_organization: str, include_children: bool) -> list[str]:
    return [query_organization, *(lattice.organizations_under(query_organization) if include_children else ())]


def selected_rows(lattice: Lattice, query: MeasureQuery) -> np.ndarray:
    return lattice.select(organizations_of(lattice, query.organization_id, query.include_children), query.filters())


def published(snapshot: Snapshot, rows: np.ndarray, reference_group: str) -> list[PublishedCell]:
    lattice = snapshot.lattice
    references = lattice.rows_like(rows, GROUP, reference_group).tolist()
    publisher = Publisher(lattice, reference_group, snapshot.shown)
    return [publisher.cell(row, reference if reference >= 0 else None)
            for row, reference in zip(rows.tolist(), references)]


def published_cells(query: MeasureQuery, index: MeasureIndex | None = None) -> list[PublishedCell]:
    """Every cell `query` selects, suppressed and coded as every view shows it (inquiry-cycle
    snapshots, exports). Unbounded in rows: callers keep queries narrow or page with `page`."""
    snapshot = (index or process_index()).measures()
    return published(snapshot, selected_rows(snapshot.lattice, query), query.reference_group)


@dataclass(frozen=True)
class Page:
    # PublishedCells, or what `render` made of them.
    cells: list
    next_page_token: str
    snapshot: Snapshot


def page(query: MeasureQuery, requested_size: int, page_token: str, index: MeasureIndex | None = None,
         render: Callable[[PublishedCell], object] | None = None) -> Page:
    """One page of `query`'s cells; a token is good for the generation of data sets it was issued in.

    With `render` (a cell as a reply message), the rendered cells are kept for the generation, so a
    table read again costs little more than finding its rows (`render` must not depend on the caller)."""
    size = page_size(requested_size)
    snapshot = (index or process_index()).measures()
    offset = offset_of(page_token, query.as_token_query(), snapshot.generation)
    rows = selected_rows(snapshot.lattice, query)
    chosen = rows[offset:offset + size]
    token = encode_token(f"{snapshot.generation}:{offset + size}", query.as_token_query()) \
        if offset + size < len(rows) else ""
    if render is None:
        return Page(published(snapshot, chosen, query.reference_group), token, snapshot)
    return Page(rendered(snapshot, chosen, query.reference_group, render), token, snapshot)


def rendered(snapshot: Snapshot, rows: np.ndarray, reference_group: str,
             render: Callable[[PublishedCell], object]) -> list:
    kept = snapshot.rendered
    if len(kept) > MAX_RENDERED_CELLS:
        kept.clear()
    found = [kept.get((row, reference_group, render)) for row in rows.tolist()]
    missing = [n for n, cell in enumerate(found) if cell is None]
    if missing:
        for n, cell in zip(missing, published(snapshot, rows[missing], reference_group)):
            found[n] = kept[(int(rows[n]), reference_group, render)] = render(cell)
    return found


def offset_of(page_token: str, token_query: dict, generation: str) -> int:
    after = decode_token(page_token, token_query)
    if after is None:
        return 0
    issued_in, _, offset = after.rpartition(":")
    if issued_in != generation:
        raise InvalidArgument.for_field("page_token", "was issued before the data sets changed; ask for the first "
                                        "page again", reason="PAGE_TOKEN_EXPIRED")
    if not offset.isdigit():
        raise InvalidArgument.for_field("page_token", "is not a token this service issued")
    return int(offset)
