"""Measures: reflection's measure messages -> JSON models, and the CSV export."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable

from copnet.gateway.convert.common import or_null
from copnet.gateway.schemas import measures as schemas
from copnet.reflection.v1 import measures_pb2

WITHHELD = "*"
CSV_COLUMNS = ("organization_id", "level", "student_group", "grade", "test", "school_year", "window",
               "students_tested", "mean_scale_score", "percent_level_1", "percent_level_2", "percent_level_3",
               "percent_level_4", "percent_met_or_exceeded", "distance_from_standard", "gap_reference_group",
               "gap_percent_met_points", "gap_distance_from_standard_points", "cut_scores_version")


def _optional(message, field: str):
    return getattr(message, field) if message.HasField(field) else None


def percent(message: measures_pb2.PercentFigure) -> schemas.PercentFigure:
    return schemas.PercentFigure(value=_optional(message, "value"), text=message.text)


def measure_query_request(query: schemas.MeasureQuery) -> measures_pb2.QueryMeasuresRequest:
    return measures_pb2.QueryMeasuresRequest(
        organization_id=query.organization_id, include_children=query.include_children,
        student_groups=query.student_groups, reference_group=query.reference_group, grades=query.grades,
        tests=query.tests, school_years=query.school_years, windows=query.windows, page_size=query.page_size,
        page_token=query.page_token, include_baselines=query.include_baselines)


def measure_cell(message: measures_pb2.MeasureCell) -> schemas.MeasureCell:
    key, shown = message.key, message.figures
    has = message.HasField("figures") and not message.withheld
    gap = None
    if message.HasField("gap"):
        gap = schemas.MeasureGap(reference_group=message.gap.reference_group, withheld=message.gap.withheld,
                                 percent_met_points=_optional(message.gap, "percent_met_points"),
                                 distance_from_standard_points=_optional(message.gap, "distance_from_standard_points"))
    return schemas.MeasureCell(
        organization_id=key.organization_id, level=key.level, student_group=key.student_group, grade=key.grade,
        test=key.test, school_year=key.school_year, window=key.window, withheld=message.withheld,
        students_tested=shown.students_tested if has else None,
        mean_scale_score=shown.mean_scale_score if has else None,
        percent_at_level=[percent(p) for p in shown.percent_at_level] if has else [],
        percent_met_or_exceeded=percent(shown.percent_met_or_exceeded)
        if has and shown.HasField("percent_met_or_exceeded") else None,
        distance_from_standard=_optional(shown, "distance_from_standard") if has else None, gap=gap,
        cut_scores_version=or_null(message.cut_scores_version))


def baseline_cell(message: measures_pb2.BaselineCell) -> schemas.BaselineCell:
    return schemas.BaselineCell(
        entity_code=message.entity_code, entity_level=message.entity_level,
        organization_id=or_null(message.organization_id), student_group=message.student_group, grade=message.grade,
        test=message.test, school_year=message.school_year, suppressed_by_source=message.suppressed_by_source,
        students_tested=_optional(message, "students_tested"), mean_scale_score=_optional(message, "mean_scale_score"),
        percent_at_level=[percent(p) for p in message.percent_at_level],
        percent_met_or_exceeded=percent(message.percent_met_or_exceeded)
        if message.HasField("percent_met_or_exceeded") else None)


def measure_cell_list(reply: measures_pb2.QueryMeasuresResponse) -> schemas.MeasureCellList:
    return schemas.MeasureCellList(items=[measure_cell(c) for c in reply.cells], next_page_token=reply.next_page_token,
                                   baselines=[baseline_cell(b) for b in reply.baselines], min_cell=reply.min_cell,
                                   generation=reply.generation)


def _figure(value) -> str:
    return "" if value is None else f"{value:g}" if isinstance(value, float) else str(value)


def csv_rows(cells: Iterable[schemas.MeasureCell]) -> Iterable[list[str]]:
    """Rows of the suppressed CSV export: a withheld cell's figures are all "*"; a coded percentage
    is its text ("≤5"); a figure that does not apply (no cut scores) is empty."""
    yield list(CSV_COLUMNS)
    for cell in cells:
        key = [cell.organization_id, cell.level, cell.student_group, cell.grade, cell.test, cell.school_year,
               cell.window]
        if cell.withheld:
            figures = [WITHHELD] * 8
        else:
            levels = [p.text for p in cell.percent_at_level] or [""] * 4
            figures = [_figure(cell.students_tested), _figure(cell.mean_scale_score), *levels,
                       cell.percent_met_or_exceeded.text if cell.percent_met_or_exceeded else "",
                       _figure(cell.distance_from_standard)]
        if cell.gap is None:
            gap = ["", "", ""]
        elif cell.gap.withheld:
            gap = [cell.gap.reference_group, WITHHELD, WITHHELD]
        else:
            gap = [cell.gap.reference_group, _figure(cell.gap.percent_met_points),
                   _figure(cell.gap.distance_from_standard_points)]
        yield [*key, *figures, *gap, cell.cut_scores_version or ""]


def csv_text(cells: Iterable[schemas.MeasureCell]) -> str:
    return csv_document(csv_rows(cells))


def csv_document(rows: Iterable[list[str]]) -> str:
    """`rows` as CSV text (RFC 4180 line ends), safe to open in a spreadsheet."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    for row in rows:
        # A value a spreadsheet would run as a formula is written as text.
        writer.writerow([f"'{v}" if v[:1] in ("=", "+", "-", "@") and not _is_number(v) else v for v in row])
    return out.getvalue()


