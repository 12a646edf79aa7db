"""Retention tallies read from the participant facts of one scope and year (an indexed read of the
scope's participants and their people, bounded by MAX_PARTICIPANTS)."""

from __future__ import annotations

from collections import defaultdict

from copnet.kernel.errors import FailedPrecondition
import copnet.reflection.participation.retention as retention
from copnet.reflection.participation.models import ParticipantFact, PersonFact

MAX_PARTICIPANTS = 50_000


def participants(program_year: str, *, organization_id: str = "", community_id: str = "") -> list[ParticipantFact]:
    query = {"program_year": program_year, "communities": {"$ne": []}}
    if organization_id:
        query["placement.organization_id"] = organization_id
    else:
        query["communities"] = community_id
    found = list(ParticipantFact.objects(__raw__=query).limit(MAX_PARTICIPANTS + 1))
    if len(found) > MAX_PARTICIPANTS:
        raise FailedPrecondition(f"more than {MAX_PARTICIPANTS} participants in one read; ask per county office",
                                 reason="TOO_MANY_PARTICIPANTS")
    return found


def tallies(facts: list[ParticipantFact], scope_id: str) -> tuple[retention.Tally, dict[str, retention.Tally]]:
    """The scope's tally and its children's (the organization just below it in each placement)."""
    people = {p.person_id: p for p in PersonFact.objects(person_id__in=sorted({f.person_id for f in facts}))}
    own: list[str] = []
    below: dict[str, list[str]] = defaultdict(list)
    for fact in facts:
        person = people.get(fact.person_id)
        result = retention.outcome(fact.program_year, bool(person and person.teaching_at_school),
                                   person.as_of if person else None)
        own.append(result)
        chain = [placed.organization_id for placed in fact.placement]
        if scope_id in chain and chain.index(scope_id) > 0:
            below[chain[chain.index(scope_id) - 1]].append(result)
    return retention.Tally.of(own), {child: retention.Tally.of(results) for child, results in below.items()}


def years_of(*, organization_id: str = "", community_id: str = "") -> list[str]:
    query = {"placement.organization_id": organization_id} if organization_id else {"communities": community_id}
    return sorted(ParticipantFact.objects(__raw__=query).distinct("program_year"), reverse=True)
