"""The statewide views against the real embedded MongoDB-wire server: records projected as the
ingest area projects them (`projections.project` in a transaction), then read through the views'
RPC methods as a hub reader (or anonymously, for the public catalog and directory)."""

from __future__ import annotations

import contextlib
import datetime as dt
from dataclasses import dataclass

import mongoengine
import pytest
from copnet import stack as stacklib
from copnet.kernel import auth, db
from copnet.kernel.auth import Grant, Identity, Role
from copnet.kernel.errors import InvalidArgument, PermissionDenied, Unauthenticated
from copnet.kernel.settings import Settings
from copnet.kernel.timestamps import timestamp
from copnet.reflection.v1 import measures_pb2, participation_pb2
from copnet.share.v1 import share_pb2
from copnet.statewide import projections
from copnet.statewide.v1 import views_pb2
from copnet.statewide.views.rpc import ViewRpcs

from tests.support.processes import ManagedProcess
from tests.support.stack import settings_for_tests

pytestmark = pytest.mark.integration

DATABASE = "copnet_statewide_views_tests"
TEST, YEAR, WINDOW = "caaspp-ela", "2025-26", "spring"


@dataclass
class Context:
    settings: Settings


@pytest.fixture(scope="module")
def mongodb(tmp_path_factory):
    root = tmp_path_factory.mktemp("views")
    settings = settings_for_tests(root / "data", instance="hub", region="hub", hub_regions="north,south")
    spec, uri = stacklib.mongodb_spec(settings)
    process = ManagedProcess(spec, root).start()
    try:
        db.connect(uri, DATABASE)
        yield settings
    finally:
        mongoengine.disconnect()
        process.stop()


@pytest.fixture
def views(mongodb):
    client = db.client()
    client.drop_database(DATABASE)
    db.ensure_indexes(*projections.PROJECTION_DOCUMENTS)
    rpcs = ViewRpcs()
    rpcs.ctx = Context(mongodb)
    with signed_in(Role.STATE_COORDINATOR):
        yield rpcs


@contextlib.contextmanager
def signed_in(role: Role | None):
    token = auth.set_identity(None if role is None else Identity("reader", (Grant(role, "state"),)))
    try:
        yield
    finally:
        auth.reset_identity(token)


def apply(region: str, record: share_pb2.SharedRecord) -> None:
    db.run_in_transaction(lambda uow: projections.project(uow, region, record), "hub")


def percent(value: float) -> measures_pb2.PercentFigure:
    return measures_pb2.PercentFigure(value=value, text=f"{value:.1f}")


def figures(students: int, met: float | None, mean: float = 2500.0, distance: float | None = None):
    result = measures_pb2.MeasureFigures(students_tested=students, mean_scale_score=mean,
                                         percent_met_or_exceeded=percent(met) if met is not None
                                         else measures_pb2.PercentFigure(text="<5"))
    if distance is not None:
        result.distance_from_standard = distance
    return result


def measures(region: str, organization: str, level: str, version: int, cells: dict, *, year: str = YEAR,
             withdrawn: bool = False) -> share_pb2.SharedRecord:
    """`cells`: {(group, grade): MeasureFigures, or None for withheld}."""
    key = f"{organization}|{TEST}|{year}|{WINDOW}"
    record = share_pb2.SharedRecord(schema_version=1, region=region, kind="measures", key=key, version=version,
                                    withdrawn=withdrawn)
    if not withdrawn:
        record.measures.CopyFrom(measures_pb2.AggregatesPublished(
            schema_version=1, region=region, organization_id=organization, level=level, test=TEST, school_year=year,
            window=WINDOW, version=version, min_cell=11,
            cells=[measures_pb2.PublishedAggregateCell(student_group=group, grade=grade, withheld=value is None,
                                                       figures=value)
                   for (group, grade), value in cells.items()]))
    return record


def participation(region: str, organization: str, level: str, year: str, version: int, *, teachers: int | None,
                  hours: float = 0.0) -> share_pb2.SharedRecord:
    figures = participation_pb2.ParticipationFigures(scope_id=organization, level=level, program_year=year,
                                                     withheld=teachers is None)
    if teachers is not None:
        figures.teachers_reached, figures.schools_reached, figures.districts_reached = teachers, teachers // 3, 2
        figures.learning_hours, figures.attendance_records = hours, teachers * 4
        figures.attendance_rate.CopyFrom(percent(87.5))
    return share_pb2.SharedRecord(
        schema_version=1, region=region, kind="participation", key=f"{organization}|{year}", version=version,
        participation=participation_pb2.ParticipationPublished(
            schema_version=1, region=region, organization_id=organization, level=level, program_year=year,
            version=version, min_cell=11, figures=figures))


