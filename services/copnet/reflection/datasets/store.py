"""The data-set store: where imported rows and their roll-ups live, and what the rest of
reflection reads of them.

Student rows are Parquet files, not MongoDB documents (the embedded MongoDB-wire server scans
about 100k documents a second; DuckDB and pyarrow read a million Parquet rows in well under a
second). Each data set is one directory, `<store>/<data set id>/`:

    students.parquet          STUDENT_ROWS (student_scores data sets)
    measure_cells.parquet     MEASURE_CELLS: its roll-ups, sums, one row per cell
    teacher_cells.parquet     TEACHER_CELLS (rewritten when enrollments come or go)
    growth.parquet            GROWTH_CELLS between its own windows
    growth_with/<other>.parquet  GROWTH_CELLS between its windows and another data set's
    organizations.parquet     (organization_id, parent_id, level) of every organization in its cells
    aggregate_results.parquet AGGREGATE_RESULTS + organization_id (aggregate_results data sets)
    enrollments.parquet       ENROLLMENTS (class_enrollments data sets)

An import writes `<store>/<id>.partial/` and renames it to `<store>/<id>/` just before its data
set turns READY: a directory without `.partial` is whole. Every reader here reads READY data
sets only, so a data set being imported, failed or being deleted counts nowhere.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from copnet.kernel.settings import settings as process_settings
from copnet.reflection import columns
from copnet.reflection.datasets.models import (
    AGGREGATE_RESULTS,
    CLASS_ENROLLMENTS,
    READY,
    STORE_GENERATION_ID,
    STUDENT_SCORES,
    DataSet,
    StoreGeneration,
)

STUDENTS = "students.parquet"
MEASURE_CELLS = "measure_cells.parquet"
TEACHER_CELLS = "teacher_cells.parquet"
GROWTH = "growth.parquet"
GROWTH_WITH = "growth_with"
ORGANIZATIONS = "organizations.parquet"
AGGREGATES = "aggregate_results.parquet"
ENROLLMENTS = "enrollments.parquet"
PARTIAL_SUFFIX = ".partial"
# Where DuckDB spills what does not fit its memory limit during roll-ups.
SPILL = ".spill"

ORGANIZATION_PARENTS = pa.schema([("organization_id", pa.string()), ("parent_id", pa.string()),
                                  ("level", pa.string())])
AGGREGATE_ROWS = columns.AGGREGATE_RESULTS.append(pa.field("organization_id", pa.string()))

_directory_override: Path | None = None


def use_directory(directory: Path | None) -> None:
    """Keep the store in `directory` (a benchmark or test in one process); None: from settings."""
    global _directory_override
    _directory_override = Path(directory) if directory is not None else None


def directory() -> Path:
    """The store's root: COPNET_REFLECTION_STORE_DIR, or <data dir>/reflection."""
    if _directory_override is not None:
        return _directory_override
    configured = process_settings()
    return Path(configured.reflection_store_dir or configured.data_dir / "reflection").resolve()


def data_set_dir(data_set_id: str) -> Path:
    return directory() / data_set_id


def partial_dir(data_set_id: str) -> Path:
    return directory() / f"{data_set_id}{PARTIAL_SUFFIX}"


@dataclass(frozen=True)
class ReadyDataSet:
    id: str
    kind: str
    organization_id: str
    # The organization's ancestry plus itself.
    scope: tuple[str, ...]
    tests: tuple[str, ...]
    school_years: tuple[str, ...]
    windows: tuple[str, ...]


# -- what is READY, cached per generation ------------------------------------------------------------
_lock = threading.Lock()
_cache: dict[str, object] = {}
_cached_generation: str | None = None


def ready_generation() -> str:
    """An opaque string that changes whenever what the readers below return changes (a data set
    READY or gone, teacher cells recomputed): one small MongoDB read. Cache on it."""
    state = StoreGeneration.objects(id=STORE_GENERATION_ID).only("generation").first()
    return str(state.generation if state is not None else 0)


def _cached(name: str, compute):
    """`compute()` once per generation."""
    global _cached_generation
    generation = ready_generation()
    with _lock:
        if generation != _cached_generation:
            _cache.clear()
            _cached_generation = generation
        if name in _cache:
            return _cache[name]
    value = compute()
    with _lock:
        if _cached_generation == generation:
            _cache[name] = value
    return value


