"""Growth: the same students' change between two windows or years (GROWTH_CELLS, matched at
import by pseudonym), summed and suppressed over their own lattice like any measure cell."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

import copnet.reflection.measures.queries as queries
from copnet.kernel.errors import InvalidArgument
from copnet.reflection.measures.figures import mean_and_sd
from copnet.reflection.measures.index import MeasureIndex, Snapshot, process_index
from copnet.reflection.measures.lattice import GRADE, GROUP, Lattice

DECIMALS = 1


@dataclass(frozen=True)
class GrowthQuery:
    organization_id: str
    include_children: bool = False
    student_groups: tuple[str, ...] = ()
    grades: tuple[str, ...] = ()
    tests: tuple[str, ...] = ()
    from_school_year: str = ""
    from_window: str = ""
    to_school_year: str = ""
    to_window: str = ""

    def filters(self) -> dict[str, tuple[str, ...]]:
        wanted = {GROUP: self.student_groups, GRADE: self.grades, "test": self.tests,
                  "from_school_year": (self.from_school_year,) if self.from_school_year else (),
                  "from_window": (self.from_window,) if self.from_window else (),
                  "to_school_year": (self.to_school_year,) if self.to_school_year else (),
                  "to_window": (self.to_window,) if self.to_window else ()}
        return {name: values for name, values in wanted.items() if values}

    def as_token_query(self) -> dict:
        return {"o": self.organization_id, "c": self.include_children, "g": list(self.student_groups),
                "gr": list(self.grades), "t": list(self.tests), "fy": self.from_school_year, "fw": self.from_window,
                "ty": self.to_school_year, "tw": self.to_window}


def growth_query(organization: str, include_children: bool, student_groups, grades, tests, from_school_year: str,
                 from_window: str, to_school_year: str, to_window: str) -> GrowthQuery:
    query = GrowthQuery(
        organization_id=queries.organization_id(organization), include_children=include_children,
        student_groups=queries.listed(student_groups, "student_groups", queries.student_group),
        grades=queries.listed(grades, "grades", queries.grade),
        tests=queries.listed(tests, "tests", queries.test),
        from_school_year=queries.school_year(from_school_year, "from_school_year") if from_school_year else "",
        from_window=queries.window(from_window, "from_window") if from_window else "",
        to_school_year=queries.school_year(to_school_year, "to_school_year") if to_school_year else "",
        to_window=queries.window(to_window, "to_window") if to_window else "")
    if query.from_school_year and query.to_school_year and query.to_school_year < query.from_school_year:
        raise InvalidArgument.for_field("to_school_year", "is before from_school_year", reason="YEARS_REVERSED")
    return query


@dataclass(frozen=True)
class GrowthCell:
    organization_id: str
    level: str
    student_group: str
    grade: str
    test: str
    from_school_year: str
    from_window: str
    to_school_year: str
    to_window: str
    withheld: bool
    students: int | None = None
    mean_change: float | None = None
    change_standard_deviation: float | None = None


def published_growth(lattice: Lattice, row: int) -> GrowthCell:
    key = lattice.key(row)
    common = dict(key, level=lattice.level_of.get(key["organization_id"], ""))
    if lattice.withheld[row]:
        return GrowthCell(**common, withheld=True)
    n = int(lattice.sums["students"][row])
    if n <= 0:
        return GrowthCell(**common, withheld=False, students=0)
    mean, sd = mean_and_sd(n, float(lattice.sums["change_sum"][row]), float(lattice.sums["change_square_sum"][row]))
    return GrowthCell(**common, withheld=False, students=n, mean_change=round(mean, DECIMALS),
                      change_standard_deviation=None if sd is None else round(sd, DECIMALS))


@dataclass(frozen=True)
class GrowthPage:
    cells: list[GrowthCell]
    next_page_token: str
    snapshot: Snapshot


def page(query: GrowthQuery, requested_size: int, page_token: str, index: MeasureIndex | None = None) -> GrowthPage:
    size = queries.page_size(requested_size)
    snapshot = (index or process_index()).growth()
    lattice = snapshot.lattice
    offset = queries.offset_of(page_token, query.as_token_query(), snapshot.generation)
    rows: np.ndarray = lattice.select(
        queries.organizations_of(lattice, query.organization_id, query.include_children), query.filters())
    chosen = rows[offset:offset + size]
    token = queries.encode_token(f"{snapshot.generation}:{offset + size}", query.as_token_query()) \
        if offset + size < len(rows) else ""
    return GrowthPage([published_growth(lattice, row) for row in chosen.tolist()], token, snapshot)