def organization(region: str, organization_id: str, name: str, kind: str, parent: str = "", version: int = 1):
    return share_pb2.SharedRecord(
        schema_version=1, region=region, kind="directory", key=f"organization:{organization_id}", version=version,
        organization=share_pb2.SharedOrganization(id=organization_id, name=name, kind=kind, parent_id=parent,
                                                  code=f"c-{organization_id}"))


def community(region: str, community_id: str, *, status: str = "open", seats: int = 5, bands=("3-5",),
              closes_in_days: int = 10, program: str = "") -> share_pb2.SharedRecord:
    now = dt.datetime.now(dt.UTC)
    return share_pb2.SharedRecord(
        schema_version=1, region=region, kind="catalog", key=f"community:{community_id}", version=1,
        community=share_pb2.SharedCommunity(
            id=community_id, name=f"PLC {community_id}", kind="plc", grade_bands=list(bands),
            host_organization_id="co1", county_office_id="co1", status=status, capacity=20, seats_available=seats,
            program_id=program, signup_opens=timestamp(now - dt.timedelta(days=1)),
            signup_closes=timestamp(now + dt.timedelta(days=closes_in_days)),
            join_url=f"https://{region}.example.org/communities/{community_id}"))


def all_rows(call, request):
    rows, request.page_token = [], ""
    while True:
        response = call(request, None)
        rows.extend(getattr(response, "rows", None) or getattr(response, "entries", None)
                    or response.organizations)
        if not response.next_page_token:
            return rows
        request.page_token = response.next_page_token


# -- measures and gaps ----------------------------------------------------------------------------

def test_measures_show_published_figures_and_withheld_cells_as_withheld(views):
    apply("north", measures("north", "d1", "district", 1, {("all", "all"): figures(120, 40.0),
                                                           ("english_learner", "all"): None}))
    apply("south", measures("south", "d9", "district", 1, {("all", "all"): figures(80, 55.0)}))
    response = views.ListMeasures(views_pb2.ListMeasuresRequest(test=TEST, school_year=YEAR, window=WINDOW), None)
    got = {(row.region, row.organization_id, row.student_group): row for row in response.rows}
    assert set(got) == {("north", "d1", "all"), ("north", "d1", "english_learner"), ("south", "d9", "all")}
    withheld = got[("north", "d1", "english_learner")]
    assert withheld.withheld and not withheld.HasField("figures")
    assert got[("south", "d9", "all")].figures.percent_met_or_exceeded.value == 55.0
    only_north = views.ListMeasures(views_pb2.ListMeasuresRequest(test=TEST, school_year=YEAR, window=WINDOW,
                                                                  region="north", student_groups=["all"]), None)
    assert [(row.region, row.student_group) for row in only_north.rows] == [("north", "all")]


def test_a_correction_replaces_the_figures_and_a_withdrawn_record_leaves_none(views):
    apply("north", measures("north", "d1", "district", 1, {("all", "all"): figures(120, 40.0),
                                                           ("hispanic", "all"): figures(60, 30.0)}))
    apply("north", measures("north", "d1", "district", 2, {("all", "all"): figures(121, 41.0)}))
    request = views_pb2.ListMeasuresRequest(test=TEST, school_year=YEAR, window=WINDOW)
    [row] = views.ListMeasures(request, None).rows
    assert (row.student_group, row.figures.students_tested, row.version) == ("all", 121, 2)
    apply("north", measures("north", "d1", "district", 3, {}, withdrawn=True))
    assert list(views.ListMeasures(request, None).rows) == []


