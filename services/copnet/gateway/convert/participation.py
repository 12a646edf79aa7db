"""participation_pb2 <-> /api/v1 participation JSON."""

from __future__ import annotations

from copnet.gateway.convert.measures import percent
from copnet.gateway.schemas import participation as schemas
from copnet.reflection.v1 import participation_pb2


def _optional(message, name: str):
    return getattr(message, name) if message.HasField(name) else None


def figures(message: participation_pb2.ParticipationFigures) -> schemas.ParticipationFigures:
    return schemas.ParticipationFigures(
        scope_id=message.scope_id, level=message.level, program_year=message.program_year, withheld=message.withheld,
        teachers_reached=_optional(message, "teachers_reached"), schools_reached=_optional(message, "schools_reached"),
        districts_reached=_optional(message, "districts_reached"),
        attendance_rate=percent(message.attendance_rate) if message.HasField("attendance_rate") else None,
        learning_hours=_optional(message, "learning_hours"),
        attendance_records=_optional(message, "attendance_records"))


def participation(reply: participation_pb2.GetParticipationResponse) -> schemas.ParticipationSummary:
    return schemas.ParticipationSummary(figures=figures(reply.figures), children=[figures(c) for c in reply.children],
                                 program_years=list(reply.program_years), min_cell=reply.min_cell)


def retention_figures(message: participation_pb2.RetentionFigures) -> schemas.RetentionFigures:
    return schemas.RetentionFigures(
        scope_id=message.scope_id, level=message.level, program_year=message.program_year, withheld=message.withheld,
        participants=_optional(message, "participants"), retained=_optional(message, "retained"),
        not_retained=_optional(message, "not_retained"), not_yet_known=_optional(message, "not_yet_known"),
        retention_rate=percent(message.retention_rate) if message.HasField("retention_rate") else None)


def retention(reply: participation_pb2.GetRetentionResponse) -> schemas.RetentionSummary:
    return schemas.RetentionSummary(years=[retention_figures(y) for y in reply.years], min_cell=reply.min_cell)
