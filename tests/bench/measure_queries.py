"""Measure queries at 1 M and at 10 M student rows: the same queries against the cells each
population rolls up to, through the reflection servicer's QueryMeasures over real gRPC (in this
process, on a local port), printed as p50 / p99 and the ratio between the two sizes.

The population: 1,000 schools in 50 districts of 5 county offices of one region; grades 3-8 and
11; 8 test windows (2022-23 to 2024-25, fall/winter/spring, the last spring not yet given); 10
student groups (five families of two: English learners, disabilities, socioeconomic, foster,
homeless) beside all students. Students are drawn with numpy and rolled up here into exactly the
MEASURE_CELLS the importer keeps (sums per organization x group x grade x window, grade "all" and
every level above the school), so the index, suppression and queries are the real ones; only the
import is skipped (its own benchmark measures it).
"""

from __future__ import annotations

import statistics
import time
from concurrent import futures
from dataclasses import dataclass

import grpc
import numpy as np
import pyarrow as pa
from copnet.kernel import auth
from copnet.reflection import columns, reference
from copnet.reflection.measures import index as index_module
from copnet.reflection.measures.index import MeasureIndex
from copnet.reflection.measures.rpc import MeasuresRpcs
from copnet.reflection.v1 import measures_pb2, reflection_pb2_grpc

SCHOOLS, DISTRICTS, COUNTIES = 1000, 50, 5
GRADES = ("3", "4", "5", "6", "7", "8", "11")
WINDOWS = [(year, window) for year in ("2022-23", "2023-24", "2024-25") for window in reference.WINDOWS][:8]
FAMILIES = (("el", "not_el", 0.2), ("swd", "not_swd", 0.12), ("sed", "not_sed", 0.55), ("foster", "not_foster", 0.01),
            ("homeless", "not_homeless", 0.03))
GROUPS = (reference.ALL_STUDENTS, *(name for family in FAMILIES for name in family[:2]))
TEST = reference.SBAC_MATH
QUERIES = 200


@dataclass(frozen=True)
class Tree:
    parents: dict[str, tuple[str, str]]

    @staticmethod
    def make() -> Tree:
        parents = {"bench-region": ("", "region")}
        for c in range(COUNTIES):
            parents[f"bench-coe-{c}"] = ("bench-region", "county_office")
        for d in range(DISTRICTS):
            parents[f"bench-usd-{d}"] = (f"bench-coe-{d % COUNTIES}", "district")
        for s in range(SCHOOLS):
            parents[f"bench-school-{s}"] = (f"bench-usd-{s % DISTRICTS}", "school")
        return Tree(parents)


def measure_cells(students: int, seed: int = 12) -> pa.Table:
    """The MEASURE_CELLS of `students` student rows (spread over the windows)."""
    rnd = np.random.default_rng(seed)
    school = rnd.integers(0, SCHOOLS, students, dtype=np.int32)
    grade = rnd.integers(0, len(GRADES), students, dtype=np.int8)
    window = rnd.integers(0, len(WINDOWS), students, dtype=np.int8)
    flags = [rnd.random(students, dtype=np.float32) < share for _first, _second, share in FAMILIES]
    # Scale scores around each grade's standard, lower for the groups the state reports gaps for.
    standard = np.array([TEST.scales[g].standard_met for g in GRADES], dtype=np.float32)
    scale = standard[grade] + rnd.normal(-10, 90, students).astype(np.float32)
    scale -= 35 * flags[0] + 60 * flags[1] + 30 * flags[2]
    low = np.array([TEST.scales[g].lowest for g in GRADES], dtype=np.float32)[grade]
    high = np.array([TEST.scales[g].highest for g in GRADES], dtype=np.float32)[grade]
    scale = np.clip(np.round(scale), low, high).astype(np.float64)
    cuts = np.array([TEST.scales[g].level_minimums for g in GRADES], dtype=np.float64)[grade]
    level = 1 + (scale[:, None] >= cuts).sum(axis=1)
    dfs = scale - standard[grade]
    del low, high, cuts

    slots = SCHOOLS * len(WINDOWS) * len(GRADES)
    key = (school.astype(np.int64) * len(WINDOWS) + window) * len(GRADES) + grade
    members = [np.ones(students, dtype=bool)]
    for flag in flags:
        members += [flag, ~flag]
    frames = []
    for group, member in zip(GROUPS, members):
        k = key[member]
        sums = {"students": np.bincount(k, minlength=slots).astype(np.int64),
                "scale_sum": np.bincount(k, scale[member], slots), "scale_square_sum": np.bincount(
                    k, scale[member] ** 2, slots), "dfs_sum": np.bincount(k, dfs[member], slots)}
        for n in range(1, 5):
            sums[f"level_{n}"] = np.bincount(k[level[member] == n], minlength=slots).astype(np.int64)
        sums["dfs_students"] = sums["students"].copy()
        frames.append(_rolled_up(group, {name: v.reshape(SCHOOLS, len(WINDOWS), len(GRADES))
                                         for name, v in sums.items()}))
    return pa.concat_tables(frames)