def test_the_statewide_total_is_summed_only_when_every_linked_region_published_it(views):
    apply("north", measures("north", "r-north", "region", 1, {("all", "all"): figures(300, 40.0, mean=2500)}))
    request = views_pb2.ListMeasuresRequest(test=TEST, school_year=YEAR, window=WINDOW, student_groups=["all"],
                                            grades=["all"])
    [total] = views.ListMeasures(request, None).statewide
    assert not total.complete and list(total.missing_regions) == ["south"]
    assert not total.HasField("students_tested") and not total.HasField("percent_met_or_exceeded")

    apply("south", measures("south", "r-south", "region", 1, {("all", "all"): figures(100, 60.0, mean=2600)}))
    [total] = views.ListMeasures(request, None).statewide
    assert total.complete and total.students_tested == 400
    assert total.mean_scale_score == pytest.approx(2525.0)
    assert total.percent_met_or_exceeded.value == pytest.approx(45.0)

    apply("south", measures("south", "r-south", "region", 2, {("all", "all"): None}))
    [total] = views.ListMeasures(request, None).statewide
    assert not total.complete and list(total.withheld_regions) == ["south"]
    assert not total.HasField("students_tested")


def test_a_gap_is_focal_minus_reference_and_withheld_when_either_side_is(views):
    apply("north", measures("north", "d1", "district", 1, {
        ("all", "all"): figures(200, 50.0, distance=-10.0), ("english_learner", "all"): figures(40, 20.0, distance=-60.0)}))
    apply("north", measures("north", "d2", "district", 1, {
        ("all", "all"): figures(200, 50.0), ("english_learner", "all"): None}))
    apply("south", measures("south", "d9", "district", 1, {
        ("all", "all"): None, ("english_learner", "all"): figures(30, 25.0)}))
    apply("south", measures("south", "d8", "district", 1, {("english_learner", "all"): figures(30, None)}))
    response = views.ListMeasureGaps(views_pb2.ListMeasureGapsRequest(
        test=TEST, school_year=YEAR, window=WINDOW, focal_group="english_learner"), None)
    gaps = {row.organization_id: row for row in response.rows}
    assert set(gaps) == {"d1", "d2", "d8", "d9"}
    assert gaps["d1"].gap.percent_met_points == pytest.approx(-30.0)
    assert gaps["d1"].gap.distance_from_standard_points == pytest.approx(-50.0)
    assert gaps["d1"].gap.reference_group == "all" and not gaps["d1"].gap.withheld
    assert gaps["d2"].gap.withheld and gaps["d2"].focal_withheld and not gaps["d2"].gap.HasField("percent_met_points")
    assert gaps["d9"].gap.withheld and gaps["d9"].reference_withheld and not gaps["d9"].HasField("reference")
    # No reference cell at all, and a coded percentage: neither withheld nor a figure.
    assert not gaps["d8"].reference_published and not gaps["d8"].gap.withheld
    assert not gaps["d8"].gap.HasField("percent_met_points")


def test_a_trend_takes_the_latest_version_of_each_year_with_its_gap(views):
    for year, met, version in (("2023-24", 30.0, 1), ("2024-25", 35.0, 1), ("2025-26", 38.0, 1), ("2025-26", 39.0, 2)):
        apply("north", measures("north", "d1", "district", version, {
            ("all", "all"): figures(100, 50.0), ("english_learner", "all"): figures(20, met)}, year=year))
    response = views.GetMeasureTrend(views_pb2.GetMeasureTrendRequest(
        region="north", organization_id="d1", test=TEST, student_group="english_learner",
        reference_group="all"), None)
    assert [(p.school_year, p.figures.percent_met_or_exceeded.value, p.version) for p in response.points] == [
        ("2023-24", 30.0, 1), ("2024-25", 35.0, 1), ("2025-26", 39.0, 2)]
    assert [p.gap.percent_met_points for p in response.points] == pytest.approx([-20.0, -15.0, -11.0])


def test_pages_cover_every_row_once_and_a_token_fits_only_its_query(views):
    for number in range(7):
        apply("north", measures("north", f"d{number}", "district", 1, {("all", "all"): figures(50, 40.0)}))
    request = views_pb2.ListMeasuresRequest(test=TEST, school_year=YEAR, window=WINDOW, page_size=3)
    rows = all_rows(views.ListMeasures, request)
    assert sorted(row.organization_id for row in rows) == [f"d{n}" for n in range(7)]
    first = views.ListMeasures(views_pb2.ListMeasuresRequest(test=TEST, school_year=YEAR, window=WINDOW,
                                                             page_size=3), None)
    with pytest.raises(InvalidArgument) as refused:
        views.ListMeasures(views_pb2.ListMeasuresRequest(test=TEST, school_year=YEAR, window="fall",
                                                         page_token=first.next_page_token), None)
    assert refused.value.fields[0].field == "page_token"


