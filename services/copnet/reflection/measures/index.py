"""The measure index of this process: the READY data sets' cells summed and suppressed once, kept
in memory and built again only when the set of READY data sets changes.

Every query, export, snapshot and published event reads the same suppressed lattice, so a cell
withheld in one view is withheld in all of them.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

import pyarrow as pa

import copnet.reflection.measures.lattice as lattice_module
from copnet.kernel.service import PeriodicJob
from copnet.kernel.settings import settings as process_settings
from copnet.reflection import columns
from copnet.reflection.measures.lattice import Lattice

log = logging.getLogger(__name__)
MEASURE_PARTITION = ("test", "school_year", "window")
GROWTH_PARTITION = ("test", "from_school_year", "from_window", "to_school_year", "to_window")
MEASURE_SUMS = ("students", "scale_sum", "scale_square_sum", "level_1", "level_2", "level_3", "level_4",
                "dfs_students", "dfs_sum")
GROWTH_SUMS = ("students", "change_sum", "change_square_sum")
# How often, at most, the store is asked whether the READY data sets changed (0: on every read, one
# small MongoDB read; a query right after an import then sees it).
CHECK_SECONDS = 0.0
# How long a query waits for the lattice of a new generation before answering from the previous one.
FRESH_WAIT_SECONDS = 3.0
# How often the lattices are brought up to date without waiting for a query.
WARM_SECONDS = 5.0


class CellSource(Protocol):
    """What the index reads (copnet.reflection.datasets.store)."""

    def ready_generation(self) -> str: ...
    def measure_cells(self) -> pa.Table: ...
    def growth_cells(self) -> pa.Table: ...
    def teacher_cells(self) -> pa.Table: ...
    def aggregate_results(self) -> pa.Table: ...
    def organization_parents(self) -> dict[str, tuple[str, str]]: ...


@dataclass(frozen=True)
class Snapshot:
    """One generation's suppressed lattice, and the figures of its rows as published so far (they
    never change within a generation: each is worked out once)."""

    generation: str
    lattice: Lattice
    min_cell: int
    shown: dict = field(default_factory=dict, compare=False, repr=False)
    # Cells as reply messages, by (row, reference group, renderer).
    rendered: dict = field(default_factory=dict, compare=False, repr=False)


class MeasureIndex:
    """The lattices of one process, each built on first use per generation.

    When the READY data sets change, the lattice is built again in the background; a query waits
    up to FRESH_WAIT_SECONDS for it (a small region's is ready by then), else answers from the
    previous one (a large region's takes a while). Every answer names the generation it comes
    from. The very first build is always waited for.
    """

    def __init__(self, source: CellSource | None = None, min_cell: int | None = None,
                 clock: Callable[[], float] = time.monotonic, fresh_wait: float = FRESH_WAIT_SECONDS,
                 check_seconds: float = CHECK_SECONDS):
        self._source = source
        self._check_seconds = check_seconds
        self._fresh_wait = fresh_wait
        self._min_cell = min_cell
        self._clock = clock
        self._lock = threading.Lock()
        self._build_lock = threading.Lock()  # one build at a time
        self._generation: str | None = None
        self._checked_at = float("-inf")
        self._built: dict[str, Snapshot] = {}
        self._building: dict[str, threading.Thread] = {}

    @property
    def source(self) -> CellSource:
        if self._source is None:
            from copnet.reflection.datasets import (
                store,  # the store reads settings on first use
            )
            self._source = store
        return self._source

    @property
    def min_cell(self) -> int:
        return self._min_cell if self._min_cell is not None else process_settings().suppression_min_cell

    def generation(self) -> str:
        """The READY data sets' generation, asked of the store at most once a `check_seconds`."""
        now = self._clock()
        if self._generation is None or now - self._checked_at >= self._check_seconds:
            generation = self.source.ready_generation()
            with self._lock:
                self._generation, self._checked_at = generation, now
        return self._generation

    def settle(self, timeout: float | None = None) -> None:
        """Wait for the builds under way (tests, benchmarks)."""
        for thread in list(self._building.values()):
            thread.join(timeout)

    def _snapshot(self, name: str, build: Callable[[], Lattice]) -> Snapshot:
        generation = self.generation()
        with self._lock:
            built = self._built.get(name)
            thread = None
            if built is not None and built.generation != generation:
                thread = self._building.get(name)
                if thread is None:
                    thread = threading.Thread(target=self._rebuild, args=(name, build, generation),
                                              name=f"measure-index-{name}", daemon=True)
                    self._building[name] = thread
                    thread.start()
        if built is not None:
            if thread is not None:  # a small build is waited for; a long one answers from the previous lattice
                thread.join(self._fresh_wait)
                with self._lock:
                    built = self._built.get(name, built)
            return built
        with self._build_lock:
            with self._lock:
                built = self._built.get(name)
                if built is not None:  # another caller built it meanwhile
                    return built
            built = Snapshot(generation, build(), self.min_cell)
            with self._lock:
                self._built[name] = built
            return built

    def _rebuild(self, name: str, build: Callable[[], Lattice], generation: str) -> None:
        try:
            with self._build_lock:
                snapshot = Snapshot(generation, build(), self.min_cell)
            with self._lock:
                self._built[name] = snapshot
        except Exception:
            log.exception("measures: building the %s index of generation %s failed; the previous one is kept",
                          name, generation)
        finally:
            with self._lock:
                self._building.pop(name, None)

    def measures(self) -> Snapshot:
        return self._snapshot("measures", lambda: lattice_module.build(
            _conformed(self.source.measure_cells(), columns.MEASURE_CELLS), MEASURE_PARTITION, MEASURE_SUMS,
            self.source.organization_parents(), self.min_cell))

    def growth(self) -> Snapshot:
        return self._snapshot("growth", lambda: lattice_module.build(
            _conformed(self.source.growth_cells(), columns.GROWTH_CELLS), GROWTH_PARTITION, GROWTH_SUMS,
            self.source.organization_parents(), self.min_cell))


def _conformed(table: pa.Table, schema: pa.Schema) -> pa.Table:
    return table.select(schema.names).cast(schema)


_process_index: MeasureIndex | None = None
_process_lock = threading.Lock()


def process_index() -> MeasureIndex:
    """This process's index over the data-set store."""
    global _process_index
    with _process_lock:
        if _process_index is None:
            _process_index = MeasureIndex()
        return _process_index


def use_process_index(index: MeasureIndex | None) -> None:
    """Serve this process's measures from `index` (a benchmark's own cells); None: the store again."""
    global _process_index
    with _process_lock:
        _process_index = index


def warm() -> None:
    """Build (or start building) this process's lattices for the current generation, so that a
    query after an import or a restart seldom waits for one."""
    index = process_index()
    index.measures()
    index.growth()


def jobs(_ctx) -> list[PeriodicJob]:
    return [PeriodicJob("measure-index-warm", WARM_SECONDS, warm)]
