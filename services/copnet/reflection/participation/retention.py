"""Retention: of the people who took part in program year Y (a confirmed registration in one of
its communities), how many still teach mathematics at a school in year Y+1.

Membership keeps each person's affiliations (organization and position), changed by the roster
imports and edits that follow people from year to year; it does not keep a history. So the rule
reads the person as membership last described them, and only counts a description made on or
after July 1 of year Y+1 (the person's record changed after the next year began):

- retained: the person is affiliated with a school as a teacher, coach or specialist;
- not retained: the person has no such affiliation (left teaching, moved to an office, left);
- not yet known: the person has not been changed since the next year began (or Y+1 has not
  begun): counted in neither, and shown apart.

The rate is retained / (retained + not retained). Counts are suppressed like every other count
(participants = retained + not retained + not yet known, and a parent's counts = its children's
plus the rest).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import copnet.reflection.participation.years as years
from copnet.reflection.suppression import (
    Constraint,
    PercentFigure,
    code_percent,
    suppress,
)

RETAINED, NOT_RETAINED, NOT_YET_KNOWN = "retained", "not_retained", "not_yet_known"
OUTCOMES = (RETAINED, NOT_RETAINED, NOT_YET_KNOWN)
PARTICIPANTS = "participants"
REST = "rest"


def outcome(program_year: str, teaching_at_school: bool, described_at: dt.datetime | None) -> str:
    """The retention outcome of one participant of `program_year`, given membership's latest
    description of them (whether they teach at a school, and when it was made)."""
    if described_at is None:
        return NOT_YET_KNOWN
    if described_at.tzinfo is None:
        described_at = described_at.replace(tzinfo=dt.UTC)
    if described_at < years.next_year_start(program_year):
        return NOT_YET_KNOWN
    return RETAINED if teaching_at_school else NOT_RETAINED


@dataclass(frozen=True)
class Tally:
    retained: int = 0
    not_retained: int = 0
    not_yet_known: int = 0

    @property
    def participants(self) -> int:
        return self.retained + self.not_retained + self.not_yet_known

    def count(self, name: str) -> int:
        return self.participants if name == PARTICIPANTS else getattr(self, name)

    @classmethod
    def of(cls, outcomes: Iterable[str]) -> Tally:
        found = list(outcomes)
        return cls(*(found.count(name) for name in OUTCOMES))


@dataclass(frozen=True)
class RetentionFigures:
    scope_id: str
    level: str
    program_year: str
    withheld: bool
    participants: int | None = None
    retained: int | None = None
    not_retained: int | None = None
    not_yet_known: int | None = None
    rate: PercentFigure | None = None


def rest_of(scope_id: str) -> str:
    """The row of the participants counted at a scope but under none of its children."""
    return f"{scope_id}|{REST}"


def figures(scope_id: str, level: str, program_year: str, tally: Tally, children: Mapping[str, Tally],
            min_cell: int) -> RetentionFigures:
    """The scope's figures, suppressed together with its children's counts (which a reader can
    ask for too): each row is participants = the three outcomes, and each outcome of the scope is
    its children's plus the rest."""
    counts: dict[tuple[str, str], int] = {}
    constraints: list[Constraint] = []
    rows = {scope_id: tally, **{child: children[child] for child in sorted(children)}}
    if children:
        rest = Tally(*(max(tally.count(name) - sum(t.count(name) for t in children.values()), 0) for name in OUTCOMES))
        rows[rest_of(scope_id)] = rest
    for row, row_tally in rows.items():
        for name in (PARTICIPANTS, *OUTCOMES):
            counts[(row, name)] = row_tally.count(name)
        constraints.append(Constraint((row, PARTICIPANTS), tuple((row, name) for name in OUTCOMES)))
    if children:
        parts: Sequence[str] = [*sorted(children), rest_of(scope_id)]
        for name in (PARTICIPANTS, *OUTCOMES):
            constraints.append(Constraint((scope_id, name), tuple((part, name) for part in parts)))
    withheld = suppress(counts, constraints, min_cell)
    if (scope_id, PARTICIPANTS) in withheld:
        return RetentionFigures(scope_id, level, program_year, True)
    shown = {name: None if (scope_id, name) in withheld else tally.count(name) for name in OUTCOMES}
    known = tally.retained + tally.not_retained
    rate = None
    if known and (scope_id, RETAINED) not in withheld and (scope_id, NOT_RETAINED) not in withheld \
            and known >= min_cell:
        rate = code_percent(100 * tally.retained / known, known)
    return RetentionFigures(scope_id, level, program_year, False, participants=tally.participants, rate=rate, **shown)