def test_a_selection_of_groups_pages_within_a_region_and_an_organization(views):
    cells = {(group, grade): figures(50, 40.0) for group in ("all", "el", "swd") for grade in ("3", "4", "all")}
    for region in ("north", "south"):
        for number in range(4):
            apply(region, measures(region, f"d{number}", "district", 1, cells))
    request = views_pb2.ListMeasuresRequest(test=TEST, school_year=YEAR, window=WINDOW, region="south",
                                            student_groups=["el", "swd"], grades=["4", "all"], page_size=3)
    rows = all_rows(views.ListMeasures, request)
    assert len(rows) == 4 * 2 * 2
    assert {row.region for row in rows} == {"south"}
    assert {(row.student_group, row.grade) for row in rows} == {(g, gr) for g in ("el", "swd") for gr in ("4", "all")}
    assert len({row.organization_id + row.student_group + row.grade for row in rows}) == len(rows)
    one = views.ListMeasures(views_pb2.ListMeasuresRequest(test=TEST, school_year=YEAR, window=WINDOW, region="north",
                                                           organization_id="d1"), None)
    assert {row.organization_id for row in one.rows} == {"d1"} and len(one.rows) == len(cells)
    gaps = all_rows(views.ListMeasureGaps, views_pb2.ListMeasureGapsRequest(
        test=TEST, school_year=YEAR, window=WINDOW, focal_group="el", grade="4", page_size=3))
    assert [(row.region, row.organization_id) for row in gaps] == [
        (region, f"d{number}") for region in ("north", "south") for number in range(4)]
    assert all(row.reference_published and row.gap.percent_met_points == 0.0 for row in gaps)


# -- reach and participation ----------------------------------------------------------------------

def test_reach_per_level_and_statewide_only_when_complete(views):
    apply("north", participation("north", "r-north", "region", "2025-26", 1, teachers=90, hours=120.5))
    apply("north", participation("north", "co1", "county_office", "2025-26", 1, teachers=60))
    apply("north", participation("north", "co2", "county_office", "2025-26", 1, teachers=None))
    request = views_pb2.ListParticipationRequest(program_year="2025-26")
    reach = views.ListReach(request, None)
    assert [(row.organization_id, row.teachers_reached) for row in reach.rows] == [("r-north", 90)]
    assert not reach.statewide.complete and list(reach.statewide.missing_regions) == ["south"]
    assert not reach.statewide.HasField("teachers_reached")

    apply("south", participation("south", "r-south", "region", "2025-26", 1, teachers=30, hours=10.0))
    reach = views.ListReach(request, None)
    assert reach.statewide.complete and reach.statewide.teachers_reached == 120
    hours = views.ListParticipation(request, None)
    assert hours.statewide.learning_hours == pytest.approx(130.5)
    assert {row.organization_id: row.attendance_rate.value for row in hours.rows} == {"r-north": 87.5,
                                                                                      "r-south": 87.5}
    counties = views.ListReach(views_pb2.ListParticipationRequest(program_year="2025-26", level="county_office"),
                               None)
    by_county = {row.organization_id: row for row in counties.rows}
    assert by_county["co1"].teachers_reached == 60
    assert by_county["co2"].withheld and not by_county["co2"].HasField("teachers_reached")

    apply("north", participation("north", "r-north", "region", "2026-27", 1, teachers=95))
    trend = views.GetParticipationTrend(views_pb2.GetParticipationTrendRequest(region="north",
                                                                               organization_id="r-north"), None)
    assert [(p.program_year, p.reach.teachers_reached) for p in trend.points] == [("2025-26", 90), ("2026-27", 95)]


# -- directory, catalog, cycles -------------------------------------------------------------------

