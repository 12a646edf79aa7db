"""Which survey figures may be shown (pure), decided through the one suppression engine.

One table per administration holds every count a report of it can show: all respondents, each
region, county office and community (each level the sum of the one below: a community hosted
above county level counts directly toward its region, one above region level toward the whole),
and the whole's answers per item and point (each item's points sum to all respondents). The
engine decides it once, so a community view and a county view of the same administration never
withhold different cells that together give a withheld one away.

Means need one rule more than counts. Where a total's mean is shown and some of its parts' are
not, the withheld parts' combined sum is the total's sum less the shown parts': if they hold fewer
than `min_cell` respondents together, their mean is exposed. So means are withheld wherever
counts are, and then further (the smallest shown part of such a relation, or else its total)
until every relation's withheld parts hold no respondent or at least `min_cell`, and no relation
has exactly one mean withheld.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from copnet.reflection import suppression
from copnet.reflection.suppression import Constraint

ALL = ("all", "")
Key = tuple[str, str]


def community(community_id: str) -> Key:
    return ("community", community_id)


def county(county_office_id: str) -> Key:
    return ("county", county_office_id)


def region(region_id: str) -> Key:
    return ("region", region_id)


def answer(item_id: str, point: int) -> tuple[str, str]:
    return ("answer", f"{item_id} {point}")


@dataclass(frozen=True)
class Place:
    community_id: str
    county_office_id: str
    region_id: str


@dataclass(frozen=True)
class Decision:
    """What is withheld: counts (`counts`) and means (`means`, a superset of the groups' counts)."""

    counts: frozenset
    means: frozenset

    def count_withheld(self, key) -> bool:
        return key in self.counts

    def mean_withheld(self, key) -> bool:
        return key in self.means


def hierarchy(places: Iterable[Place]) -> list[Constraint]:
    """all = sum of regions (and what sits above them); region = sum of counties (and its
    communities above county level); county = sum of its communities."""
    parts: dict[Key, set[Key]] = {}
    for place in places:
        child = community(place.community_id)
        if place.county_office_id:
            parts.setdefault(county(place.county_office_id), set()).add(child)
            child = county(place.county_office_id)
        if place.region_id:
            parts.setdefault(region(place.region_id), set()).add(child)
            child = region(place.region_id)
        parts.setdefault(ALL, set()).add(child)
    return [Constraint(total, tuple(sorted(members))) for total, members in sorted(parts.items())]


def group_counts(places: Mapping[Place, int]) -> dict[Key, int]:
    counts: dict[Key, int] = {ALL: 0}
    for place, n in places.items():
        counts[ALL] += n
        for key in (community(place.community_id), county(place.county_office_id) if place.county_office_id else None,
                    region(place.region_id) if place.region_id else None):
            if key is not None:
                counts[key] = counts.get(key, 0) + n
    return counts


def decide(respondents: Mapping[Place, int], answers: Mapping[str, Mapping[int, int]], points: int,
           min_cell: int) -> Decision:
    """`respondents` per community (with its county office and region), the whole's `answers` per
    item and point, the scale's `points`: what is withheld."""
    counts: dict = group_counts(respondents)
    groups = hierarchy(respondents)
    constraints: list[Constraint] = list(groups)
    for item_id, given in sorted(answers.items()):
        keys = tuple(answer(item_id, point) for point in range(1, points + 1))
        for point, key in enumerate(keys, start=1):
            counts[key] = int(given.get(point, 0))
        constraints.append(Constraint(ALL, keys))
    withheld = suppression.suppress(counts, constraints, min_cell)
    if 0 < counts[ALL] < min_cell:  # nothing of a table under the threshold is shown, zeros included
        withheld = frozenset(counts)
    means = protect_means(counts, groups, withheld, min_cell)
    # No respondent yet: the count (0) says nothing about anyone, but there is no mean to show.
    return Decision(withheld, means | {ALL} if counts[ALL] == 0 else means)


def protect_means(counts: Mapping, constraints: Iterable[Constraint], withheld: frozenset, min_cell: int) -> frozenset:
    """The groups whose means are withheld (see the module's doc)."""
    relations = list(constraints)
    hidden = {key for relation in relations for key in (relation.total, *relation.parts) if key in withheld}
    changed = True
    while changed:
        changed = False
        for relation in relations:
            members = (relation.total, *relation.parts)
            hidden_members = [key for key in members if key in hidden]
            hidden_mass = sum(counts.get(part, 0) for part in relation.parts if part in hidden)
            exposed = len(hidden_members) == 1 or (relation.total not in hidden and 0 < hidden_mass < min_cell)
            if not exposed:
                continue
            shown = sorted((counts.get(part, 0), part) for part in relation.parts
                           if part not in hidden and counts.get(part, 0) > 0)
            chosen = shown[0][1] if shown else relation.total
            if chosen not in hidden:
                hidden.add(chosen)
                changed = True
    return frozenset(hidden)