def _rolled_up(group: str, sums: dict[str, np.ndarray]) -> pa.Table:
    """Cells of every organization (school, and the sums of the levels above) x window x grade and
    grade "all", for one group; empty cells left out as the roll-up leaves them out."""
    levels = [("school", [f"bench-school-{s}" for s in range(SCHOOLS)], sums)]
    by_district = {n: np.zeros((DISTRICTS, *v.shape[1:]), v.dtype) for n, v in sums.items()}
    for n, v in sums.items():
        np.add.at(by_district[n], np.arange(SCHOOLS) % DISTRICTS, v)
    levels.append(("district", [f"bench-usd-{d}" for d in range(DISTRICTS)], by_district))
    by_county = {n: np.zeros((COUNTIES, *v.shape[1:]), v.dtype) for n, v in sums.items()}
    for n, v in by_district.items():
        np.add.at(by_county[n], np.arange(DISTRICTS) % COUNTIES, v)
    levels.append(("county_office", [f"bench-coe-{c}" for c in range(COUNTIES)], by_county))
    levels.append(("region", ["bench-region"], {n: v.sum(axis=0, keepdims=True) for n, v in by_county.items()}))
    frames = []
    for level, names, values in levels:
        with_all = {n: np.concatenate([v, v.sum(axis=2, keepdims=True)], axis=2) for n, v in values.items()}
        shape = with_all["students"].shape
        organization, window, grade = np.meshgrid(np.arange(shape[0]), np.arange(shape[1]), np.arange(shape[2]),
                                                  indexing="ij")
        keep = with_all["students"].ravel() > 0
        grade_names = np.array([*GRADES, reference.ALL_GRADES])
        frames.append(pa.table({
            "organization_id": np.array(names)[organization.ravel()[keep]], "level": [level] * int(keep.sum()),
            "student_group": [group] * int(keep.sum()), "grade": grade_names[grade.ravel()[keep]],
            "test": [TEST.key] * int(keep.sum()),
            "school_year": np.array([y for y, _w in WINDOWS])[window.ravel()[keep]],
            "window": np.array([w for _y, w in WINDOWS])[window.ravel()[keep]],
            **{n: v.ravel()[keep] for n, v in with_all.items()}}).select(columns.MEASURE_CELLS.names).cast(
                columns.MEASURE_CELLS))
    return pa.concat_tables(frames)


class Source:
    def __init__(self, tree: Tree, cells: pa.Table):
        self.tree, self.cells = tree, cells

    def ready_generation(self) -> str:
        return "bench"

    def measure_cells(self) -> pa.Table:
        return self.cells

    def organization_parents(self):
        return dict(self.tree.parents)


class BenchServicer(MeasuresRpcs, reflection_pb2_grpc.ReflectionServiceServicer):
    """The measure RPCs as the service runs them; the caller is a platform admin and organizations'
    scopes come from the synthetic tree (it is in no membership service)."""

    def __init__(self, tree: Tree):
        self.tree = tree

    def _membership(self):
        tree = self.tree

        class Scopes:
            @staticmethod
            def organization_scope(organization_id, field="organization_id"):
                chain = []
                while organization_id:
                    chain.append(organization_id)
                    organization_id = tree.parents[organization_id][0]
                return tuple(reversed(chain))

        return Scopes()

    def QueryMeasures(self, request, context):
        token = auth.set_identity(auth.Identity("bench", (auth.Grant(auth.Role.PLATFORM_ADMIN, ""),)))
        try:
            return super().QueryMeasures(request, context)
        finally:
            auth.reset_identity(token)


