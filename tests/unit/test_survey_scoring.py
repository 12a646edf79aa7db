"""Survey scoring: reverse-scored items, subscale scores, the figures kept from tallies, and the
bounds of a region's own instrument."""

from __future__ import annotations

import math
import statistics

import pytest

from copnet.kernel.errors import InvalidArgument
from copnet.reflection.surveys import instruments, responses
from copnet.reflection.surveys.figures import Sums, hedges_g, item_moments, moments, subscale_moments
from copnet.reflection.surveys.instruments import Item, Subscale
from copnet.reflection.surveys.mtebi import MTEBI, MTOE, PMTE

SMALL = instruments.defined("small", 1, "ca-bay-area", name="Small", description="", source="", scale_points=5,
                            scale_labels=[], subscales=[Subscale("a", "A"), Subscale("b", "B")],
                            items=[Item("", "one", "a"), Item("", "two", "a", reverse_scored=True),
                                   Item("", "three", "b"), Item("", "four")])


def test_the_builtin_scale_has_the_mtebi_structure():
    assert len(MTEBI.items) == 21 and MTEBI.scale_points == 5
    by_subscale = {code: [int(item.id[1:]) for item in MTEBI.items if item.subscale == code] for code in (PMTE, MTOE)}
    assert by_subscale[PMTE] == [2, 3, 5, 6, 8, 11, 15, 16, 17, 18, 19, 20, 21]
    assert by_subscale[MTOE] == [1, 4, 7, 9, 10, 12, 13, 14]
    assert [int(item.id[1:]) for item in MTEBI.items if item.reverse_scored] == [3, 6, 8, 15, 17, 18, 19, 21]


def test_a_reverse_scored_item_is_turned_around():
    reverse, plain = MTEBI.items[2], MTEBI.items[1]
    assert [MTEBI.score(reverse, answer) for answer in range(1, 6)] == [5, 4, 3, 2, 1]
    assert [MTEBI.score(plain, answer) for answer in range(1, 6)] == [1, 2, 3, 4, 5]


def test_a_subscale_score_is_the_mean_of_its_scored_items():
    # Agreeing with everything: every positive item scores 5, every reverse-scored one 1.
    scores = MTEBI.subscale_scores([5] * 21)
    assert scores[MTOE] == 5.0
    assert scores[PMTE] == pytest.approx((5 * 5 + 8 * 1) / 13)
    # Items default to q1..qn; an item outside every subscale counts toward none.
    assert [item.id for item in SMALL.items] == ["q1", "q2", "q3", "q4"]
    assert SMALL.subscale_scores([4, 4, 2, 5]) == {"a": 3.0, "b": 2.0}


def test_answers_are_one_point_of_the_scale_per_item():
    with pytest.raises(InvalidArgument) as short:
        SMALL.check_answers([1, 2, 3])
    assert short.value.reason == "ANSWER_COUNT"
    with pytest.raises(InvalidArgument) as outside:
        SMALL.check_answers([1, 2, 6, 1])
    assert outside.value.fields[0].field == "answers[2]" and outside.value.reason == "ANSWER_OUT_OF_SCALE"


def test_the_tally_of_answers_gives_the_means_and_deviations_of_the_answers_themselves():
    given = [[5, 1, 4, 2], [4, 2, 4, 3], [3, 3, 2, 3], [5, 5, 1, 1]]
    sums = Sums()
    for answers in given:
        one = responses.tally_increments(SMALL, tuple(answers))
        sums.add(Sums.of_stored(1, {item.id: {str(answers[i]): 1} for i, item in enumerate(SMALL.items)},
                                {code: one[f"subscale_sums.{code}"] for code in "ab"},
                                {code: one[f"subscale_squares.{code}"] for code in "ab"}))
    a_scores = [(answers[0] + 6 - answers[1]) / 2 for answers in given]
    assert subscale_moments(SMALL, sums)["a"].mean == pytest.approx(statistics.mean(a_scores))
    assert subscale_moments(SMALL, sums)["a"].standard_deviation == pytest.approx(statistics.stdev(a_scores))
    reversed_item = [6 - answers[1] for answers in given]
    assert item_moments(SMALL, sums)["q2"].mean == pytest.approx(statistics.mean(reversed_item))
    assert item_moments(SMALL, sums)["q2"].standard_deviation == pytest.approx(statistics.stdev(reversed_item))


def test_hedges_g_pools_the_two_phases_and_corrects_for_small_samples():
    pre, post = moments(20, 20 * 3.0, 20 * 9.0 + 19 * 0.25), moments(30, 30 * 3.5, 30 * 12.25 + 29 * 0.25)
    assert pre.standard_deviation == pytest.approx(0.5) and post.standard_deviation == pytest.approx(0.5)
    assert hedges_g(pre, post) == pytest.approx((1 - 3 / (4 * 50 - 9)) * 1.0)
    assert hedges_g(moments(5, 15, 45), moments(5, 20, 80)) is None  # no spread at all
    assert math.isclose(hedges_g(post, pre), -hedges_g(pre, post))


@pytest.mark.parametrize(("change", "field", "reason"), [
    ({"scale_points": 8}, "scale_points", "SCALE_POINTS_OUT_OF_RANGE"),
    ({"scale_points": 1}, "scale_points", "SCALE_POINTS_OUT_OF_RANGE"),
    ({"scale_labels": ["a", "b"]}, "scale_labels", "INVALID_FIELD"),
    ({"items": []}, "items", "INVALID_FIELD"),
    ({"items": [Item("", "x")] * 61}, "items", "TOO_MANY"),
    ({"items": [Item("", "x" * 501)]}, "items[0].text", "TOO_LONG"),
    ({"items": [Item("q1", "x"), Item("q1", "y")]}, "items[1].id", "INVALID_FIELD"),
    ({"items": [Item("a.b", "x")]}, "items[0].id", "INVALID_FIELD"),
    ({"items": [Item("", "x", "nope")]}, "items[0].subscale", "INVALID_FIELD"),
    ({"name": ""}, "name", "INVALID_FIELD"),
])
def test_a_regions_instrument_is_bounded(change, field, reason):
    asked = dict(name="Mine", description="", source="", scale_points=4, scale_labels=[], subscales=[],
                 items=[Item("", "An item")])
    asked.update(change)
    with pytest.raises(InvalidArgument) as refused:
        instruments.defined("mine", 1, "ca-bay-area", **asked)
    assert (refused.value.fields[0].field, refused.value.reason) == (field, reason)
