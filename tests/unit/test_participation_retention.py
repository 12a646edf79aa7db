"""The retention rule (still teaching at a school, as described after the next year began) and its
suppressed figures."""

from __future__ import annotations

import datetime as dt

from copnet.reflection.participation import retention
from copnet.reflection.participation.retention import (
    NOT_RETAINED,
    NOT_YET_KNOWN,
    RETAINED,
    Tally,
)

YEAR = "2025-26"
BEFORE_NEXT_YEAR = dt.datetime(2026, 6, 30, 23, 0, tzinfo=dt.UTC)
NEXT_YEAR = dt.datetime(2026, 8, 15, tzinfo=dt.UTC)


def test_a_teacher_described_after_the_next_year_began_is_retained_while_teaching_at_a_school():
    assert retention.outcome(YEAR, True, NEXT_YEAR) == RETAINED
    assert retention.outcome(YEAR, False, NEXT_YEAR) == NOT_RETAINED


def test_a_description_from_before_the_next_year_says_nothing_yet():
    assert retention.outcome(YEAR, True, BEFORE_NEXT_YEAR) == NOT_YET_KNOWN
    assert retention.outcome(YEAR, False, BEFORE_NEXT_YEAR) == NOT_YET_KNOWN
    assert retention.outcome(YEAR, True, None) == NOT_YET_KNOWN


def test_a_naive_instant_from_the_database_is_read_as_utc():
    assert retention.outcome(YEAR, True, dt.datetime(2026, 7, 1)) == RETAINED


def test_tallies_count_each_outcome():
    tally = Tally.of([RETAINED, RETAINED, NOT_RETAINED, NOT_YET_KNOWN])
    assert (tally.retained, tally.not_retained, tally.not_yet_known, tally.participants) == (2, 1, 1, 4)


def test_the_rate_is_retained_over_those_whose_outcome_is_known():
    shown = retention.figures("coe", "county_office", YEAR, Tally(40, 12, 0), {}, 11)
    assert (shown.participants, shown.retained, shown.not_retained) == (52, 40, 12)
    assert shown.rate.value == 76.9


def test_too_few_participants_withhold_everything():
    shown = retention.figures("plc", "community", YEAR, Tally(6, 2, 0), {}, 11)
    assert shown.withheld and shown.participants is None and shown.rate is None


def test_a_small_outcome_is_withheld_with_another_and_no_rate_is_shown():
    shown = retention.figures("coe", "county_office", YEAR, Tally(40, 4, 20), {}, 11)
    assert not shown.withheld and shown.participants == 64
    assert shown.not_retained is None  # 4 < 11
    # participants = retained + not retained + not yet known: one more outcome must go.
    assert shown.retained is None or shown.not_yet_known is None
    assert shown.rate is None
