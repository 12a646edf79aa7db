"""Baselines: the state's published research file (aggregate-results data sets) beside our
measures, for the organization asked, the organizations above it and the state. The state
suppressed its own small cells ("*" in the file); they are shown as such, never filled in."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

import pyarrow as pa
import pyarrow.compute as pc

from copnet.reflection.measures.published import Percent, coded
from copnet.reflection.measures.queries import MeasureQuery

MAX_BASELINES = 5000
STATE_LEVEL = "state"


@dataclass(frozen=True)
class BaselineCell:
    entity_code: str
    entity_level: str
    organization_id: str
    student_group: str
    grade: str
    test: str
    school_year: str
    suppressed_by_source: bool
    students_tested: int | None = None
    mean_scale_score: float | None = None
    percent_at_level: tuple[Percent, ...] = ()
    percent_met_or_exceeded: Percent | None = None


def _percent(value) -> Percent | None:
    return None if value is None else coded(float(value))


def baselines(rows: pa.Table, query: MeasureQuery, scope: Collection[str]) -> list[BaselineCell]:
    """The research file's rows for the organizations of `scope` (ancestry + the organization)
    and the state, narrowed like `query` (windows aside: the research file is the spring test)."""
    if not rows.num_rows:
        return []
    wanted = pc.or_(pc.is_in(rows.column("organization_id"), pa.array(list(scope), pa.string())),
                    pc.equal(rows.column("entity_level"), STATE_LEVEL))
    for name, values in (("student_group", query.student_groups), ("grade", query.grades), ("test", query.tests),
                         ("school_year", query.school_years)):
        if values:
            wanted = pc.and_(wanted, pc.is_in(rows.column(name), pa.array(list(values), pa.string())))
    found = rows.filter(pc.fill_null(wanted, False)).slice(0, MAX_BASELINES)
    cells = []
    for row in found.to_pylist():
        withheld = bool(row["suppressed_by_source"]) or row["students_tested"] is None
        if withheld:
            cells.append(BaselineCell(row["entity_code"] or "", row["entity_level"] or "", row["organization_id"] or "",
                                      row["student_group"] or "", row["grade"] or "", row["test"] or "",
                                      row["school_year"] or "", True))
            continue
        levels = [row[f"percent_level_{n}"] for n in range(1, 5)]
        cells.append(BaselineCell(
            row["entity_code"] or "", row["entity_level"] or "", row["organization_id"] or "",
            row["student_group"] or "",
            row["grade"] or "", row["test"] or "", row["school_year"] or "", False,
            students_tested=int(row["students_tested"]),
            mean_scale_score=None if row["mean_scale_score"] is None else round(float(row["mean_scale_score"]), 1),
            percent_at_level=tuple(_percent(v) for v in levels) if all(v is not None for v in levels) else (),
            percent_met_or_exceeded=_percent(row["percent_met_or_exceeded"])))
    return cells
