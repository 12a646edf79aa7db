"""Published measures as measures.proto messages."""

from __future__ import annotations

from copnet.pluginapi import MetricValue
from copnet.reflection.measures.baselines import BaselineCell
from copnet.reflection.measures.effect_size import EffectSizeResult
from copnet.reflection.measures.growth import GrowthCell
from copnet.reflection.measures.published import Percent, PublishedCell
from copnet.reflection.v1 import measures_pb2


def percent(figure: Percent | None) -> measures_pb2.PercentFigure | None:
    if figure is None:
        return None
    return measures_pb2.PercentFigure(value=figure.value, text=figure.text)


def figures(cell: PublishedCell) -> measures_pb2.MeasureFigures:
    return measures_pb2.MeasureFigures(
        students_tested=cell.students_tested or 0, mean_scale_score=cell.mean_scale_score or 0.0,
        percent_at_level=[percent(p) for p in cell.percent_at_level],
        percent_met_or_exceeded=percent(cell.percent_met_or_exceeded),
        distance_from_standard=cell.distance_from_standard)


def measure_cell(cell: PublishedCell) -> measures_pb2.MeasureCell:
    gap = None
    if cell.gap is not None:
        gap = measures_pb2.MeasureGap(reference_group=cell.gap.reference_group, withheld=cell.gap.withheld,
                                      percent_met_points=cell.gap.percent_met_points,
                                      distance_from_standard_points=cell.gap.distance_from_standard_points)
    return measures_pb2.MeasureCell(
        key=measures_pb2.CellKey(organization_id=cell.organization_id, level=cell.level,
                                 student_group=cell.student_group, grade=cell.grade, test=cell.test,
                                 school_year=cell.school_year, window=cell.window),
        withheld=cell.withheld, figures=None if cell.withheld else figures(cell), gap=gap,
        cut_scores_version=cell.cut_scores_version)


def baseline_cell(cell: BaselineCell) -> measures_pb2.BaselineCell:
    return measures_pb2.BaselineCell(
        entity_code=cell.entity_code, entity_level=cell.entity_level, organization_id=cell.organization_id,
        student_group=cell.student_group, grade=cell.grade, test=cell.test, school_year=cell.school_year,
        suppressed_by_source=cell.suppressed_by_source, students_tested=cell.students_tested,
        mean_scale_score=cell.mean_scale_score, percent_at_level=[percent(p) for p in cell.percent_at_level],
        percent_met_or_exceeded=percent(cell.percent_met_or_exceeded))


def growth_cell(cell: GrowthCell) -> measures_pb2.GrowthCell:
    return measures_pb2.GrowthCell(
        organization_id=cell.organization_id, level=cell.level, student_group=cell.student_group, grade=cell.grade,
        test=cell.test, from_school_year=cell.from_school_year, from_window=cell.from_window,
        to_school_year=cell.to_school_year, to_window=cell.to_window, withheld=cell.withheld, students=cell.students,
        mean_change=cell.mean_change, change_standard_deviation=cell.change_standard_deviation)


def effect_size(result: EffectSizeResult) -> measures_pb2.EffectSize:
    return measures_pb2.EffectSize(
        test=result.test, school_year=result.school_year, window=result.window, grades=list(result.grades),
        student_group=result.student_group, outcome=result.outcome, withheld=result.withheld,
        withheld_reason=result.withheld_reason, participant_students=result.participant_students,
        participant_teachers=result.participant_teachers, participant_mean=result.participant_mean,
        comparison_students=result.comparison_students, comparison_teachers=result.comparison_teachers,
        comparison_mean=result.comparison_mean, hedges_g=result.hedges_g, ci_low=result.ci_low,
        ci_high=result.ci_high, comparison=result.comparison, cut_scores_version=result.cut_scores_version)


def metric_value(value: MetricValue) -> measures_pb2.MetricValue:
    return measures_pb2.MetricValue(organization_id=value.organization_id, value=value.value, label=value.label,
                                    note=value.note)
