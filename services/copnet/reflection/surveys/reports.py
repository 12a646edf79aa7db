"""Survey reports and pre/post comparisons from the maintained tallies (pure): every figure goes
through `disclosure.decide`, so nothing over fewer than `min_cell` respondents is shown, and no
figure ever belongs to one person."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import copnet.reflection.surveys.disclosure as disclosure
from copnet.reflection.surveys.disclosure import ALL, Decision, Place
from copnet.reflection.surveys.figures import Moments, Sums, hedges_g, item_moments, subscale_moments
from copnet.reflection.surveys.instruments import Instrument
from copnet.reflection.v1 import surveys_pb2

COMMUNITY, COUNTY, REGION = "community", "county", "region"


@dataclass(frozen=True)
class CommunityTally:
    place: Place
    sums: Sums


@dataclass(frozen=True)
class Reach:
    """What a county admin reads: the groups in these county offices, never the whole."""

    county_office_ids: frozenset[str]

    def covers(self, place: Place) -> bool:
        return place.county_office_id in self.county_office_ids


def group_key(place: Place, breakdown: str):
    """The group a community counts toward in `breakdown` (None: it is in no group of it)."""
    if breakdown == COMMUNITY:
        return disclosure.community(place.community_id)
    if breakdown == COUNTY:
        return disclosure.county(place.county_office_id) if place.county_office_id else None
    if breakdown == REGION:
        return disclosure.region(place.region_id) if place.region_id else None
    return None


@dataclass
class Decided:
    """One administration's sums, decided once."""

    instrument: Instrument
    tallies: Sequence[CommunityTally]
    decision: Decision
    total: Sums

    @classmethod
    def of(cls, instrument: Instrument, tallies: Sequence[CommunityTally], min_cell: int) -> Decided:
        total = Sums.total(tally.sums for tally in tallies)
        respondents = {tally.place: tally.sums.respondents for tally in tallies if tally.sums.respondents}
        answers = {item.id: dict(total.answers.get(item.id, {})) for item in instrument.items}
        return cls(instrument, tallies, disclosure.decide(respondents, answers, instrument.scale_points, min_cell),
                   total)

    def groups(self, breakdown: str, reach: Reach | None) -> dict[tuple[str, str], Sums]:
        found: dict[tuple[str, str], Sums] = {}
        for tally in self.tallies:
            key = group_key(tally.place, breakdown)
            if key is None or (reach is not None and not reach.covers(tally.place)):
                continue
            found.setdefault(key, Sums()).add(tally.sums)
        return dict(sorted(found.items()))


def _subscales(instrument: Instrument, sums: Sums, withheld: bool) -> list[surveys_pb2.SurveySubscaleResult]:
    if withheld:
        return [surveys_pb2.SurveySubscaleResult(subscale=s.code, withheld=True) for s in instrument.subscales]
    return [surveys_pb2.SurveySubscaleResult(subscale=code, mean=m.mean, standard_deviation=m.standard_deviation)
            for code, m in subscale_moments(instrument, sums).items()]


def _items(decided: Decided, sums: Sums, withheld: bool, *, distributions: bool) -> list[surveys_pb2.SurveyItemResult]:
    instrument = decided.instrument
    found = []
    means = item_moments(instrument, sums)
    for item in instrument.items:
        result = surveys_pb2.SurveyItemResult(item_id=item.id, subscale=item.subscale,
                                              reverse_scored=item.reverse_scored, withheld=withheld)
        if not withheld:
            result.mean, result.standard_deviation = means[item.id].mean, means[item.id].standard_deviation
        if distributions:
            for point in range(1, instrument.scale_points + 1):
                hidden = decided.decision.count_withheld(disclosure.answer(item.id, point))
                result.distribution.append(surveys_pb2.SurveyAnswerCount(
                    point=point, withheld=hidden,
                    respondents=0 if hidden else sums.answers.get(item.id, {}).get(point, 0)))
        found.append(result)
    return found


def report(instrument: Instrument, administration: surveys_pb2.SurveyAdministration,
           tallies: Sequence[CommunityTally], breakdown: str, min_cell: int,
           reach: Reach | None = None, *, collecting: bool = False) -> surveys_pb2.SurveyReport:
    """One administration's report; `breakdown` is "", community, county or region; a `reach`
    (a county admin's) shows only its groups and withholds the whole. While `collecting` (the
    survey takes answers), only counts are shown: means and answer counts read before and after
    one more response would give that response away."""
    decided = Decided.of(instrument, tallies, min_cell)
    if reach is not None and breakdown not in (COMMUNITY, COUNTY):
        breakdown = COUNTY
    out = surveys_pb2.SurveyReport(administration=administration, min_cell=min_cell,
                                   breakdown=breakdown_number(breakdown), restricted=reach is not None,
                                   collecting=collecting)
    whole_hidden = reach is not None or decided.decision.count_withheld(ALL)
    out.withheld = whole_hidden
    out.respondents = 0 if whole_hidden else decided.total.respondents
    means_hidden = collecting or reach is not None or decided.decision.mean_withheld(ALL)
    out.subscales.extend(_subscales(instrument, decided.total, means_hidden))
    out.items.extend(_items(decided, decided.total, means_hidden, distributions=reach is None and not collecting))
    for key, sums in decided.groups(breakdown, reach).items():
        count_hidden = decided.decision.count_withheld(key)
        mean_hidden = collecting or decided.decision.mean_withheld(key)
        out.groups.append(surveys_pb2.SurveyGroupResult(
            group_id=key[1], respondents=0 if count_hidden else sums.respondents, withheld=count_hidden,
            subscales=_subscales(instrument, sums, mean_hidden),
            items=_items(decided, sums, mean_hidden, distributions=False)))
    return out


