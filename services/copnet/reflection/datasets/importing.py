"""The import pipeline, without bookkeeping: batches in, a whole data-set directory out.

`Reading` takes an importer's batches one at a time — checks them (`validation`), pseudonymises,
appends the good rows to one Parquet file and keeps the first errors — so memory holds one batch,
never the file. `finish` then rejects duplicate students (within the file, and against READY data
sets) and writes the roll-ups next to the rows. Everything goes to a `.partial` directory the
caller renames once its data set turns READY (`jobs.py`); a failure leaves nothing behind.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

import copnet.reflection.datasets.rollups as rollups
import copnet.reflection.datasets.store as store
from copnet.pluginapi import AssessmentBatch
from copnet.reflection import columns
from copnet.reflection.datasets.models import (
    AGGREGATE_RESULTS,
    CLASS_ENROLLMENTS,
    MAX_LISTED_ERRORS,
    STUDENT_SCORES,
)
from copnet.reflection.datasets.validation import (
    Checked,
    OrganizationTree,
    WrongShape,
    check_aggregates,
    check_enrollments,
    check_scores,
    conform,
)

# Rows one importer batch may hold (a batch is in memory whole).
MAX_BATCH_ROWS = 1_000_000
# Rows checked and written together (one Parquet row group at least this large).
GROUP_ROWS = 50_000
UNCHECKED = "students.unchecked.parquet"
ROWS_FILE = {STUDENT_SCORES: store.STUDENTS, AGGREGATE_RESULTS: store.AGGREGATES,
             CLASS_ENROLLMENTS: store.ENROLLMENTS}
ROWS_SCHEMA = {STUDENT_SCORES: columns.STUDENT_ROWS, AGGREGATE_RESULTS: store.AGGREGATE_ROWS,
               CLASS_ENROLLMENTS: columns.ENROLLMENTS}


class ImportFailed(Exception):
    """The file as a whole cannot be imported; the message names the file and the rule."""


@dataclass(frozen=True)
class RowProblem:
    file: str
    row: int
    field: str
    reason: str
    message: str


@dataclass
class Outcome:
    rows_read: int = 0
    rows_imported: int = 0
    rows_rejected: int = 0
    bytes_read: int = 0
    errors: list[RowProblem] = field(default_factory=list)
    school_years: set[str] = field(default_factory=set)
    windows: set[str] = field(default_factory=set)
    tests: set[str] = field(default_factory=set)
    # (test, school year, window) of the rows kept.
    periods: set[tuple[str, str, str]] = field(default_factory=set)


class Reading:
    """One file's batches checked and written to `directory` as they come."""

    def __init__(self, kind: str, directory: Path, file_name: str, tree: OrganizationTree,
                 pseudonymise: Callable[[pa.Array], pa.Array], tests: frozenset[str] | None = None):
        self.kind, self.directory, self.file_name = kind, directory, file_name
        self.tree, self.pseudonymise, self.tests = tree, pseudonymise, tests
        self.outcome = Outcome()
        self._writer: pq.ParquetWriter | None = None
        self._writing: ThreadPoolExecutor | None = None
        self._pending: Future | None = None
        self._waiting: list[pa.Table] = []
        self._waiting_rows = 0
        directory.mkdir(parents=True, exist_ok=True)

    @property
    def rows_path(self) -> Path:
        return self.directory / (UNCHECKED if self.kind == STUDENT_SCORES else ROWS_FILE[self.kind])

    def add(self, batch: AssessmentBatch) -> None:
        """One batch of the importer's. Rows are checked and written in groups of at least
        GROUP_ROWS, however small the importer's batches (a batch of 3 rows each would otherwise
        cost a check and a Parquet row group apiece)."""
        if not isinstance(batch, AssessmentBatch):
            raise ImportFailed(f"{self.file_name}: the importer returned {type(batch).__name__}, not an "
                               "AssessmentBatch")
        outcome = self.outcome
        outcome.bytes_read = max(outcome.bytes_read, int(batch.bytes_read or 0))
        unread = [RowProblem(self.file_name if not e.file else e.file, int(e.row), e.field, e.reason, e.message)
                  for e in batch.errors]
        outcome.rows_read += len({e.row for e in unread})
        self.reject(unread)
        if batch.rows is None:
            return
        if getattr(batch.rows, "num_rows", 0) > MAX_BATCH_ROWS:
            raise ImportFailed(f"{self.file_name}: the importer returned a batch of more than "
                               f"{MAX_BATCH_ROWS:,} rows")
        try:
            rows = conform(batch.rows, columns.IMPORT_SCHEMAS[self.kind], self.file_name)
        except WrongShape as wrong:
            raise ImportFailed(str(wrong)) from None
        self._waiting.append(rows)
        self._waiting_rows += rows.num_rows
        if self._waiting_rows >= GROUP_ROWS:
            self._check_waiting()

    def _check_waiting(self) -> None:
        if not self._waiting:
            return
        rows = self._waiting[0] if len(self._waiting) == 1 else pa.concat_tables(self._waiting)
        self._waiting, self._waiting_rows = [], 0
        outcome = self.outcome
        checked = self.check(rows)
        rejected = len(pc.unique(checked.errors.column("row")))
        outcome.rows_read += checked.rows.num_rows + rejected
        if rejected:
            listed_room = MAX_LISTED_ERRORS - len(outcome.errors)
            outcome.rows_rejected += rejected
            if listed_room > 0:
                for error in checked.errors.slice(0, listed_room).to_pylist():
                    outcome.errors.append(RowProblem(self.file_name, error["row"], error["field"], error["reason"],
                                                     error["message"]))
        if checked.rows.num_rows:
            self.write(checked.rows)

    def check(self, rows) -> Checked:
        try:
            if self.kind == STUDENT_SCORES:
                return check_scores(rows, self.file_name, self.tree, self.pseudonymise, self.tests)
            if self.kind == CLASS_ENROLLMENTS:
                return check_enrollments(rows, self.file_name, self.tree, self.pseudonymise)
            return check_aggregates(rows, self.file_name, self.tree)
        except WrongShape as wrong:
            raise ImportFailed(str(wrong)) from None

    def reject(self, problems: Sequence[RowProblem]) -> None:
        """Rows the importer could not read (counted once per row)."""
        if not problems:
            return
        self.outcome.rows_rejected += len({p.row for p in problems})
        room = MAX_LISTED_ERRORS - len(self.outcome.errors)
        self.outcome.errors += list(problems[:max(room, 0)])

    def write(self, rows: pa.Table) -> None:
        outcome = self.outcome
        outcome.rows_imported += rows.num_rows
        if self.kind in (STUDENT_SCORES, AGGREGATE_RESULTS):
            outcome.school_years.update(pc.unique(rows.column("school_year")).to_pylist())
            outcome.tests.update(pc.unique(rows.column("test")).to_pylist())
        if self.kind == STUDENT_SCORES:
            outcome.windows.update(pc.unique(rows.column("window")).to_pylist())
            periods = rows.select(["test", "school_year", "window"]).group_by(["test", "school_year", "window"])
            outcome.periods.update(tuple(p.values()) for p in periods.aggregate([]).to_pylist())
        if self._writer is None:
            self._writer = pq.ParquetWriter(self.rows_path, ROWS_SCHEMA[self.kind], compression="zstd")
            self._writing = ThreadPoolExecutor(max_workers=1, thread_name_prefix="rows-writer")
        # Compressing and writing a batch (Arrow's C++, the GIL released) overlaps checking the
        # next one; one batch at most waits, so memory stays at two batches.
        self._wait_for_write()
        self._pending = self._writing.submit(self._writer.write_table, rows)

    def _wait_for_write(self) -> None:
        if self._pending is not None:
            pending, self._pending = self._pending, None
            pending.result()

    def close(self) -> None:
        """The rows still waiting checked and written, and the file closed: the reading is done."""
        self._check_waiting()
        self.abort()

    def abort(self) -> None:
        """The file closed as it is (after a failure: nothing more is checked)."""
        self._waiting, self._waiting_rows = [], 0
        if self._writer is not None:
            try:
                self._wait_for_write()
            finally:
                self._writing.shutdown(wait=True)
                self._writer.close()
                self._writer = None