def test_organization_names_reach_rows_whichever_arrives_first(views):
    apply("north", measures("north", "d1", "district", 1, {("all", "all"): figures(50, 40.0)}))
    apply("north", organization("north", "d1", "Alder Unified", "district", parent="co1"))
    apply("north", organization("north", "d2", "Birch Unified", "district", parent="co1"))
    apply("north", measures("north", "d2", "district", 1, {("all", "all"): figures(50, 40.0)}))
    request = views_pb2.ListMeasuresRequest(test=TEST, school_year=YEAR, window=WINDOW)
    assert {row.organization_id: row.organization_name for row in views.ListMeasures(request, None).rows} == {
        "d1": "Alder Unified", "d2": "Birch Unified"}
    apply("north", organization("north", "d1", "Alder Joint Unified", "district", parent="co1", version=2))
    assert views.ListMeasures(request, None).rows[0].organization_name == "Alder Joint Unified"
    with signed_in(None):
        tree = views.ListOrganizations(views_pb2.ListOrganizationsRequest(region="north", parent_id="co1"), None)
    assert [o.organization.name for o in tree.organizations] == ["Alder Joint Unified", "Birch Unified"]


def test_the_catalog_is_public_filtered_and_links_to_the_owning_region(views):
    apply("north", share_pb2.SharedRecord(
        schema_version=1, region="north", kind="catalog", key="program:p1", version=1,
        program=share_pb2.SharedProgram(id="p1", name="Math Leads", program_year="2025-26")))
    apply("north", community("north", "c1", program="p1"))
    apply("north", community("north", "c2", seats=0))
    apply("south", community("south", "c3", status="closed"))
    apply("south", community("south", "c4", bands=("9-12",)))
    with signed_in(None):
        every = views.ListCatalog(views_pb2.ListCatalogRequest(), None)
        open_with_seats = views.ListCatalog(views_pb2.ListCatalogRequest(open_now=True, seats_available=True), None)
        high_school = views.ListCatalog(views_pb2.ListCatalogRequest(grade_band="9-12"), None)
    assert [e.community.id for e in every.entries] == ["c1", "c2", "c3", "c4"]
    assert [e.community.id for e in open_with_seats.entries] == ["c1", "c4"]
    assert [e.community.id for e in high_school.entries] == ["c4"]
    first = open_with_seats.entries[0]
    assert first.program_name == "Math Leads"
    assert first.community.join_url == "https://north.example.org/communities/c1"


def test_cycle_counts_per_organization_and_year(views):
    apply("north", share_pb2.SharedRecord(
        schema_version=1, region="north", kind="cycles", key="co1|2025-26", version=1,
        cycles=share_pb2.SharedCycleCounts(organization_id="co1", level="county_office", program_year="2025-26",
                                           cycles_open=4, cycles_closed=2)))
    response = views.ListCycleCounts(views_pb2.ListCycleCountsRequest(program_year="2025-26"), None)
    assert [(row.region, row.counts.organization_id, row.counts.cycles_open) for row in response.rows] == [
        ("north", "co1", 4)]


# -- who may read, and bad input ------------------------------------------------------------------

def test_the_figures_are_for_hub_readers_only(views):
    request = views_pb2.ListMeasuresRequest(test=TEST, school_year=YEAR, window=WINDOW)
    with signed_in(None), pytest.raises(Unauthenticated):
        views.ListMeasures(request, None)
    with signed_in(Role.COUNTY_ADMIN), pytest.raises(PermissionDenied):
        views.ListMeasures(request, None)
    with signed_in(Role.PLATFORM_ADMIN):
        views.ListMeasures(request, None)


@pytest.mark.parametrize("request_message, field", [
    (views_pb2.ListMeasuresRequest(school_year=YEAR, window=WINDOW), "test"),
    (views_pb2.ListMeasuresRequest(test=TEST, school_year="2025-27", window=WINDOW), "school_year"),
    (views_pb2.ListMeasuresRequest(test=TEST, school_year=YEAR, window="summer"), "window"),
    (views_pb2.ListMeasuresRequest(test=TEST, school_year=YEAR, window=WINDOW, grades=["13"]), "grades[0]"),
    (views_pb2.ListMeasuresRequest(test=TEST, school_year=YEAR, window=WINDOW, page_size=-1), "page_size"),
    (views_pb2.ListMeasuresRequest(test=TEST, school_year=YEAR, window=WINDOW, region="North!"), "region"),
])
def test_a_bad_field_is_refused_naming_it(views, request_message, field):
    with pytest.raises(InvalidArgument) as refused:
        views.ListMeasures(request_message, None)
    assert refused.value.fields[0].field == field
