"""The views' arithmetic over published figures, and only over published figures: a gap between
two published cells, and statewide totals from every linked region's region-level figures.

Nothing here works a figure out of a withheld one: a gap with a withheld side is withheld, a
coded percentage ("<5", ">95") gives no points, and a total is set only when every linked region
published its part (`complete`); otherwise the regions missing or withheld are named instead.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field

from copnet.reflection.v1 import measures_pb2


@dataclass(frozen=True)
class Cell:
    """A published cell as the views read it: withheld, or its figures."""

    withheld: bool
    figures: measures_pb2.MeasureFigures | None = None


def gap(focal: Cell, reference: Cell | None, reference_group: str) -> measures_pb2.MeasureGap:
    """Focal minus reference, in percentage points (met or exceeded) and scale-score points
    (distance from standard). Withheld when either side is; no points from a coded percentage or
    a side the region did not publish."""
    result = measures_pb2.MeasureGap(reference_group=reference_group)
    if focal.withheld or (reference is not None and reference.withheld):
        result.withheld = True
        return result
    if reference is None or focal.figures is None or reference.figures is None:
        return result
    mine, theirs = focal.figures.percent_met_or_exceeded, reference.figures.percent_met_or_exceeded
    if mine.HasField("value") and theirs.HasField("value"):
        result.percent_met_points = round(mine.value - theirs.value, 1)
    if focal.figures.HasField("distance_from_standard") and reference.figures.HasField("distance_from_standard"):
        result.distance_from_standard_points = round(
            focal.figures.distance_from_standard - reference.figures.distance_from_standard, 1)
    return result


@dataclass
class Completeness:
    """Which linked regions published their part of a total."""

    missing: list[str] = field(default_factory=list)
    withheld: list[str] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        return not self.missing and not self.withheld


def completeness(linked_regions: Collection[str], withheld_by_region: Mapping[str, bool]) -> Completeness:
    """`withheld_by_region`: each region that published its region-level part, and whether it is withheld."""
    result = Completeness()
    for region in sorted(linked_regions):
        if region not in withheld_by_region:
            result.missing.append(region)
        elif withheld_by_region[region]:
            result.withheld.append(region)
    return result


def measure_total(student_group: str, grade: str, linked_regions: Collection[str],
                  cells_by_region: Mapping[str, Cell]) -> measures_pb2.MeasureFigures | None:
    """The statewide figures of (group, grade) from every linked region's region-level cell: students
    tested summed, mean scale score and percent met or exceeded weighted by students tested (that
    percentage only when no region coded it). None unless every linked region published it."""
    parts = completeness(linked_regions, {region: cell.withheld for region, cell in cells_by_region.items()
                                          if region in linked_regions})
    if not parts.complete or not linked_regions:
        return None
    figures = [cells_by_region[region].figures or measures_pb2.MeasureFigures() for region in linked_regions]
    tested = sum(f.students_tested for f in figures)
    total = measures_pb2.MeasureFigures(students_tested=tested)
    if tested > 0:
        total.mean_scale_score = round(sum(f.mean_scale_score * f.students_tested for f in figures) / tested, 1)
        if all(f.percent_met_or_exceeded.HasField("value") for f in figures):
            value = round(sum(f.percent_met_or_exceeded.value * f.students_tested for f in figures) / tested, 1)
            total.percent_met_or_exceeded.value = value
            total.percent_met_or_exceeded.text = f"{value:.1f}"
    return total


def sum_if_complete(parts: Completeness, values: list[int | float | None]) -> int | float | None:
    """The sum of every region's figure, or None when a part is missing, withheld or unset."""
    if not parts.complete or not values or any(value is None for value in values):
        return None
    return sum(values)
