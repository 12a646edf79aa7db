"""Reflection metrics: "relative proficiency", a group's % met or exceeded as a share of all
students' in the same organization, grade and test window (1.0: on par; 0.5: half as often
proficient). It reads published, suppressed cells only: where either cell is withheld or its
percentage is top/bottom coded, there is no value, only a note saying so.
"""

from __future__ import annotations

from collections.abc import Sequence

from copnet import MeasureCellView, MetricValue, PluginSettings, hookimpl
from pydantic import Field

COPNET_HOOKSPEC_VERSION = 2
# copnet's own metric: on in every region unless a region switches it off.
COPNET_ENABLED_BY_DEFAULT = True

ALL_STUDENTS = "all"
DECIMALS = 3


class Settings(PluginSettings):
    """Which groups the metric is computed for."""

    student_groups: list[str] = Field(
        default_factory=list, max_length=30,
        description="Student groups to compute relative proficiency for (empty: every group in the cells).")


class RelativeProficiency:
    key = "relative-proficiency"
    title = "Relative proficiency"
    description = ("A student group's % met or exceeded divided by all students' % met or exceeded in the same "
                   "organization, grade and test window: 1.0 is parity, below 1.0 a gap.")

    def compute(self, cells: Sequence[MeasureCellView], settings: Settings | None) -> list[MetricValue]:
        wanted = set((settings or Settings()).student_groups)
        everyone = {_place(cell): cell for cell in cells if cell.student_group == ALL_STUDENTS}
        values = []
        for cell in cells:
            if cell.student_group == ALL_STUDENTS or (wanted and cell.student_group not in wanted):
                continue
            label = (f"{cell.student_group}, grade {cell.grade}, {cell.test} {cell.school_year} {cell.window}")
            reference = everyone.get(_place(cell))
            if cell.suppressed or reference is None or reference.suppressed:
                values.append(MetricValue(cell.organization_id, None, label, "withheld (small group)"))
            elif cell.percent_met_or_exceeded is None or not reference.percent_met_or_exceeded:
                values.append(MetricValue(cell.organization_id, None, label, "percentage coded or zero"))
            else:
                values.append(MetricValue(cell.organization_id, round(
                    cell.percent_met_or_exceeded / reference.percent_met_or_exceeded, DECIMALS), label))
        return values


def _place(cell: MeasureCellView) -> tuple:
    return cell.organization_id, cell.grade, cell.test, cell.school_year, cell.window


@hookimpl
def register_reflection_metrics():
    return [RelativeProficiency()]
