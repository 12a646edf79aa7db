"""Reading student-level rows from the store's Parquet files with DuckDB, always narrowed to one
teacher's students or one organization's rows (never a scan of everything), a bounded page at a
time. Access and the audit entry are the caller's (rpc.py): this module only reads."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from copnet.kernel.errors import InvalidArgument
from copnet.reflection import reference
from copnet.reflection.datasets.rollups import connection, literal
from copnet.reflection.v1 import student_rows_pb2

SCHOOL_YEAR = re.compile(r"^\d{4}-\d{2}$")
LABEL_MAX = 64
ID_MAX = 128
# Rows one page carries at most (a class or two of a teacher; a steward pages on).
MAX_PAGE_SIZE = 500
DEFAULT_PAGE_SIZE = 100
# The offset a page token may carry at most: a steward reading deeper narrows the filters instead.
MAX_OFFSET = 1_000_000
COLUMNS = ("pseudonym", "school_id", "district_id", "county_office_id", "grade", "test", "school_year", "window",
           "test_date", "scale_score", "achievement_level", "distance_from_standard", "percentile",
           "proficiency_band", "teacher_id", "english_learner", "disability", "economically_disadvantaged",
           "foster", "homeless", "race_ethnicity", "row")


@dataclass(frozen=True)
class Filter:
    test: str = ""
    school_year: str = ""
    window: str = ""
    grade: str = ""
    school_id: str = ""

    def as_dict(self) -> dict[str, str]:
        return {name: value for name, value in vars(self).items() if value}


def filter_of(message: student_rows_pb2.StudentResultFilter) -> Filter:
    """The filter checked: each value bounded and of its known shape (a field named when not)."""
    if len(message.test) > LABEL_MAX or (message.test and not message.test.strip()):
        raise InvalidArgument.for_field("filter.test", f"must be a test key of at most {LABEL_MAX} characters")
    if message.school_year and not SCHOOL_YEAR.match(message.school_year):
        raise InvalidArgument.for_field("filter.school_year", 'must look like "2024-25"')
    if message.window and message.window not in reference.WINDOWS:
        raise InvalidArgument.for_field("filter.window", f"must be one of {', '.join(reference.WINDOWS)}")
    if message.grade and message.grade not in reference.GRADES:
        raise InvalidArgument.for_field("filter.grade", f"must be one of {', '.join(reference.GRADES)}")
    if len(message.school_id) > ID_MAX:
        raise InvalidArgument.for_field("filter.school_id", f"must be at most {ID_MAX} characters")
    return Filter(message.test, message.school_year, message.window, message.grade, message.school_id)


def page_size_of(requested: int) -> int:
    if requested < 0:
        raise InvalidArgument.for_field("page_size", "must not be negative")
    return min(requested or DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)


@dataclass(frozen=True)
class Narrowing:
    """Whose rows: a teacher's students (rows naming them, or enrolled in their class that school
    year), an organization's rows (at any level), or one data set's (the files given are its own);
    at least one of them is set."""

    teacher_id: str = ""
    organization_id: str = ""
    enrollments: Sequence[Path] = field(default_factory=tuple)
    data_set_id: str = ""

    def __post_init__(self):
        if not (self.teacher_id or self.organization_id or self.data_set_id):
            raise ValueError("student rows are read for a teacher, an organization or a data set, never all of them")


def where(narrowing: Narrowing, chosen: Filter) -> tuple[str, list]:
    """The WHERE clause over `s` (a students.parquet row) and its parameters."""
    clauses, params = ["TRUE"], []
    if narrowing.teacher_id:
        teacher = "s.teacher_id = ?"
        params.append(narrowing.teacher_id)
        enrollments = [path for path in narrowing.enrollments if path.exists()]
        if enrollments:
            files = "read_parquet([" + ", ".join(literal(str(p)) for p in enrollments) + "])"
            teacher = (f"({teacher} OR EXISTS (SELECT 1 FROM {files} e WHERE e.teacher_id = ? "
                       "AND e.pseudonym = s.pseudonym AND (e.school_year IS NULL OR e.school_year = s.school_year)))")
            params.append(narrowing.teacher_id)
        clauses.append(teacher)
    if narrowing.organization_id:
        clauses.append("? IN (s.school_id, s.district_id, s.county_office_id, s.region_id)")
        params.append(narrowing.organization_id)
    for name, value in chosen.as_dict().items():
        clauses.append(f's."{name}" = ?')
        params.append(value)
    return " AND ".join(clauses), params


@dataclass(frozen=True)
class Page:
    rows: list[student_rows_pb2.StudentResult]
    # Offset of the next page, None on the last.
    next_offset: int | None


def read(files: Sequence[Path], narrowing: Narrowing, chosen: Filter, size: int, offset: int) -> Page:
    """One page of rows of `files` (students.parquet of READY data sets, each in its data set's
    folder), in data set then file row order."""
    present = [path for path in files if path.exists()]
    if not present:
        return Page([], None)
    clause, params = where(narrowing, chosen)
    files_sql = "read_parquet([" + ", ".join(literal(str(p)) for p in present) + "], filename = true)"
    sql = (f"SELECT s.filename, {', '.join('s.' + c for c in COLUMNS)} FROM {files_sql} s WHERE {clause} "
           f"ORDER BY s.filename, s.row LIMIT {int(size) + 1} OFFSET {int(offset)}")
    con = connection()
    try:
        found = con.execute(sql, params).fetchall()
    finally:
        con.close()
    more = len(found) > size
    return Page([result(row) for row in found[:size]], offset + size if more else None)


def result(row: tuple) -> student_rows_pb2.StudentResult:
    filename, *values = row
    kept = dict(zip(COLUMNS, values))
    message = student_rows_pb2.StudentResult(data_set_id=Path(filename).parent.name)
    for name in ("pseudonym", "school_id", "district_id", "county_office_id", "grade", "test", "school_year",
                 "window", "proficiency_band", "teacher_id", "race_ethnicity"):
        setattr(message, name, kept[name] or "")
    for name in ("english_learner", "disability", "economically_disadvantaged", "foster", "homeless"):
        setattr(message, name, bool(kept[name]))
    message.scale_score = float(kept["scale_score"] or 0.0)
    message.achievement_level = int(kept["achievement_level"] or 0)
    message.row = int(kept["row"] or 0)
    if isinstance(kept["test_date"], dt.date):
        message.test_date = kept["test_date"].isoformat()
    for name in ("distance_from_standard", "percentile"):
        if kept[name] is not None:
            setattr(message, name, float(kept[name]))
    return message
