"""Participation rates and professional-learning hours, from plain data (no database, no calls).

An occurrence counts once it is *held*: not cancelled and started. A person is *expected* at a held
occurrence when its audience includes them, or when they came anyway (showing up is never held
against anyone, and a rate stays within 0..1); an excused absence takes the occurrence out of
what they were expected at.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

ATTENDED_STATUSES = frozenset({"present", "late"})


@dataclass(frozen=True)
class HeldOccurrence:
    id: str
    start_at: dt.datetime
    end_at: dt.datetime
    audience: str
    team_id: str
    facilitator_ids: tuple[str, ...] = ()


@dataclass(frozen=True)
class Mark:
    """One attendance record, reduced to what the arithmetic needs."""

    occurrence_id: str
    person_id: str
    status: str
    attended_minutes: int


@dataclass(frozen=True)
class Tally:
    person_id: str = ""
    community_id: str = ""
    expected: int = 0
    attended: int = 0
    late: int = 0
    absent: int = 0
    excused: int = 0
    unrecorded: int = 0
    attended_minutes: int = 0

    @property
    def rate(self) -> float:
        return self.attended / self.expected if self.expected else 0.0


def occurrence_minutes(start_at: dt.datetime, end_at: dt.datetime) -> int:
    """Whole minutes between two instants (so a 3-hour convening across a daylight-saving change is
    still 180)."""
    return int((end_at - start_at).total_seconds() // 60)


def is_held(status: str, start_at: dt.datetime, now: dt.datetime) -> bool:
    return status != "cancelled" and start_at <= now


def tally(person_id: str, community_id: str, held: Iterable[HeldOccurrence],
          audience_of: Mapping[str, set[str]], marks: Mapping[tuple[str, str], Mark]) -> Tally:
    """One person's participation over `held`; `audience_of` gives each occurrence id's expected
    people, `marks` the records by (occurrence id, person id)."""
    expected = attended = late = absent = excused = unrecorded = minutes = 0
    for occurrence in held:
        mark = marks.get((occurrence.id, person_id))
        came = mark is not None and mark.status in ATTENDED_STATUSES
        if not came and person_id not in audience_of.get(occurrence.id, ()):
            continue
        if mark is None:
            expected += 1
            unrecorded += 1
        elif mark.status == "excused":
            excused += 1
        else:
            expected += 1
            if came:
                attended += 1
                minutes += mark.attended_minutes
                late += mark.status == "late"
            else:
                absent += 1
    return Tally(person_id=person_id, community_id=community_id, expected=expected, attended=attended, late=late,
                 absent=absent, excused=excused, unrecorded=unrecorded, attended_minutes=minutes)


def summed(tallies: Iterable[Tally], *, person_id: str = "", community_id: str = "") -> Tally:
    """The sum of `tallies` (its rate is total attended over total expected, not a mean of rates)."""
    total = Tally(person_id=person_id, community_id=community_id)
    for part in tallies:
        total = Tally(person_id=person_id, community_id=community_id, expected=total.expected + part.expected,
                      attended=total.attended + part.attended, late=total.late + part.late,
                      absent=total.absent + part.absent, excused=total.excused + part.excused,
                      unrecorded=total.unrecorded + part.unrecorded,
                      attended_minutes=total.attended_minutes + part.attended_minutes)
    return total


def community_participation(community_id: str, people: Iterable[str], held: list[HeldOccurrence],
                            audience_of: Mapping[str, set[str]], marks: Iterable[Mark]) -> tuple[list[Tally], Tally]:
    """Each person's tally (ordered by person id) and their sum."""
    by_key = {(mark.occurrence_id, mark.person_id): mark for mark in marks}
    tallies = [tally(person_id, community_id, held, audience_of, by_key) for person_id in sorted(set(people))]
    return tallies, summed(tallies, community_id=community_id)


def hours(minutes: int) -> float:
    """Minutes as hours, to two decimals (what a certificate shows)."""
    return round(minutes / 60, 2)
