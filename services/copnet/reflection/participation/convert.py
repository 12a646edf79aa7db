"""Figures as protobuf messages."""

from __future__ import annotations

from copnet.reflection.participation.retention import RetentionFigures
from copnet.reflection.participation.rollups import Figures
from copnet.reflection.suppression import PercentFigure
from copnet.reflection.v1 import measures_pb2, participation_pb2


def percent(figure: PercentFigure | None) -> measures_pb2.PercentFigure | None:
    if figure is None:
        return None
    return measures_pb2.PercentFigure(value=figure.value, text=figure.display)


def figures(found: Figures) -> participation_pb2.ParticipationFigures:
    return participation_pb2.ParticipationFigures(
        scope_id=found.scope_id, level=found.level, program_year=found.program_year, withheld=found.withheld,
        teachers_reached=found.teachers_reached, schools_reached=found.schools_reached,
        districts_reached=found.districts_reached, attendance_rate=percent(found.attendance_rate),
        learning_hours=found.learning_hours, attendance_records=found.attendance_records)


def retention(found: RetentionFigures) -> participation_pb2.RetentionFigures:
    return participation_pb2.RetentionFigures(
        scope_id=found.scope_id, level=found.level, program_year=found.program_year, withheld=found.withheld,
        participants=found.participants, retained=found.retained, not_retained=found.not_retained,
        not_yet_known=found.not_yet_known, retention_rate=percent(found.rate))
