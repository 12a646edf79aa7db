"""Survey reports: every figure over fewer than min_cell respondents is withheld through the one
suppression engine (with complements), means of withheld groups cannot be worked out from the
whole's, a county admin sees only their county, and pre to post compares published sides only."""

from __future__ import annotations

import statistics

import pytest

from copnet.reflection import suppression
from copnet.reflection.surveys import disclosure, reports, responses
from copnet.reflection.surveys.disclosure import Place
from copnet.reflection.surveys.figures import Sums
from copnet.reflection.surveys.mtebi import MTEBI, MTOE, PMTE
from copnet.reflection.v1 import surveys_pb2

MIN_CELL = 11
ADMINISTRATION = surveys_pb2.SurveyAdministration(id="pre-1", program_id="program")
NORTH = Place("north-plc", "alameda-coe", "ca-bay-area")
SOUTH = Place("south-plc", "alameda-coe", "ca-bay-area")
VALLEY = Place("valley-plc", "santa-clara-coe", "ca-bay-area")


def answers_of(respondent: int, shift: int = 0) -> tuple[int, ...]:
    return tuple(1 + (respondent + item + shift) % 5 for item in range(len(MTEBI.items)))


def tallies(people: dict[Place, list[tuple[int, ...]]]) -> list[reports.CommunityTally]:
    found = []
    for place, given in people.items():
        sums = Sums()
        for answers in given:
            inc = responses.tally_increments(MTEBI, answers)
            sums.add(Sums.of_stored(1, {item.id: {str(answers[i]): 1} for i, item in enumerate(MTEBI.items)},
                                    {code: inc[f"subscale_sums.{code}"] for code in (PMTE, MTOE)},
                                    {code: inc[f"subscale_squares.{code}"] for code in (PMTE, MTOE)}))
        found.append(reports.CommunityTally(place, sums))
    return found


def test_a_report_under_the_threshold_withholds_everything():
    report = reports.report(MTEBI, ADMINISTRATION, tallies({NORTH: [answers_of(i) for i in range(10)]}), "",
                            MIN_CELL)
    assert report.withheld and report.respondents == 0
    assert all(s.withheld and s.mean == 0 for s in report.subscales)
    assert all(i.withheld and i.mean == 0 for i in report.items)
    assert all(c.withheld and c.respondents == 0 for i in report.items for c in i.distribution)


def test_a_report_over_the_threshold_shows_means_and_withholds_small_answer_counts():
    given = [answers_of(i) for i in range(30)] + [(5,) * 21] * 4
    report = reports.report(MTEBI, ADMINISTRATION, tallies({NORTH: given}), "", MIN_CELL)
    assert not report.withheld and report.respondents == 34
    pmte = next(s for s in report.subscales if s.subscale == PMTE)
    expected = [MTEBI.subscale_scores(a)[PMTE] for a in given]
    assert pmte.mean == pytest.approx(statistics.mean(expected))
    assert pmte.standard_deviation == pytest.approx(statistics.stdev(expected))
    first = report.items[0]
    # q1: the answer counts per point; every one under 11 is withheld, and enough others with it
    # that none can be worked out from the 34.
    counts = {point: sum(1 for a in given if a[0] == point) for point in range(1, 6)}
    shown = {c.point: c.respondents for c in first.distribution if not c.withheld}
    hidden = [c.point for c in first.distribution if c.withheld]
    assert all(counts[p] >= MIN_CELL or counts[p] == 0 for p in shown)
    assert {p for p, n in counts.items() if 0 < n < MIN_CELL} <= set(hidden)
    assert len(hidden) != 1
    assert all(shown[p] == counts[p] for p in shown)
    assert first.mean == pytest.approx(statistics.mean(a[0] for a in given))


def test_a_breakdown_withholds_small_groups_with_a_complement_and_their_means():
    people = {NORTH: [answers_of(i) for i in range(12)], SOUTH: [answers_of(i, 1) for i in range(3)],
              VALLEY: [answers_of(i, 2) for i in range(14)]}
    report = reports.report(MTEBI, ADMINISTRATION, tallies(people), "community", MIN_CELL)
    groups = {g.group_id: g for g in report.groups}
    assert report.respondents == 29 and not report.withheld
    assert groups["south-plc"].withheld and groups["south-plc"].respondents == 0
    # The county's total would give south away from north's: north (the smallest) goes with it.
    assert groups["north-plc"].withheld
    assert all(s.withheld for g in ("north-plc", "south-plc") for s in groups[g].subscales)
    assert not groups["valley-plc"].withheld and groups["valley-plc"].respondents == 14
    by_county = {g.group_id: g for g in reports.report(MTEBI, ADMINISTRATION, tallies(people), "county",
                                                      MIN_CELL).groups}
    assert by_county["alameda-coe"].respondents == 15 and by_county["santa-clara-coe"].respondents == 14


def test_means_are_withheld_where_the_withheld_groups_hold_fewer_than_min_cell_together():
    # Counts: the engine withholds the two small communities (11 + 5 of 30 is fine for counts once
    # both are withheld), but the whole's mean less the shown ones' would be the two together:
    # 5 + 5 respondents. Their means stay withheld and one more group's mean goes with them.
    places = {Place(f"c{i}", f"k{i}", "r"): n for i, n in enumerate((5, 5, 20, 30))}
    decision = disclosure.decide(places, {}, 5, MIN_CELL)
    hidden_means = {key for key in decision.means if key[0] == "county"}
    withheld_mass = sum(n for i, n in enumerate((5, 5, 20, 30)) if ("county", f"k{i}") in hidden_means)
    assert withheld_mass == 0 or withheld_mass >= MIN_CELL
    assert decision.counts <= decision.means


