"""The arithmetic of participation roll-ups and the figures shown from them (no database).

Teachers reached count distinct people per organization and program year; an organization's count
is its children's counts plus the people placed at the organization itself (a coach affiliated
with a district office), so the suppression engine is told `parent = children + rest` for every
parent, with the rest as a count it protects like any other. One suppression runs over a program
year's whole organization tree, so every view (an organization alone, with its children, the
published event) withholds the same counts.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from copnet.reflection.suppression import (
    Constraint,
    PercentFigure,
    code_percent,
    suppress,
)

ATTENDED = frozenset({"present", "late"})
# An excused absence takes the meeting out of what the person was expected at.
NOT_EXPECTED = frozenset({"excused"})
OWN, REST = "", "rest"
# When a school (district) gains its first teacher or loses its last, every organization above it
# gains or loses a school (district) reached.
REACH_COUNTERS = {"school": "schools_reached", "district": "districts_reached"}


@dataclass(frozen=True)
class Contribution:
    """What one attendance record adds to a roll-up."""

    expected: int = 0
    attended: int = 0
    minutes: int = 0

    @classmethod
    def of(cls, status: str, attended_minutes: int) -> Contribution:
        if status in NOT_EXPECTED or not status:
            return cls()
        attended = status in ATTENDED
        return cls(1, int(attended), max(attended_minutes, 0) if attended else 0)

    def minus(self, other: Contribution) -> Contribution:
        return Contribution(self.expected - other.expected, self.attended - other.attended,
                            self.minutes - other.minutes)

    def increments(self) -> dict[str, int]:
        changed = {"expected_records": self.expected, "attended_records": self.attended,
                   "attended_minutes": self.minutes}
        return {name: value for name, value in changed.items() if value}


def reach_change(level: str, teachers_before: int, teachers_after: int) -> tuple[str, int] | None:
    """(counter, ±1) to add to every organization above one whose teachers went from or to none."""
    counter = REACH_COUNTERS.get(level)
    if counter is None or (teachers_before > 0) == (teachers_after > 0):
        return None
    return counter, 1 if teachers_after > 0 else -1


@dataclass(frozen=True)
class Rollup:
    scope_id: str
    level: str
    parent_id: str
    program_year: str
    teachers: int = 0
    schools_reached: int = 0
    districts_reached: int = 0
    expected_records: int = 0
    attended_records: int = 0
    attended_minutes: int = 0


@dataclass(frozen=True)
class Figures:
    """What is shown of one roll-up: every figure None when withheld."""

    scope_id: str
    level: str
    program_year: str
    withheld: bool
    teachers_reached: int | None = None
    schools_reached: int | None = None
    districts_reached: int | None = None
    attendance_rate: PercentFigure | None = None
    learning_hours: float | None = None
    attendance_records: int | None = None


def learning_hours(minutes: int) -> float:
    return round(minutes / 60, 1)


def figures_of(rollup: Rollup, withheld: bool, min_cell: int) -> Figures:
    if withheld:
        return Figures(rollup.scope_id, rollup.level, rollup.program_year, True)
    rate = None
    # A rate over fewer records than the threshold says too much about the few meetings behind it.
    if rollup.expected_records >= min_cell:
        rate = code_percent(100 * rollup.attended_records / rollup.expected_records, rollup.teachers)
    reaches_schools = rollup.level not in ("school", "community")
    return Figures(rollup.scope_id, rollup.level, rollup.program_year, False, teachers_reached=rollup.teachers,
                   schools_reached=rollup.schools_reached if reaches_schools else None,
                   districts_reached=rollup.districts_reached if reaches_schools and rollup.level != "district"
                   else None,
                   attendance_rate=rate, learning_hours=learning_hours(rollup.attended_minutes),
                   attendance_records=rollup.expected_records)


def tree_table(rollups: Iterable[Rollup]) -> tuple[dict[tuple[str, str], int], list[Constraint]]:
    """Teacher counts keyed (scope, OWN) and each parent's rest (scope, REST), with the relations
    parent = children + rest."""
    by_id = {rollup.scope_id: rollup for rollup in rollups}
    counts = {(scope, OWN): rollup.teachers for scope, rollup in by_id.items()}
    children: dict[str, list[str]] = defaultdict(list)
    for scope, rollup in by_id.items():
        if rollup.parent_id in by_id:
            children[rollup.parent_id].append(scope)
    constraints = []
    for parent, kids in children.items():
        rest = by_id[parent].teachers - sum(by_id[kid].teachers for kid in kids)
        counts[(parent, REST)] = max(rest, 0)
        constraints.append(Constraint((parent, OWN), (*((kid, OWN) for kid in sorted(kids)), (parent, REST))))
    return counts, constraints


def year_figures(rollups: Iterable[Rollup], min_cell: int) -> dict[str, Figures]:
    """Figures of every organization of one program year's tree, suppressed together."""
    rollups = list(rollups)
    counts, constraints = tree_table(rollups)
    withheld = suppress(counts, constraints, min_cell)
    return {rollup.scope_id: figures_of(rollup, (rollup.scope_id, OWN) in withheld, min_cell) for rollup in rollups}


def community_figures(rollups: Iterable[Rollup], min_cell: int) -> dict[str, Figures]:
    """Communities' figures: a community's count is not part of any sum published beside it (a
    teacher may be in several), so only its own smallness withholds it."""
    rollups = list(rollups)
    withheld = suppress({rollup.scope_id: rollup.teachers for rollup in rollups}, [], min_cell)
    return {rollup.scope_id: figures_of(rollup, rollup.scope_id in withheld, min_cell) for rollup in rollups}