def _change(key: str, pre: Moments | None, post: Moments | None) -> surveys_pb2.SurveyChange:
    """Pre to post; withheld unless both sides are shown (None: withheld)."""
    if pre is None or post is None:
        return surveys_pb2.SurveyChange(key=key, withheld=True)
    change = surveys_pb2.SurveyChange(key=key, pre_mean=pre.mean, post_mean=post.mean,
                                      difference=post.mean - pre.mean)
    effect = hedges_g(pre, post)
    if effect is not None:
        change.effect_size = effect
    return change


def _shown(moments: dict[str, Moments], hidden: bool) -> dict[str, Moments | None]:
    return {key: None if hidden else value for key, value in moments.items()}


def comparison(instrument: Instrument, pre: surveys_pb2.SurveyAdministration,
               post: surveys_pb2.SurveyAdministration, pre_tallies: Sequence[CommunityTally],
               post_tallies: Sequence[CommunityTally], breakdown: str, min_cell: int,
               reach: Reach | None = None, *, collecting: tuple[bool, bool] = (False, False)
               ) -> surveys_pb2.SurveyComparison:
    """Pre to post; `collecting` says which phases still take answers (their means are withheld)."""
    before, after = Decided.of(instrument, pre_tallies, min_cell), Decided.of(instrument, post_tallies, min_cell)
    if reach is not None and breakdown not in (COMMUNITY, COUNTY):
        breakdown = COUNTY
    out = surveys_pb2.SurveyComparison(
        program_id=pre.program_id, instrument_id=instrument.id, instrument_version=instrument.version,
        pre_administration_id=pre.id, post_administration_id=post.id, min_cell=min_cell,
        breakdown=breakdown_number(breakdown), restricted=reach is not None, pre_collecting=collecting[0],
        post_collecting=collecting[1])
    sides = []
    for side, open_now in zip((before, after), collecting, strict=True):
        hidden = reach is not None or side.decision.count_withheld(ALL)
        sides.append((hidden, 0 if hidden else side.total.respondents,
                      open_now or reach is not None or side.decision.mean_withheld(ALL)))
    (out.pre_withheld, out.pre_respondents, pre_means_hidden), (out.post_withheld, out.post_respondents,
                                                                post_means_hidden) = sides
    pre_subscales = _shown(subscale_moments(instrument, before.total), pre_means_hidden)
    post_subscales = _shown(subscale_moments(instrument, after.total), post_means_hidden)
    out.subscales.extend(_change(s.code, pre_subscales[s.code], post_subscales[s.code]) for s in instrument.subscales)
    pre_items = _shown(item_moments(instrument, before.total), pre_means_hidden)
    post_items = _shown(item_moments(instrument, after.total), post_means_hidden)
    out.items.extend(_change(i.id, pre_items[i.id], post_items[i.id]) for i in instrument.items)
    pre_groups, post_groups = before.groups(breakdown, reach), after.groups(breakdown, reach)
    for key in sorted(pre_groups.keys() | post_groups.keys()):
        group = surveys_pb2.SurveyGroupComparison(group_id=key[1])
        # A group without respondents in a phase shows 0 there (a zero says nothing about anyone).
        group.pre_withheld = key in pre_groups and before.decision.count_withheld(key)
        group.post_withheld = key in post_groups and after.decision.count_withheld(key)
        group.pre_respondents = 0 if group.pre_withheld else pre_groups.get(key, Sums()).respondents
        group.post_respondents = 0 if group.post_withheld else post_groups.get(key, Sums()).respondents
        pre_m = _shown(subscale_moments(instrument, pre_groups.get(key, Sums())),
                       collecting[0] or key not in pre_groups or before.decision.mean_withheld(key))
        post_m = _shown(subscale_moments(instrument, post_groups.get(key, Sums())),
                        collecting[1] or key not in post_groups or after.decision.mean_withheld(key))
        group.subscales.extend(_change(s.code, pre_m[s.code], post_m[s.code]) for s in instrument.subscales)
        out.groups.append(group)
    return out


BREAKDOWNS = {"": surveys_pb2.SURVEY_BREAKDOWN_UNSPECIFIED, COMMUNITY: surveys_pb2.SURVEY_BREAKDOWN_COMMUNITY,
              COUNTY: surveys_pb2.SURVEY_BREAKDOWN_COUNTY, REGION: surveys_pb2.SURVEY_BREAKDOWN_REGION}


def breakdown_number(label: str) -> int:
    return BREAKDOWNS[label]


def breakdown_label(number: int) -> str:
    return next((label for label, value in BREAKDOWNS.items() if value == number), "")