# -- after the last batch -----------------------------------------------------------------------------
DUPLICATE_KEY = ("pseudonym", "test", "school_year", "window")


def duplicates(con, unchecked: Path, others: Sequence[Path]) -> pa.Table:
    """(row, reason, message) of each row whose student already has a result for the same test,
    school year and window: earlier in the file (the first is kept), or in a READY data set."""
    key = ", ".join(rollups.quoted(k) for k in DUPLICATE_KEY)
    rows = rollups.parquet(unchecked)
    queries = []
    # Most files have no duplicate: one aggregate says so; only the students it finds are ranked.
    doubled = con.sql(f"SELECT {key} FROM {rows} GROUP BY ALL HAVING count(*) > 1").to_arrow_table()
    if doubled.num_rows:
        con.register("doubled_keys", doubled)
        queries.append(
            f"SELECT \"row\", 'DUPLICATE_STUDENT' AS reason, 'the same student has a result for ' || test || ' ' "
            f"|| school_year || ' ' || \"window\" || ' in row ' || first_row || ' already' AS message FROM ("
            f"SELECT \"row\", test, school_year, \"window\", min(\"row\") OVER (PARTITION BY {key}) AS first_row "
            f"FROM {rows} SEMI JOIN doubled_keys USING ({key})) WHERE \"row\" <> first_row")
    if others:
        queries.append(
            f"SELECT s.\"row\", 'DUPLICATE_STUDENT_IMPORTED' AS reason, 'the same student has a result for ' "
            f"|| s.test || ' ' || s.school_year || ' ' || s.\"window\" || ' in data set ' || "
            f"parse_dirpath(o.filename).split('/')[-1] || ' already' AS message "
            f"FROM {rows} s JOIN (SELECT {key}, filename FROM read_parquet(["
            + ", ".join(rollups.literal(str(p)) for p in others) + f"], filename = true)) o USING ({key})")
    if not queries:
        return pa.table({"row": pa.array([], pa.int64()), "reason": pa.array([], pa.string()),
                         "message": pa.array([], pa.string())})
    union = " UNION ALL ".join(f"({query})" for query in queries)
    found = con.sql(f"SELECT \"row\", arg_min(reason, reason) AS reason, arg_min(message, reason) AS message "
                    f"FROM ({union}) GROUP BY \"row\" ORDER BY \"row\"").to_arrow_table()
    if doubled.num_rows:
        con.unregister("doubled_keys")
    return found