def ready_data_sets(kind: str | None = None) -> list[ReadyDataSet]:
    """Every READY data set (of `kind`), oldest first."""
    def compute() -> list[ReadyDataSet]:
        found = DataSet.objects(status=READY).only(
            "id", "kind", "organization_id", "scope", "tests", "school_years", "windows", "created_at"
        ).order_by("created_at", "id")
        return [ReadyDataSet(d.id, d.kind, d.organization_id, tuple(d.scope or ()), tuple(d.tests or ()),
                             tuple(d.school_years or ()), tuple(d.windows or ())) for d in found]

    every = _cached("ready", compute)
    return [d for d in every if kind is None or d.kind == kind]


def _read_all(paths: Iterable[Path], schema: pa.Schema) -> pa.Table:
    tables = [pq.read_table(path, schema=schema) for path in paths if path.exists()]
    return pa.concat_tables(tables) if tables else schema.empty_table()


# -- the readers other areas use ----------------------------------------------------------------------
def measure_cells() -> pa.Table:
    """MEASURE_CELLS of every READY student-score data set, one table, not summed across data sets
    (cells are sums, so the same cell of two data sets adds up)."""
    return _cached("measure_cells", lambda: _read_all(
        (data_set_dir(d.id) / MEASURE_CELLS for d in ready_data_sets(STUDENT_SCORES)), columns.MEASURE_CELLS))


def growth_cells() -> pa.Table:
    """GROWTH_CELLS of every READY student-score data set: between its own windows, and between its
    windows and those of each other data set that is READY too (a pair is kept with the later
    imported of the two, so deleting either drops it)."""
    def compute() -> pa.Table:
        ready = {d.id for d in ready_data_sets(STUDENT_SCORES)}
        paths = []
        for data_set_id in sorted(ready):
            folder = data_set_dir(data_set_id)
            paths.append(folder / GROWTH)
            with_dir = folder / GROWTH_WITH
            if with_dir.is_dir():
                paths += [path for path in sorted(with_dir.glob("*.parquet")) if path.stem in ready]
        return _read_all(paths, columns.GROWTH_CELLS)

    return _cached("growth_cells", compute)


def teacher_cells() -> pa.Table:
    """TEACHER_CELLS of every READY student-score data set (a student's teacher from the score
    file's teacher column, else from READY class-enrollment data sets)."""
    return _cached("teacher_cells", lambda: _read_all(
        (data_set_dir(d.id) / TEACHER_CELLS for d in ready_data_sets(STUDENT_SCORES)), columns.TEACHER_CELLS))


def aggregate_results() -> pa.Table:
    """The rows of every READY aggregate-results data set (the state's published baselines), in
    AGGREGATE_RESULTS' columns plus `organization_id`: the copnet organization whose code is the
    entity code, "" where no organization has it (the state, other counties)."""
    return _cached("aggregate_results", lambda: _read_all(
        (data_set_dir(d.id) / AGGREGATES for d in ready_data_sets(AGGREGATE_RESULTS)), AGGREGATE_ROWS))


def organization_parents() -> dict[str, tuple[str, str]]:
    """Organization id -> (parent id, level) of every organization in READY data sets' cells
    (levels "school", "district", "county_office", "region"; the region's parent is "")."""
    def compute() -> dict[str, tuple[str, str]]:
        parents: dict[str, tuple[str, str]] = {}
        for data_set in ready_data_sets():  # oldest first: a later import's view of the tree wins
            path = data_set_dir(data_set.id) / ORGANIZATIONS
            if path.exists():
                table = pq.read_table(path, schema=ORGANIZATION_PARENTS)
                for org, parent, level in zip(*(table.column(n).to_pylist() for n in ORGANIZATION_PARENTS.names)):
                    parents[org] = (parent or "", level)
        return parents

    return dict(_cached("organization_parents", compute))


def student_files(data_set_ids: Iterable[str] | None = None) -> list[Path]:
    """students.parquet (STUDENT_ROWS) of every READY student-score data set, or of those of
    `data_set_ids` that are READY. Student-level: callers check access and audit the read."""
    wanted = None if data_set_ids is None else set(data_set_ids)
    return [data_set_dir(d.id) / STUDENTS for d in ready_data_sets(STUDENT_SCORES)
            if wanted is None or d.id in wanted]


def enrollment_files() -> list[Path]:
    """enrollments.parquet (ENROLLMENTS: pseudonym, teacher, class, school, year) of every READY
    class-enrollment data set."""
    return [data_set_dir(d.id) / ENROLLMENTS for d in ready_data_sets(CLASS_ENROLLMENTS)]