def percentile(values: list[float], p: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[int(p) - 1] if len(values) > 1 else values[0]


def timed(stub, requests: list[measures_pb2.QueryMeasuresRequest]) -> tuple[float, float, int]:
    took, cells = [], 0
    for request in requests:
        started = time.perf_counter()
        reply = stub.QueryMeasures(request)
        took.append((time.perf_counter() - started) * 1000)
        cells += len(reply.cells)
    return percentile(took, 50), percentile(took, 99), cells // len(requests)


def query_shapes(seed: int = 3) -> dict[str, list[measures_pb2.QueryMeasuresRequest]]:
    rnd = np.random.default_rng(seed)
    districts = [f"bench-usd-{d}" for d in rnd.integers(0, DISTRICTS, QUERIES)]
    groups = [GROUPS[g] for g in rnd.integers(1, len(GROUPS), QUERIES)]
    grades = [GRADES[g] for g in rnd.integers(0, len(GRADES), QUERIES)]
    return {
        # Each district's first read works its figures out (they are then kept for the generation).
        "district, first read: every group x grade x window": [
            measures_pb2.QueryMeasuresRequest(organization_id=f"bench-usd-{d}", page_size=1000)
            for d in range(10, DISTRICTS)],
        "district: every group x grade x window": [
            measures_pb2.QueryMeasuresRequest(organization_id=d, page_size=1000) for d in districts],
        "district and its 20 schools: one group x grade": [
            measures_pb2.QueryMeasuresRequest(organization_id=d, include_children=True, student_groups=[g],
                                              grades=[gr], page_size=1000)
            for d, g, gr in zip(districts, groups, grades)],
    }


def bench_measure_queries(sizes: tuple[int, ...] = (1_000_000, 10_000_000)) -> None:
    tree = Tree.make()
    results: dict[int, dict[str, tuple[float, float, int]]] = {}
    print("\n== measure queries: QueryMeasures over gRPC in-process (1,000 schools, 10 groups, 8 windows)")
    for size in sizes:
        started = time.perf_counter()
        cells = measure_cells(size)
        rolled = time.perf_counter() - started
        index = MeasureIndex(Source(tree, cells), min_cell=11)
        started = time.perf_counter()
        snapshot = index.measures()
        built = time.perf_counter() - started
        print(f"{size:>11,} student rows: {cells.num_rows:,} cells (rolled up in {rolled:.1f} s); index built and "
              f"suppressed once in {built:.1f} s, {int(snapshot.lattice.withheld.sum()):,} cells withheld")
        index_module.use_process_index(index)
        server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
        reflection_pb2_grpc.add_ReflectionServiceServicer_to_server(BenchServicer(tree), server)
        port = server.add_insecure_port("127.0.0.1:0")
        server.start()
        try:
            with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
                stub = reflection_pb2_grpc.ReflectionServiceStub(channel)
                for district in range(10):  # warm the channel and the code paths (districts 0-9 only)
                    stub.QueryMeasures(measures_pb2.QueryMeasuresRequest(organization_id=f"bench-usd-{district}"))
                results[size] = {name: timed(stub, requests) for name, requests in query_shapes().items()}
        finally:
            server.stop(None)
            index_module.use_process_index(None)
        for name, (p50, p99, mean_cells) in results[size].items():
            print(f"  {name:<52} p50 {p50:6.1f} ms  p99 {p99:6.1f} ms  ({mean_cells} cells a query)")
    if len(sizes) == 2:
        small, large = (results[size] for size in sizes)
        for name in small:
            print(f"  ratio {sizes[1]:,} / {sizes[0]:,} rows, {name}: p50 {large[name][0] / small[name][0]:.2f}x  "
                  f"p99 {large[name][1] / small[name][1]:.2f}x  (target: each p <= 50 ms, within 20 %)")


if __name__ == "__main__":
    import sys

    bench_measure_queries(tuple(int(arg) for arg in sys.argv[1:]) or (1_000_000, 10_000_000))