def finish_scores(reading: Reading, others: Sequence[Path], enrollments: Sequence[Path],
                  parents: dict[str, tuple[str, str]]) -> list[tuple[str, pa.Table]]:
    """students.parquet without duplicate students, and the roll-ups beside it; returns the growth
    cells to keep per other data set (id, cells) — written by the caller with the others READY."""
    directory, outcome = reading.directory, reading.outcome
    con = rollups.connection(directory.parent / store.SPILL)
    try:
        unchecked, students = directory / UNCHECKED, directory / store.STUDENTS
        doubled = duplicates(con, unchecked, others)
        if doubled.num_rows:
            rows = doubled.column("row")
            outcome.rows_rejected += doubled.num_rows
            outcome.rows_imported -= doubled.num_rows
            room = MAX_LISTED_ERRORS - len(outcome.errors)
            for item in doubled.slice(0, max(room, 0)).to_pylist():
                outcome.errors.append(RowProblem(reading.file_name, item["row"], "student_id", item["reason"],
                                                 item["message"]))
            con.register("rejected_rows", pa.table({"row": rows}))
            con.sql(f"COPY (SELECT * FROM {rollups.parquet(unchecked)} WHERE \"row\" NOT IN "
                    f"(SELECT \"row\" FROM rejected_rows)) TO {rollups.literal(str(students))} "
                    "(FORMAT parquet, COMPRESSION zstd)")
            unchecked.unlink()
        else:
            unchecked.rename(students)
        if outcome.rows_imported == 0:
            return []
        measures, teachers = rollups.measure_and_teacher_cells(con, students, enrollments)
        pq.write_table(measures, directory / store.MEASURE_CELLS)
        pq.write_table(teachers, directory / store.TEACHER_CELLS)
        if len(outcome.periods) > 1:  # one window per test has no growth within the file
            pq.write_table(rollups.growth_cells(con, students, students), directory / store.GROWTH)
        write_parents(directory, parents)
        return [(other.parent.name, rollups.growth_between(con, students, other)) for other in others]
    finally:
        con.close()


def write_parents(directory: Path, parents: dict[str, tuple[str, str]]) -> None:
    ids = sorted(parents)
    pq.write_table(pa.table({"organization_id": ids, "parent_id": [parents[i][0] for i in ids],
                             "level": [parents[i][1] for i in ids]}, schema=store.ORGANIZATION_PARENTS),
                   directory / store.ORGANIZATIONS)


def write_growth(directory: Path, pairs: Sequence[tuple[str, pa.Table]]) -> None:
    """Growth with other data sets, kept with this one (`store.growth_cells` reads a pair while both are READY)."""
    folder = directory / store.GROWTH_WITH
    for other_id, cells in pairs:
        if cells.num_rows:
            folder.mkdir(exist_ok=True)
            pq.write_table(cells, folder / f"{other_id}.parquet")


def listed(errors: Sequence[RowProblem]) -> list[RowProblem]:
    """The errors kept to list, in row order."""
    return sorted(errors[:MAX_LISTED_ERRORS], key=lambda e: (e.file, e.row))
