"""Participation and hours arithmetic on a real-looking year: a community meeting on the second
Tuesday of each month, 4-7 pm Pacific, September to May (9 convenings of 180 minutes), plus one
team-only work session."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest
from copnet.scheduling.participation import (
    HeldOccurrence,
    Mark,
    Tally,
    community_participation,
    hours,
    is_held,
    occurrence_minutes,
    summed,
    tally,
)

PACIFIC = zoneinfo.ZoneInfo("America/Los_Angeles")
SECOND_TUESDAYS = [dt.date(2026, 9, 8), dt.date(2026, 10, 13), dt.date(2026, 11, 10), dt.date(2026, 12, 8),
                   dt.date(2027, 1, 12), dt.date(2027, 2, 9), dt.date(2027, 3, 9), dt.date(2027, 4, 13),
                   dt.date(2027, 5, 11)]
MEMBERS = ["alice", "ben", "carla"]
FACILITATOR = "dana"
ALL_MEMBERS = set(MEMBERS) | {FACILITATOR}


def at(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, hour, minute, tzinfo=PACIFIC).astimezone(dt.UTC)


def convening(day: dt.date) -> HeldOccurrence:
    return HeldOccurrence(id=f"s1:{at(day, 16):%Y%m%dT%H%M%SZ}", start_at=at(day, 16), end_at=at(day, 19),
                          audience="all_members", team_id="", facilitator_ids=(FACILITATOR,))


SERIES = [convening(day) for day in SECOND_TUESDAYS]
TEAM_SESSION = HeldOccurrence(id="s2:20261020T000000Z", start_at=at(dt.date(2026, 10, 19), 17),
                              end_at=at(dt.date(2026, 10, 19), 18), audience="team", team_id="t1",
                              facilitator_ids=(FACILITATOR,))
AUDIENCE = {**{o.id: ALL_MEMBERS for o in SERIES}, TEAM_SESSION.id: {"carla", FACILITATOR}}


def marks_for(person: str, statuses: list[str], late_minutes: int = 90) -> list[Mark]:
    """One mark per convening of the series, in order ("" for none recorded)."""
    minutes = {"present": 180, "late": late_minutes, "absent": 0, "excused": 0}
    return [Mark(o.id, person, status, minutes[status]) for o, status in zip(SERIES, statuses, strict=True) if status]


ALICE = marks_for("alice", ["present", "present", "late", "present", "excused", "present", "present", "present",
                            "present"])
BEN = marks_for("ben", ["present", "absent", "present", "", "present", "absent", "present", "", "present"])
CARLA = marks_for("carla", ["absent", "absent", "excused", "present", "present", "late", "late", "present", "present"],
                  late_minutes=150)
DANA = marks_for(FACILITATOR, ["present"] * 9)
TEAM_MARKS = [Mark(TEAM_SESSION.id, "carla", "present", 60), Mark(TEAM_SESSION.id, FACILITATOR, "present", 60),
              # Ben is not on the team but came: it counts for him, and never against him.
              Mark(TEAM_SESSION.id, "ben", "late", 30)]
EVERY_MARK = ALICE + BEN + CARLA + DANA + TEAM_MARKS
YEAR = [*SERIES[:1], TEAM_SESSION, *SERIES[1:]]


def by_key(marks):
    return {(m.occurrence_id, m.person_id): m for m in marks}


def test_a_three_hour_convening_is_180_minutes_and_the_night_the_clocks_go_back_lasts_an_hour_longer():
    assert {occurrence_minutes(o.start_at, o.end_at) for o in SERIES} == {180}
    night = dt.date(2026, 11, 1)   # 2 am PDT becomes 1 am PST
    assert occurrence_minutes(at(night, 0), at(night, 3)) == 240


def test_seven_present_one_late_and_one_excused_is_every_expected_convening_and_22_5_hours():
    alice = tally("alice", "c", SERIES, AUDIENCE, by_key(ALICE))
    assert alice == Tally(person_id="alice", community_id="c", expected=8, attended=8, late=1, absent=0, excused=1,
                          unrecorded=0, attended_minutes=7 * 180 + 90)
    assert alice.attended_minutes == 1350 and hours(alice.attended_minutes) == 22.5
    assert alice.rate == 1.0


def test_absences_and_unrecorded_convenings_count_as_expected_but_not_attended():
    ben = tally("ben", "c", SERIES, AUDIENCE, by_key(BEN))
    assert ben == Tally(person_id="ben", community_id="c", expected=9, attended=5, late=0, absent=2, excused=0,
                        unrecorded=2, attended_minutes=5 * 180)
    assert ben.rate == pytest.approx(5 / 9)
    assert hours(ben.attended_minutes) == 15.0


def test_a_team_session_is_expected_of_the_team_and_counts_for_whoever_else_came():
    marks = by_key(EVERY_MARK)
    carla = tally("carla", "c", YEAR, AUDIENCE, marks)
    # 9 convenings + the team session = 10 expected, one excused: 9; 2 absent; 4 present + 2 late + team.
    assert carla == Tally(person_id="carla", community_id="c", expected=9, attended=7, late=2, absent=2, excused=1,
                          unrecorded=0, attended_minutes=4 * 180 + 2 * 150 + 60)
    assert hours(carla.attended_minutes) == 18.0
    ben = tally("ben", "c", YEAR, AUDIENCE, marks)
    assert (ben.expected, ben.attended, ben.late, ben.attended_minutes) == (10, 6, 1, 5 * 180 + 30)
    alice = tally("alice", "c", YEAR, AUDIENCE, marks)
    assert (alice.expected, alice.unrecorded) == (8, 0), "the team session was not for Alice"


def test_an_absence_at_a_session_outside_ones_audience_is_not_held_against_anyone():
    marks = by_key([Mark(TEAM_SESSION.id, "alice", "absent", 0), Mark(TEAM_SESSION.id, "ben", "excused", 0)])
    assert tally("alice", "c", [TEAM_SESSION], AUDIENCE, marks) == Tally(person_id="alice", community_id="c")
    assert tally("ben", "c", [TEAM_SESSION], AUDIENCE, marks) == Tally(person_id="ben", community_id="c")


def test_community_totals_are_sums_and_the_rate_is_total_attended_over_total_expected():
    people, total = community_participation("c", [*MEMBERS, FACILITATOR, "alice"], YEAR, AUDIENCE, EVERY_MARK)
    assert [p.person_id for p in people] == ["alice", "ben", "carla", "dana"]
    dana = people[3]
    assert (dana.expected, dana.attended, dana.attended_minutes) == (10, 10, 9 * 180 + 60)
    assert total == Tally(person_id="", community_id="c", expected=8 + 10 + 9 + 10, attended=8 + 6 + 7 + 10,
                          late=1 + 1 + 2, absent=0 + 2 + 2, excused=1 + 0 + 1, unrecorded=2,
                          attended_minutes=1350 + 930 + 1080 + 1680)
    assert total.rate == pytest.approx(31 / 37)
    assert hours(total.attended_minutes) == 84.0


def test_only_held_convenings_count_midway_through_the_year():
    now = at(dt.date(2026, 12, 20), 12)
    cancelled = {SERIES[2].id}   # November's convening was cancelled
    statuses = {o.id: "cancelled" if o.id in cancelled else "scheduled" for o in SERIES}
    held = [o for o in SERIES if is_held(statuses[o.id], o.start_at, now)]
    assert [o.start_at.astimezone(PACIFIC).date() for o in held] == [dt.date(2026, 9, 8), dt.date(2026, 10, 13),
                                                                    dt.date(2026, 12, 8)]
    ben = tally("ben", "c", held, AUDIENCE, by_key(BEN))
    # September present, October absent, December never recorded (November's record would not count).
    assert (ben.expected, ben.attended, ben.absent, ben.unrecorded, ben.attended_minutes) == (3, 1, 1, 1, 180)
    assert ben.rate == pytest.approx(1 / 3)


def test_a_convening_starting_right_now_is_held_and_one_a_minute_away_is_not():
    start = SERIES[0].start_at
    assert is_held("scheduled", start, start)
    assert is_held("moved", start, start)
    assert not is_held("scheduled", start, start - dt.timedelta(minutes=1))
    assert not is_held("cancelled", start, start + dt.timedelta(days=1))


def test_nothing_expected_is_a_rate_of_zero_and_a_person_total_sums_their_communities():
    assert Tally(person_id="p").rate == 0.0
    first = tally("ben", "c", SERIES, AUDIENCE, by_key(BEN))
    second = Tally(person_id="ben", community_id="d", expected=3, attended=3, late=1, attended_minutes=450)
    total = summed([first, second], person_id="ben")
    assert total == Tally(person_id="ben", community_id="", expected=12, attended=8, late=1, absent=2, unrecorded=2,
                          attended_minutes=900 + 450)
    assert total.rate == pytest.approx(8 / 12)
    assert hours(total.attended_minutes) == 22.5


def test_hours_are_rounded_to_two_decimals():
    assert hours(0) == 0.0
    assert hours(1350) == 22.5
    assert hours(100) == 1.67
    assert hours(95) == 1.58
