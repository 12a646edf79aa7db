"""Statewide queries on the hub: 1,000 districts in 58 county offices of 11 regions, their
records projected exactly as the ingest area projects them (`projections.project`, one
transaction per record) into the embedded MongoDB-wire server, then the views' RPCs called over
real gRPC (in this process, on a local port), printed as p50 / p99 beside a baseline measured in
the same run: a plain indexed pymongo find of the same rows (no conversion, no gRPC).

Per organization (districts, county offices, regions): a measures record for each of two school
years (one test, spring; 11 student groups x 8 grades, about one cell in eight withheld),
a participation record and a directory record; plus 300 catalog communities. Asserts nothing.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from concurrent import futures
from dataclasses import dataclass
from pathlib import Path

import grpc
import mongoengine
import numpy as np
from copnet import stack as stacklib
from copnet.kernel import auth, db
from copnet.reflection.v1 import measures_pb2, participation_pb2
from copnet.share.v1 import share_pb2
from copnet.statewide import projections
from copnet.statewide.v1 import statewide_pb2_grpc, views_pb2
from copnet.statewide.views.models import MeasureCellView, ParticipationView
from copnet.statewide.views.rpc import ViewRpcs

from tests.support.processes import ManagedProcess
from tests.support.stack import settings_for_tests

REGIONS, COUNTIES, DISTRICTS = 11, 58, 1000
TEST, WINDOW, YEARS, PROGRAM_YEAR = "sbac-math", "spring", ("2023-24", "2024-25"), "2024-25"
GROUPS = ("all", "el", "not_el", "swd", "not_swd", "sed", "not_sed", "foster", "not_foster", "homeless", "not_homeless")
GRADES = ("3", "4", "5", "6", "7", "8", "11", "all")
COMMUNITIES = 300
QUERIES = 200
DATABASE = "copnet_bench_statewide"


@dataclass(frozen=True)
class Organization:
    region: str
    id: str
    level: str
    parent: str


def network() -> list[Organization]:
    regions = [Organization(f"region-{r}", f"r-{r}", "region", "") for r in range(REGIONS)]
    counties = [Organization(f"region-{c % REGIONS}", f"coe-{c}", "county_office", f"r-{c % REGIONS}")
                for c in range(COUNTIES)]
    districts = [Organization(counties[d % COUNTIES].region, f"usd-{d}", "district", counties[d % COUNTIES].id)
                 for d in range(DISTRICTS)]
    return [*regions, *counties, *districts]


def record(owner: Organization, kind: str, key: str, **content) -> share_pb2.SharedRecord:
    return share_pb2.SharedRecord(schema_version=1, region=owner.region, kind=kind, key=key, version=1, **content)


def measures(organization: Organization, year: str, rnd: np.random.Generator) -> share_pb2.SharedRecord:
    cells = []
    for group in GROUPS:
        for grade in GRADES:
            if rnd.random() < 0.125:
                cells.append(measures_pb2.PublishedAggregateCell(student_group=group, grade=grade, withheld=True))
                continue
            met = round(float(rnd.uniform(10, 90)), 1)
            cells.append(measures_pb2.PublishedAggregateCell(student_group=group, grade=grade, figures=(
                measures_pb2.MeasureFigures(students_tested=int(rnd.integers(11, 5000)),
                                            mean_scale_score=round(float(rnd.normal(2500, 50)), 1),
                                            percent_met_or_exceeded=measures_pb2.PercentFigure(value=met, text=f"{met}"),
                                            distance_from_standard=round(float(rnd.normal(0, 40)), 1)))))
    return record(organization, "measures", f"{organization.id}|{TEST}|{year}|{WINDOW}",
                  measures=measures_pb2.AggregatesPublished(
                      schema_version=1, region=organization.region, organization_id=organization.id,
                      level=organization.level, test=TEST, school_year=year, window=WINDOW, version=1, min_cell=11,
                      cells=cells))


def participation(organization: Organization, rnd: np.random.Generator) -> share_pb2.SharedRecord:
    teachers = int(rnd.integers(0, 400))
    figures = participation_pb2.ParticipationFigures(scope_id=organization.id, level=organization.level,
                                                     program_year=PROGRAM_YEAR, withheld=teachers < 11)
    if not figures.withheld:
        figures.teachers_reached, figures.schools_reached, figures.districts_reached = teachers, teachers // 5, 1
        figures.learning_hours, figures.attendance_records = teachers * 6.5, teachers * 8
    return record(organization, "participation", f"{organization.id}|{PROGRAM_YEAR}",
                  participation=participation_pb2.ParticipationPublished(
                      schema_version=1, region=organization.region, organization_id=organization.id,
                      level=organization.level, program_year=PROGRAM_YEAR, version=1, min_cell=11, figures=figures))


def directory(organization: Organization) -> share_pb2.SharedRecord:
    return record(organization, "directory", f"organization:{organization.id}",
                  organization=share_pb2.SharedOrganization(id=organization.id, name=f"Name of {organization.id}",
                                                            kind=organization.level, parent_id=organization.parent))


def community(number: int, county: Organization) -> share_pb2.SharedRecord:
    return record(county, "catalog", f"community:c-{number}", community=share_pb2.SharedCommunity(
        id=f"c-{number}", name=f"PLC {number}", kind="plc", grade_bands=[("K-2", "3-5", "6-8", "9-12")[number % 4]],
        host_organization_id=county.id, county_office_id=county.id, status="open", capacity=30,
        seats_available=number % 7, join_url=f"https://{county.region}.example.org/communities/c-{number}"))


def build(organizations: list[Organization]) -> int:
    """Every record projected in its own transaction, as the ingest area applies them; records."""
    rnd = np.random.default_rng(13)
    records = [directory(o) for o in organizations]
    records += [measures(o, year, rnd) for year in YEARS for o in organizations]
    records += [participation(o, rnd) for o in organizations]
    counties = [o for o in organizations if o.level == "county_office"]
    records += [community(n, counties[n % len(counties)]) for n in range(COMMUNITIES)]
    for shared in records:
        db.run_in_transaction(lambda uow, shared=shared: projections.project(uow, shared.region, shared), "hub")
    return len(records)


class BenchSettings:
    linked_regions = tuple(f"region-{r}" for r in range(REGIONS))


@dataclass
class BenchContext:
    settings: BenchSettings


class BenchServicer(ViewRpcs, statewide_pb2_grpc.StatewideServiceServicer):
    """The views as the statewide service serves them, called by a state coordinator."""

    def __init__(self):
        self.ctx = BenchContext(BenchSettings())

    def __getattribute__(self, name):
        method = super().__getattribute__(name)
        if not name[:1].isupper() or not callable(method):
            return method

        def as_reader(request, context):
            token = auth.set_identity(auth.Identity("bench", (auth.Grant(auth.Role.STATE_COORDINATOR, "state"),)))
            try:
                return method(request, context)
            finally:
                auth.reset_identity(token)
        return as_reader


def percentile(values: list[float], p: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[int(p) - 1] if len(values) > 1 else values[0]


def timed(call, requests: list) -> tuple[float, float, float]:
    took, rows = [], 0
    for request in requests:
        started = time.perf_counter()
        rows += call(request)
        took.append((time.perf_counter() - started) * 1000)
    return percentile(took, 50), percentile(took, 99), rows / len(requests)


def rows_of(reply) -> int:
    for name in ("rows", "entries", "points", "statewide"):
        if hasattr(reply, name) and len(getattr(reply, name)):
            return len(getattr(reply, name))
    return 0


def query_shapes(stub, organizations: list[Organization]) -> dict[str, tuple]:
    """name: (the RPC, its requests, the baseline's find filter per request)."""
    rnd = np.random.default_rng(5)
    pick = lambda values: [values[i] for i in rnd.integers(0, len(values), QUERIES)]
    groups, grades = pick(GROUPS[1:]), pick(GRADES)
    districts = pick([o for o in organizations if o.level == "district"])
    spring = {"test": TEST, "school_year": YEARS[-1], "window": WINDOW}
    return {
        f"measures: {DISTRICTS:,} districts, one group x grade": (
            stub.ListMeasures,
            [views_pb2.ListMeasuresRequest(**spring, level="district", student_groups=[g], grades=[gr], page_size=1000)
             for g, gr in zip(groups, grades)],
            [(MeasureCellView, {**spring, "level": "district", "student_group": g, "grade": gr})
             for g, gr in zip(groups, grades)]),
        f"measures: {DISTRICTS:,} districts, one group x grade, a page of 50": (
            stub.ListMeasures,
            [views_pb2.ListMeasuresRequest(**spring, level="district", student_groups=[g], grades=[gr], page_size=50)
             for g, gr in zip(groups, grades)],
            [(MeasureCellView, {**spring, "level": "district", "student_group": g, "grade": gr}, 51)
             for g, gr in zip(groups, grades)]),
        f"gaps: {DISTRICTS:,} districts, a group vs all students": (
            stub.ListMeasureGaps,
            [views_pb2.ListMeasureGapsRequest(**spring, focal_group=g, grade=gr, level="district", page_size=1000)
             for g, gr in zip(groups, grades)],
            [[(MeasureCellView, {**spring, "level": "district", "student_group": group, "grade": gr})
              for group in (g, "all")] for g, gr in zip(groups, grades)]),
        f"measures: {REGIONS} regions + statewide totals, one group x grade": (
            stub.ListMeasures,
            [views_pb2.ListMeasuresRequest(**spring, level="region", student_groups=[g], grades=[gr])
             for g, gr in zip(groups, grades)],
            [(MeasureCellView, {**spring, "level": "region", "student_group": g, "grade": gr})
             for g, gr in zip(groups, grades)]),
        "measures: one district, every group x grade": (
            stub.ListMeasures,
            [views_pb2.ListMeasuresRequest(**spring, region=d.region, organization_id=d.id, page_size=100)
             for d in districts],
            [(MeasureCellView, {**spring, "level": "district",
                                "_id": {"$gte": f"{d.region}|{d.id}|", "$lt": f"{d.region}|{d.id}|\uffff"}})
             for d in districts]),
        "trend: one district's group x grade over years": (
            stub.GetMeasureTrend,
            [views_pb2.GetMeasureTrendRequest(region=d.region, organization_id=d.id, test=TEST, student_group=g,
                                              grade=gr, reference_group="all")
             for d, g, gr in zip(districts, groups, grades)],
            [(MeasureCellView, {"region": d.region, "organization_id": d.id, "test": TEST, "student_group": g,
                                "grade": gr}) for d, g, gr in zip(districts, groups, grades)]),
        f"reach: {DISTRICTS:,} districts + statewide": (
            stub.ListReach,
            [views_pb2.ListParticipationRequest(program_year=PROGRAM_YEAR, level="district", page_size=1000)] * 50,
            [(ParticipationView, {"program_year": PROGRAM_YEAR, "level": "district"})] * 50),
        f"reach: {COUNTIES} county offices + statewide": (
            stub.ListReach,
            [views_pb2.ListParticipationRequest(program_year=PROGRAM_YEAR, level="county_office")] * QUERIES,
            [(ParticipationView, {"program_year": PROGRAM_YEAR, "level": "county_office"})] * QUERIES),
        "catalog: open now with seats, first page": (
            stub.ListCatalog,
            [views_pb2.ListCatalogRequest(open_now=True, seats_available=True)] * QUERIES,
            None),
    }


def baseline_find(finds) -> int:
    """Rows of one or more plain finds (document class, filter), as stored (no conversion)."""
    finds = finds if isinstance(finds, list) else [finds]
    return sum(len(list(document_class._get_collection().find(filters, limit=limit[0] if limit else 0)))
               for document_class, filters, *limit in finds)


def bench_statewide_queries(root: Path | None = None) -> None:
    with tempfile.TemporaryDirectory(prefix="copnet-bench-statewide-") as tmp:
        root = Path(tmp) if root is None else root
        root.mkdir(parents=True, exist_ok=True)
        settings = settings_for_tests(root / "data", instance="hub", region="hub")
        spec, uri = stacklib.mongodb_spec(settings)
        mongodb = ManagedProcess(spec, root).start()
        server = None
        try:
            db.connect(uri, DATABASE)
            db.client().drop_database(DATABASE)
            db.ensure_indexes(*projections.PROJECTION_DOCUMENTS)
            organizations = network()
            started = time.perf_counter()
            records = build(organizations)
            built = time.perf_counter() - started
            cells = MeasureCellView.objects.count()
            print(f"\n== statewide queries: {REGIONS} regions, {COUNTIES} county offices, {DISTRICTS:,} districts "
                  "(views over gRPC in-process vs a plain indexed find of the same rows)")
            print(f"  {records:,} records projected in {built:.0f} s ({built / records * 1000:.1f} ms each, one "
                  f"transaction per record); {cells:,} measure cells")
            server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
            statewide_pb2_grpc.add_StatewideServiceServicer_to_server(BenchServicer(), server)
            port = server.add_insecure_port("127.0.0.1:0")
            server.start()
            with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
                stub = statewide_pb2_grpc.StatewideServiceStub(channel)
                for name, (rpc, requests, baseline) in query_shapes(stub, organizations).items():
                    timed(lambda request, rpc=rpc: rows_of(rpc(request)), requests[:5])  # warm up
                    p50, p99, rows = timed(lambda request, rpc=rpc: rows_of(rpc(request)), requests)
                    line = f"  {name:<62} p50 {p50:6.1f} ms  p99 {p99:6.1f} ms  ({rows:,.0f} rows)"
                    if baseline is not None:
                        b50, b99, _ = timed(baseline_find, baseline)
                        line += (f"   baseline find p50 {b50:6.1f} ms  p99 {b99:6.1f} ms  "
                                 f"(ratio p99 {p99 / b99:.2f}x)")
                    print(line)
        finally:
            if server is not None:
                server.stop(None)
            mongoengine.disconnect()
            mongodb.stop()


if __name__ == "__main__":
    bench_statewide_queries()
