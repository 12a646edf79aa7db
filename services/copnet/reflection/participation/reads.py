"""Figures read from the roll-ups: one program year's organization tree (O(organizations), never
the facts), suppressed as a whole, remembered until the year's roll-ups change."""

from __future__ import annotations

import threading
from collections.abc import Iterable

from copnet.reflection.participation.models import (
    ParticipationRollup,
    ParticipationYear,
)
from copnet.reflection.participation.rollups import (
    Figures,
    Rollup,
    community_figures,
    year_figures,
)

COMMUNITY = "community"
_cache: dict[tuple[str, int], tuple[int, list[Rollup], dict[str, Figures]]] = {}
_lock = threading.Lock()


def rollup_of(doc: ParticipationRollup) -> Rollup:
    return Rollup(doc.scope_id, doc.level, doc.parent_id, doc.program_year, doc.teachers, doc.schools_reached,
                  doc.districts_reached, doc.expected_records, doc.attended_records, doc.attended_minutes)


def revision(program_year: str) -> int:
    found = ParticipationYear.objects(program_year=program_year).only("revision").first()
    return found.revision if found else 0


def organization_tree(program_year: str, min_cell: int) -> tuple[list[Rollup], dict[str, Figures]]:
    """Every organization's roll-up of the year and its suppressed figures."""
    current = revision(program_year)
    with _lock:
        cached = _cache.get((program_year, min_cell))
    if cached is not None and cached[0] == current:
        return cached[1], cached[2]
    rollups = [rollup_of(doc) for doc in ParticipationRollup.objects(program_year=program_year, level__ne=COMMUNITY)]
    figures = year_figures(rollups, min_cell)
    with _lock:
        _cache[(program_year, min_cell)] = (current, rollups, figures)
    return rollups, figures


def community(community_id: str, program_year: str, min_cell: int) -> Figures | None:
    doc = ParticipationRollup.objects(pk=f"{community_id}|{program_year}").first()
    return None if doc is None else community_figures([rollup_of(doc)], min_cell)[community_id]


def years_of(scope_id: str) -> list[str]:
    """Program years with a roll-up for the scope, most recent first."""
    return sorted(ParticipationRollup.objects(scope_id=scope_id).distinct("program_year"), reverse=True)


def children(rollups: Iterable[Rollup], figures: dict[str, Figures], parent_id: str) -> list[Figures]:
    return sorted((figures[r.scope_id] for r in rollups if r.parent_id == parent_id), key=lambda f: f.scope_id)


def zero(scope_id: str, level: str, program_year: str) -> Figures:
    """A scope nobody from has taken part in that year (a zero says nothing about anyone)."""
    return Figures(scope_id, level, program_year, False, teachers_reached=0,
                   schools_reached=0 if level not in ("school", COMMUNITY) else None,
                   districts_reached=0 if level not in ("school", "district", COMMUNITY) else None,
                   learning_hours=0.0, attendance_records=0)