def test_the_table_is_decided_by_the_one_suppression_engine(monkeypatch):
    asked = []
    real = suppression.suppress

    def spy(counts, constraints, min_cell):
        asked.append((dict(counts), list(constraints), min_cell))
        return real(counts, constraints, min_cell)

    monkeypatch.setattr(suppression, "suppress", spy)
    reports.report(MTEBI, ADMINISTRATION, tallies({NORTH: [answers_of(i) for i in range(12)]}), "", MIN_CELL)
    (counts, constraints, min_cell), = asked
    assert min_cell == MIN_CELL and counts[disclosure.ALL] == 12
    assert any(c.total == disclosure.ALL and c.parts[0] == disclosure.answer("q1", 1) for c in constraints)


def test_a_county_admin_sees_only_their_county_and_never_the_whole():
    people = {NORTH: [answers_of(i) for i in range(12)], VALLEY: [answers_of(i) for i in range(14)]}
    report = reports.report(MTEBI, ADMINISTRATION, tallies(people), "", MIN_CELL,
                            reports.Reach(frozenset({"alameda-coe"})))
    assert report.restricted and report.withheld and report.respondents == 0
    assert all(s.withheld for s in report.subscales) and all(not i.distribution for i in report.items)
    assert [g.group_id for g in report.groups] == ["alameda-coe"] and report.groups[0].respondents == 12


def test_the_comparison_shows_change_only_where_both_phases_are_shown():
    pre = tallies({NORTH: [answers_of(i) for i in range(15)], VALLEY: [answers_of(i) for i in range(4)]})
    post = tallies({NORTH: [tuple(min(5, a + 1) for a in answers_of(i)) for i in range(13)],
                    VALLEY: [answers_of(i) for i in range(12)]})
    post_administration = surveys_pb2.SurveyAdministration(id="post-1", program_id="program")
    comparison = reports.comparison(MTEBI, ADMINISTRATION, post_administration, pre, post, "community", MIN_CELL)
    assert (comparison.pre_respondents, comparison.post_respondents) == (19, 25)
    mtoe = next(c for c in comparison.subscales if c.key == MTOE)
    pre_scores = [MTEBI.subscale_scores(answers_of(i))[MTOE] for i in range(15)] + \
        [MTEBI.subscale_scores(answers_of(i))[MTOE] for i in range(4)]
    assert mtoe.pre_mean == pytest.approx(statistics.mean(pre_scores))
    assert mtoe.difference == pytest.approx(mtoe.post_mean - mtoe.pre_mean)
    assert mtoe.HasField("effect_size")
    groups = {g.group_id: g for g in comparison.groups}
    # The valley's pre side (4) is withheld, and north's with it (the whole would give it away).
    assert groups["valley-plc"].pre_withheld and all(c.withheld for c in groups["valley-plc"].subscales)
    small = reports.comparison(MTEBI, ADMINISTRATION, post_administration,
                               tallies({NORTH: [answers_of(i) for i in range(5)]}), post, "", MIN_CELL)
    assert small.pre_withheld and all(c.withheld for c in (*small.subscales, *small.items))


def test_no_report_message_has_a_place_for_a_person():
    def fields(descriptor, seen=()):
        for field in descriptor.fields:
            yield field.name
            if field.message_type is not None and field.message_type not in seen:
                yield from fields(field.message_type, (*seen, descriptor))

    for message in (surveys_pb2.SurveyReport, surveys_pb2.SurveyComparison, surveys_pb2.SurveyResponseCounted,
                    surveys_pb2.SubmitSurveyResponseResponse, surveys_pb2.GetMySurveyStatusResponse):
        names = set(fields(message.DESCRIPTOR))
        assert not {name for name in names if "person" in name or "respondent_id" in name}, message.DESCRIPTOR.name


def test_an_administration_without_respondents_shows_zero_and_no_mean():
    report = reports.report(MTEBI, ADMINISTRATION, [], "community", MIN_CELL)
    assert not report.withheld and report.respondents == 0 and not report.groups
    assert all(s.withheld for s in report.subscales) and all(i.withheld for i in report.items)
    assert all(not c.withheld and c.respondents == 0 for i in report.items for c in i.distribution)


def test_while_a_survey_takes_answers_only_counts_are_shown():
    people = {NORTH: [answers_of(i) for i in range(12)], VALLEY: [answers_of(i) for i in range(14)]}
    report = reports.report(MTEBI, ADMINISTRATION, tallies(people), "community", MIN_CELL, collecting=True)
    assert report.collecting and report.respondents == 26
    assert all(s.withheld for s in report.subscales) and all(i.withheld and not i.distribution for i in report.items)
    assert [(g.group_id, g.respondents) for g in report.groups] == [("north-plc", 12), ("valley-plc", 14)]
    assert all(s.withheld for g in report.groups for s in g.subscales)
    closed = reports.report(MTEBI, ADMINISTRATION, tallies(people), "community", MIN_CELL)
    assert not closed.collecting and not any(s.withheld for s in closed.subscales)
    post = surveys_pb2.SurveyAdministration(id="post-1", program_id="program")
    comparison = reports.comparison(MTEBI, ADMINISTRATION, post, tallies(people), tallies(people), "", MIN_CELL,
                                    collecting=(False, True))
    assert comparison.post_collecting and comparison.post_respondents == 26
    assert all(c.withheld for c in (*comparison.subscales, *comparison.items))
