"""Who may sign up for a community, and which slot of a team's composition each member fills.

Pure functions over documents (or anything shaped like them), so the rules are unit-tested
without a database.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


def within(affiliation, organization_ids: Sequence[str]) -> bool:
    """The affiliation's organization is one of `organization_ids` or below one of them."""
    scope = list(affiliation.scope or []) or [affiliation.organization_id]
    return any(org_id in scope for org_id in organization_ids)


def ineligibility(person, positions: Sequence[str], organization_ids: Sequence[str]) -> str | None:
    """Why `person` may not sign up, or None when one affiliation matches both lists.

    An empty list does not restrict.
    """
    if not positions and not organization_ids:
        return None
    affiliations = list(person.affiliations)
    by_position = [a for a in affiliations if not positions or a.position in positions]
    by_organization = [a for a in affiliations if not organization_ids or within(a, organization_ids)]
    if not by_position:
        return f"open to {', '.join(positions)} only; {person.id} holds none of these positions"
    if not by_organization:
        return (f"open to people affiliated within {', '.join(organization_ids)} only; "
                f"{person.id} has no affiliation there")
    if not any(a in by_organization for a in by_position):
        return (f"open to {', '.join(positions)} affiliated within {', '.join(organization_ids)}; "
                f"none of {person.id}'s affiliations is both")
    return None


# -- team composition ---------------------------------------------------------------------------
@dataclass(frozen=True)
class CompositionFailure:
    """Why the members cannot fill the slots: one member fits no slot, or one slot stays short."""

    message: str


def fits(person, slot, school_id: str) -> bool:
    """`person` may fill `slot`: affiliated at the school in the slot's position, teaching one of
    the slot's grade bands when it names any."""
    at_school = any(a.organization_id == school_id and a.position == slot.position for a in person.affiliations)
    teaches = not slot.grade_bands or bool(set(slot.grade_bands) & set(person.grade_bands))
    return at_school and teaches


def describe(slot) -> str:
    bands = f" teaching {'/'.join(slot.grade_bands)}" if slot.grade_bands else ""
    return f"{slot.count} x {slot.position}{bands}"


def assign_slots(people: Sequence, slots: Sequence, school_id: str) -> list[int] | CompositionFailure:
    """Each member's slot index (every member fills exactly one slot, every slot exactly `count`),
    or why no such assignment exists. No slots means no required composition.

    Bipartite matching by backtracking along augmenting paths over the slots' seats: a member
    takes a free seat it fits, or moves an earlier member to another seat that one fits.
    """
    if not slots:
        return [-1] * len(people)
    candidates = [[i for i, slot in enumerate(slots) if fits(person, slot, school_id)] for person in people]
    for person, fitting in zip(people, candidates):
        if not fitting:
            return CompositionFailure(f"member {person.id} fits no slot of the required composition "
                                      f"({'; '.join(describe(s) for s in slots)})")
    seats = [i for i, slot in enumerate(slots) for _ in range(slot.count)]
    holder: list[int | None] = [None] * len(seats)   # seat -> member index

    def seat_member(member: int, tried: set[int]) -> bool:
        for seat, slot_index in enumerate(seats):
            if slot_index not in candidates[member] or seat in tried:
                continue
            tried.add(seat)
            if holder[seat] is None or seat_member(holder[seat], tried):
                holder[seat] = member
                return True
        return False

    for member, person in enumerate(people):
        if not seat_member(member, set()):
            return CompositionFailure(f"member {person.id} fits no slot left over once the others are placed "
                                      f"({'; '.join(describe(s) for s in slots)})")
    for slot_index, slot in enumerate(slots):
        filled = sum(1 for seat, s in enumerate(seats) if s == slot_index and holder[seat] is not None)
        if filled < slot.count:
            return CompositionFailure(f"slot {describe(slot)} is unfilled: {slot.count - filled} more needed")
    assignment = [-1] * len(people)
    for seat, member in enumerate(holder):
        if member is not None:
            assignment[member] = seats[seat]
    return assignment
