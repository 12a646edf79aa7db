"""The statewide service's messages -> /api/v1/statewide JSON, and the suppressed CSV export."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from copnet.gateway.convert.common import or_null, rfc3339, rfc3339_or_null
from copnet.gateway.convert.measures import WITHHELD, percent
from copnet.gateway.schemas import statewide as schemas
from copnet.gateway.schemas import statewide_views as views
from copnet.gateway.schemas.measures import MeasureGap
from copnet.reflection.v1 import measures_pb2
from copnet.statewide.v1 import ingest_pb2, views_pb2


def region_link(message: ingest_pb2.RegionLink) -> schemas.RegionLink:
    return schemas.RegionLink(region=message.region, public_url=or_null(message.public_url),
                              records_applied=message.records_applied,
                              last_applied_at=rfc3339_or_null(message, "last_applied_time"),
                              rejections=message.rejections, linked=message.linked)


def region_link_list(reply: ingest_pb2.ListRegionsResponse) -> schemas.RegionLinkList:
    return schemas.RegionLinkList(items=[region_link(r) for r in reply.regions])


def rejections_request(query: schemas.RejectionQuery) -> ingest_pb2.ListRejectionsRequest:
    return ingest_pb2.ListRejectionsRequest(page_size=query.page_size, page_token=query.page_token,
                                            region=query.region)


def rejection(message: ingest_pb2.Rejection) -> schemas.Rejection:
    return schemas.Rejection(id=message.id, received_at=rfc3339(message.receive_time), region=message.region,
                             subject=message.subject, reason=message.reason, detail=message.detail,
                             stream_sequence=message.stream_sequence, size_bytes=message.size_bytes)


def rejection_list(reply: ingest_pb2.ListRejectionsResponse) -> schemas.RejectionList:
    return schemas.RejectionList(items=[rejection(r) for r in reply.rejections],
                                 next_page_token=reply.next_page_token)


# -- views ----------------------------------------------------------------------------------------

def _optional(message, field: str):
    return getattr(message, field) if message.HasField(field) else None


def _percent_or_null(message, field: str):
    return percent(getattr(message, field)) if message.HasField(field) else None


def _completeness(message) -> dict:
    return {"complete": message.complete, "missing_regions": list(message.missing_regions),
            "withheld_regions": list(message.withheld_regions)}


def participation_request(query: views.ParticipationQuery) -> views_pb2.ListParticipationRequest:
    return views_pb2.ListParticipationRequest(program_year=query.program_year, level=query.level or "",
                                              region=query.region, page_size=query.page_size,
                                              page_token=query.page_token)


def reach_row(message: views_pb2.ReachRow) -> views.ReachRow:
    return views.ReachRow(region=message.region, organization_id=message.organization_id,
                          organization_name=or_null(message.organization_name), level=message.level,
                          program_year=message.program_year, withheld=message.withheld,
                          teachers_reached=_optional(message, "teachers_reached"),
                          schools_reached=_optional(message, "schools_reached"),
                          districts_reached=_optional(message, "districts_reached"))


def reach_list(reply: views_pb2.ListReachResponse) -> views.ReachList:
    total = None
    if reply.HasField("statewide"):
        s = reply.statewide
        total = views.ReachTotal(program_year=s.program_year, **_completeness(s),
                                 teachers_reached=_optional(s, "teachers_reached"),
                                 schools_reached=_optional(s, "schools_reached"),
                                 districts_reached=_optional(s, "districts_reached"))
    return views.ReachList(items=[reach_row(r) for r in reply.rows], statewide=total,
                           next_page_token=reply.next_page_token)


def participation_row(message: views_pb2.ParticipationRow) -> views.ParticipationRow:
    return views.ParticipationRow(region=message.region, organization_id=message.organization_id,
                                  organization_name=or_null(message.organization_name), level=message.level,
                                  program_year=message.program_year, withheld=message.withheld,
                                  attendance_rate=_percent_or_null(message, "attendance_rate"),
                                  learning_hours=_optional(message, "learning_hours"),
                                  attendance_records=_optional(message, "attendance_records"))


def participation_list(reply: views_pb2.ListParticipationResponse) -> views.ParticipationList:
    total = None
    if reply.HasField("statewide"):
        s = reply.statewide
        total = views.ParticipationTotal(program_year=s.program_year, **_completeness(s),
                                         learning_hours=_optional(s, "learning_hours"),
                                         attendance_records=_optional(s, "attendance_records"))
    return views.ParticipationList(items=[participation_row(r) for r in reply.rows], statewide=total,
                                   next_page_token=reply.next_page_token)


def figures(message: measures_pb2.MeasureFigures) -> views.MeasureFigures:
    return views.MeasureFigures(
        students_tested=message.students_tested, mean_scale_score=message.mean_scale_score,
        percent_at_level=[percent(p) for p in message.percent_at_level],
        percent_met_or_exceeded=_percent_or_null(message, "percent_met_or_exceeded"),
        distance_from_standard=_optional(message, "distance_from_standard"))


def _figures_unless_withheld(message, field: str, withheld: bool) -> views.MeasureFigures | None:
    return figures(getattr(message, field)) if message.HasField(field) and not withheld else None


def gap(message: measures_pb2.MeasureGap) -> MeasureGap:
    return MeasureGap(reference_group=message.reference_group, withheld=message.withheld,
                      percent_met_points=_optional(message, "percent_met_points"),
                      distance_from_standard_points=_optional(message, "distance_from_standard_points"))


def measures_request(query: views.MeasureQuery) -> views_pb2.ListMeasuresRequest:
    return views_pb2.ListMeasuresRequest(
        test=query.test, school_year=query.school_year, window=query.window, level=query.level or "",
        region=query.region, organization_id=query.organization_id, student_groups=query.student_groups,
        grades=[str(g) for g in query.grades], page_size=query.page_size, page_token=query.page_token)


def measure_row(message: views_pb2.MeasureRow) -> views.MeasureRow:
    return views.MeasureRow(
        region=message.region, organization_id=message.organization_id,
        organization_name=or_null(message.organization_name), level=message.level, test=message.test,
        school_year=message.school_year, window=message.window, student_group=message.student_group,
        grade=message.grade, withheld=message.withheld,
        figures=_figures_unless_withheld(message, "figures", message.withheld), min_cell=message.min_cell,
        cut_scores_version=or_null(message.cut_scores_version), version=message.version)


def measure_total(message: views_pb2.MeasureTotal) -> views.MeasureTotal:
    return views.MeasureTotal(student_group=message.student_group, grade=message.grade, **_completeness(message),
                              students_tested=_optional(message, "students_tested"),
                              mean_scale_score=_optional(message, "mean_scale_score"),
                              percent_met_or_exceeded=_percent_or_null(message, "percent_met_or_exceeded"))


def measure_list(reply: views_pb2.ListMeasuresResponse) -> views.MeasureList:
    return views.MeasureList(items=[measure_row(r) for r in reply.rows],
                             statewide=[measure_total(t) for t in reply.statewide],
                             next_page_token=reply.next_page_token)


def gaps_request(query: views.GapQuery) -> views_pb2.ListMeasureGapsRequest:
    return views_pb2.ListMeasureGapsRequest(
        test=query.test, school_year=query.school_year, window=query.window, focal_group=query.focal_group,
        reference_group=query.reference_group, grade=query.grade or "", level=query.level or "",
        region=query.region, page_size=query.page_size, page_token=query.page_token)


def gap_row(message: views_pb2.GapRow) -> views.GapRow:
    return views.GapRow(
        region=message.region, organization_id=message.organization_id,
        organization_name=or_null(message.organization_name), level=message.level, grade=message.grade,
        focal_group=message.focal_group, focal_withheld=message.focal_withheld,
        focal=_figures_unless_withheld(message, "focal", message.focal_withheld),
        reference_published=message.reference_published, reference_withheld=message.reference_withheld,
        reference=_figures_unless_withheld(message, "reference", message.reference_withheld),
        gap=gap(message.gap) if message.HasField("gap") else None)


def gap_list(reply: views_pb2.ListMeasureGapsResponse) -> views.GapList:
    return views.GapList(items=[gap_row(r) for r in reply.rows], next_page_token=reply.next_page_token)


def measure_trend_request(query: views.MeasureTrendQuery) -> views_pb2.GetMeasureTrendRequest:
    return views_pb2.GetMeasureTrendRequest(
        region=query.region, organization_id=query.organization_id, test=query.test,
        student_group=query.student_group, grade=query.grade or "", window=query.window or "",
        reference_group=query.reference_group)


def measure_trend(reply: views_pb2.GetMeasureTrendResponse) -> views.MeasureTrend:
    return views.MeasureTrend(
        region=reply.region, organization_id=reply.organization_id,
        organization_name=or_null(reply.organization_name),
        points=[views.MeasureTrendPoint(school_year=p.school_year, window=p.window, withheld=p.withheld,
                                        figures=_figures_unless_withheld(p, "figures", p.withheld), version=p.version,
                                        gap=gap(p.gap) if p.HasField("gap") else None) for p in reply.points])


def participation_trend(reply: views_pb2.GetParticipationTrendResponse) -> views.ParticipationTrend:
    return views.ParticipationTrend(
        region=reply.region, organization_id=reply.organization_id,
        organization_name=or_null(reply.organization_name),
        points=[views.ParticipationTrendPoint(
            program_year=p.program_year, reach=reach_row(p.reach) if p.HasField("reach") else None,
            participation=participation_row(p.participation) if p.HasField("participation") else None)
            for p in reply.points])


def catalog_request(query: views.CatalogQuery) -> views_pb2.ListCatalogRequest:
    return views_pb2.ListCatalogRequest(
        region=query.region, grade_band=query.grade_band or "", kind=query.kind or "",
        county_office_id=query.county_office_id, open_now=query.open_now, seats_available=query.seats_available,
        page_size=query.page_size, page_token=query.page_token)


def catalog_entry(message: views_pb2.CatalogEntry) -> views.CatalogEntry:
    c = message.community
    return views.CatalogEntry(
        region=message.region, id=c.id, name=c.name, kind=c.kind, description=c.description, focus=c.focus,
        grade_bands=list(c.grade_bands), host_organization_id=c.host_organization_id,
        host_organization_name=or_null(message.host_organization_name), county_office_id=or_null(c.county_office_id),
        program_id=or_null(c.program_id), program_name=or_null(message.program_name), status=c.status,
        capacity=c.capacity, seats_available=c.seats_available, waitlist_open=c.waitlist_open,
        signup_opens_at=rfc3339_or_null(c, "signup_opens"), signup_closes_at=rfc3339_or_null(c, "signup_closes"),
        eligible_organization_ids=list(c.eligible_organization_ids), join_url=or_null(c.join_url))


def catalog_list(reply: views_pb2.ListCatalogResponse) -> views.CatalogList:
    return views.CatalogList(items=[catalog_entry(e) for e in reply.entries], next_page_token=reply.next_page_token)


def programs_request(query: views.ProgramQuery) -> views_pb2.ListProgramsRequest:
    return views_pb2.ListProgramsRequest(region=query.region, program_year=query.program_year,
                                         page_size=query.page_size, page_token=query.page_token)


def program_list(reply: views_pb2.ListProgramsResponse) -> views.CatalogProgramList:
    return views.CatalogProgramList(
        items=[views.CatalogProgram(region=p.region, id=p.program.id, name=p.program.name,
                                    owner_organization_id=p.program.owner_organization_id,
                                    program_year=p.program.program_year, description=p.program.description)
               for p in reply.programs], next_page_token=reply.next_page_token)


def organizations_request(query: views.OrganizationQuery) -> views_pb2.ListOrganizationsRequest:
    return views_pb2.ListOrganizationsRequest(region=query.region, kind=query.kind or "", parent_id=query.parent_id,
                                              code=query.code, page_size=query.page_size,
                                              page_token=query.page_token)


def organization_list(reply: views_pb2.ListOrganizationsResponse) -> views.DirectoryOrganizationList:
    return views.DirectoryOrganizationList(
        items=[views.DirectoryOrganization(region=o.region, id=o.organization.id, name=o.organization.name,
                                           kind=o.organization.kind, parent_id=or_null(o.organization.parent_id),
                                           code=or_null(o.organization.code),
                                           time_zone=or_null(o.organization.time_zone))
               for o in reply.organizations], next_page_token=reply.next_page_token)


def cycle_counts_request(query: views.CycleCountQuery) -> views_pb2.ListCycleCountsRequest:
    return views_pb2.ListCycleCountsRequest(region=query.region, organization_id=query.organization_id,
                                            program_year=query.program_year, level=query.level,
                                            page_size=query.page_size, page_token=query.page_token)


def cycle_count_list(reply: views_pb2.ListCycleCountsResponse) -> views.CycleCountList:
    return views.CycleCountList(
        items=[views.CycleCountRow(region=r.region, organization_id=r.counts.organization_id,
                                   organization_name=or_null(r.organization_name), level=r.counts.level,
                                   program_year=r.counts.program_year, cycles_open=r.counts.cycles_open,
                                   cycles_closed=r.counts.cycles_closed,
                                   communities_with_cycles=r.counts.communities_with_cycles) for r in reply.rows],
        next_page_token=reply.next_page_token)


# -- the suppressed CSV exports -------------------------------------------------------------------
# A withheld figure is "*" (never blank, never zero); a figure that does not apply (no cut scores,
# no levels, no reference cell published) is empty; a coded percentage is its text ("≤5").
FIGURE_COLUMNS = ("students_tested", "mean_scale_score", "percent_level_1", "percent_level_2", "percent_level_3",
                  "percent_level_4", "percent_met_or_exceeded", "distance_from_standard")
MEASURE_CSV_COLUMNS = ("region", "organization_id", "organization_name", "level", "test", "school_year", "window",
                       "student_group", "grade", *FIGURE_COLUMNS, "min_cell", "cut_scores_version", "version")
GAP_CSV_COLUMNS = ("region", "organization_id", "organization_name", "level", "grade", "focal_group",
                   *(f"focal_{c}" for c in FIGURE_COLUMNS), "reference_group",
                   *(f"reference_{c}" for c in FIGURE_COLUMNS), "gap_percent_met_points",
                   "gap_distance_from_standard_points")


def _figure(value) -> str:
    return "" if value is None else f"{value:g}" if isinstance(value, float) else str(value)


def figure_cells(shown: views.MeasureFigures | None, withheld: bool) -> list[str]:
    if withheld:
        return [WITHHELD] * len(FIGURE_COLUMNS)
    if shown is None:
        return [""] * len(FIGURE_COLUMNS)
    levels = [p.text for p in shown.percent_at_level] or [""] * 4
    return [_figure(shown.students_tested), _figure(shown.mean_scale_score), *levels,
            shown.percent_met_or_exceeded.text if shown.percent_met_or_exceeded else "",
            _figure(shown.distance_from_standard)]


def measure_csv_rows(rows: Iterable[views.MeasureRow]) -> Iterator[list[str]]:
    yield list(MEASURE_CSV_COLUMNS)
    for row in rows:
        yield [row.region, row.organization_id, row.organization_name or "", row.level, row.test, row.school_year,
               row.window, row.student_group, row.grade, *figure_cells(row.figures, row.withheld), str(row.min_cell),
               row.cut_scores_version or "", str(row.version)]


def gap_csv_rows(rows: Iterable[views.GapRow], reference_group: str) -> Iterator[list[str]]:
    yield list(GAP_CSV_COLUMNS)
    for row in rows:
        if row.gap is None:
            gap_cells = ["", ""]
        elif row.gap.withheld:
            gap_cells = [WITHHELD, WITHHELD]
        else:
            gap_cells = [_figure(row.gap.percent_met_points), _figure(row.gap.distance_from_standard_points)]
        reference_name = row.gap.reference_group if row.gap is not None else reference_group
        yield [row.region, row.organization_id, row.organization_name or "", row.level, row.grade, row.focal_group,
               *figure_cells(row.focal, row.focal_withheld), reference_name,
               *figure_cells(row.reference, row.reference_withheld), *gap_cells]
