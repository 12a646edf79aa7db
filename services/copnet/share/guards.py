"""The producer's guard: a figure is shared only as the suppression engine published it.

reflection's `aggregates.published` and `participation.published` are suppressed where they are
made; the share service checks them again before anything leaves for the hub, so a bug upstream
cannot send a small cell: every shown count is zero (zeros are published, they give nobody away)
or at least max(the message's threshold, the region's, 10); a withheld cell or row carries no
figure; no school, community or student-level row is ever among them. A message that fails is
not shared (the caller logs it as an error).
"""

from __future__ import annotations

from copnet.reflection.v1 import measures_pb2, participation_pb2

# No count under this is ever shown, whatever a deployment configures.
FLOOR = 10
MEASURE_LEVELS = frozenset({"district", "county_office", "region"})
PARTICIPATION_LEVELS = frozenset({"district", "county_office", "region", "state"})
PARTICIPATION_FIGURES = ("teachers_reached", "schools_reached", "districts_reached", "attendance_rate",
                         "learning_hours", "attendance_records")


class Refused(ValueError):
    """A message that is not fit to share; the text says which rule it breaks."""


def threshold(message_min_cell: int, region_min_cell: int) -> int:
    return max(message_min_cell, region_min_cell, FLOOR)


def _shown_count(n: int, least: int, where: str) -> None:
    if 0 < n < least:
        raise Refused(f"{where}: a count of {n} is below the threshold {least}")
    if n < 0:
        raise Refused(f"{where}: a negative count")


def check_measures(message: measures_pb2.AggregatesPublished, region: str, region_min_cell: int) -> None:
    """Raises Refused unless every cell of `message` is suppressed as published figures are."""
    name = f"measures {message.organization_id}|{message.test}|{message.school_year}|{message.window}"
    if message.region != region:
        raise Refused(f"{name}: from region {message.region!r}, not this region's ({region!r})")
    if message.level not in MEASURE_LEVELS:
        raise Refused(f"{name}: level {message.level!r} is never shared")
    least = threshold(message.min_cell, region_min_cell)
    for cell in message.cells:
        where = f"{name} cell {cell.student_group}/{cell.grade}"
        if cell.withheld:
            if cell.HasField("figures"):
                raise Refused(f"{where}: withheld yet carries figures")
            continue
        if not cell.HasField("figures"):
            raise Refused(f"{where}: shown without figures")
        _shown_count(cell.figures.students_tested, least, where)


def check_participation(message: participation_pb2.ParticipationPublished, region: str, region_min_cell: int) -> None:
    """Raises Refused unless the organization's row and each child's are suppressed as published."""
    name = f"participation {message.organization_id}|{message.program_year}"
    if message.region != region:
        raise Refused(f"{name}: from region {message.region!r}, not this region's ({region!r})")
    if not message.HasField("figures"):
        raise Refused(f"{name}: no figures")
    least = threshold(message.min_cell, region_min_cell)
    for row in (message.figures, *message.children):
        where = f"{name} row {row.scope_id}"
        if row.level not in PARTICIPATION_LEVELS:
            raise Refused(f"{where}: level {row.level!r} is never shared")
        if row.withheld:
            shown = [field for field in PARTICIPATION_FIGURES if row.HasField(field)]
            if shown:
                raise Refused(f"{where}: withheld yet carries {', '.join(shown)}")
            continue
        if not row.HasField("teachers_reached"):
            raise Refused(f"{where}: shown without teachers reached")
        _shown_count(row.teachers_reached, least, where)