def _is_number(text: str) -> bool:
    try:
        float(text)
        return True
    except ValueError:
        return False


def growth_cell(message: measures_pb2.GrowthCell) -> schemas.GrowthCell:
    return schemas.GrowthCell(
        organization_id=message.organization_id, level=message.level, student_group=message.student_group,
        grade=message.grade, test=message.test, from_school_year=message.from_school_year,
        from_window=message.from_window, to_school_year=message.to_school_year, to_window=message.to_window,
        withheld=message.withheld, students=_optional(message, "students"),
        mean_change=_optional(message, "mean_change"),
        change_standard_deviation=_optional(message, "change_standard_deviation"))


def growth_request(query: schemas.GrowthQuery) -> measures_pb2.GetGrowthRequest:
    return measures_pb2.GetGrowthRequest(
        organization_id=query.organization_id, include_children=query.include_children,
        student_groups=query.student_groups, grades=query.grades, tests=query.tests,
        from_school_year=query.from_school_year, from_window=query.from_window,
        to_school_year=query.to_school_year, to_window=query.to_window, page_size=query.page_size,
        page_token=query.page_token)


def growth_cell_list(reply: measures_pb2.GetGrowthResponse) -> schemas.GrowthCellList:
    return schemas.GrowthCellList(items=[growth_cell(c) for c in reply.cells], next_page_token=reply.next_page_token,
                                  min_cell=reply.min_cell, generation=reply.generation)


def effect_size_request(query: schemas.EffectSizeQuery, *, community_id: str = "",
                        program_id: str = "") -> measures_pb2.GetEffectSizeRequest:
    return measures_pb2.GetEffectSizeRequest(community_id=community_id, program_id=program_id, tests=query.tests,
                                             school_years=query.school_years, windows=query.windows,
                                             student_group=query.student_group)


def effect_size(message: measures_pb2.EffectSize) -> schemas.EffectSize:
    return schemas.EffectSize(
        test=message.test, school_year=message.school_year, window=message.window, grades=list(message.grades),
        student_group=message.student_group, outcome=message.outcome, withheld=message.withheld,
        withheld_reason=or_null(message.withheld_reason),
        **{name: _optional(message, name) for name in (
            "participant_students", "participant_teachers", "participant_mean", "comparison_students",
            "comparison_teachers", "comparison_mean", "hedges_g", "ci_low", "ci_high")},
        comparison=message.comparison, cut_scores_version=or_null(message.cut_scores_version))


def effect_size_list(reply: measures_pb2.GetEffectSizeResponse) -> schemas.EffectSizeList:
    return schemas.EffectSizeList(items=[effect_size(e) for e in reply.effect_sizes], min_cell=reply.min_cell,
                                  generation=reply.generation)


def reflection_metric(message: measures_pb2.ReflectionMetric) -> schemas.ReflectionMetric:
    return schemas.ReflectionMetric(key=message.key, title=message.title, description=message.description,
                                    plugin=message.plugin)


def metric_request(key: str, query: schemas.MeasureFilters) -> measures_pb2.ComputeReflectionMetricRequest:
    return measures_pb2.ComputeReflectionMetricRequest(
        key=key, organization_id=query.organization_id, include_children=query.include_children,
        student_groups=query.student_groups, grades=query.grades, tests=query.tests,
        school_years=query.school_years, windows=query.windows)


def metric_result(reply: measures_pb2.ComputeReflectionMetricResponse) -> schemas.ReflectionMetricResult:
    return schemas.ReflectionMetricResult(
        metric=reflection_metric(reply.metric),
        values=[schemas.MetricValue(organization_id=v.organization_id, value=_optional(v, "value"), label=v.label,
                                    note=v.note) for v in reply.values], cells=reply.cells)
