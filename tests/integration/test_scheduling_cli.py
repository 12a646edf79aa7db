"""`copnet milestones|sessions|occurrences|attendance|hours|feeds` against the real gateway. Ids start
with `scli`."""

from __future__ import annotations

import datetime as dt

import pytest
from typer.testing import CliRunner

from copnet.cli.root import app
from tests.integration.http import request
from tests.integration.scheduling_world import SchedulingWorld, current_program_year

pytestmark = pytest.mark.integration


def second_tuesday(year: int, month: int) -> dt.date:
    first = dt.date(year, month, 1)
    return first + dt.timedelta(days=(1 - first.weekday()) % 7 + 7)


def occurrence_id(day: dt.date) -> str:
    """The series' occurrence on `day` (3:30 pm daylight time in Los Angeles is 22:30 UTC)."""
    return f"scli-monthly:{day:%Y%m%d}T223000Z"


@pytest.fixture(scope="module")
def world(stack):
    """Last program year's program with a community (facilitator, four members), and this year's."""
    world = SchedulingWorld(stack, "scli")
    world.first_year = int(current_program_year()[:4]) - 1
    world.past_program = world.program("past", program_year=f"{world.first_year}-{(world.first_year + 1) % 100:02d}")
    world.fac = world.person("fac")
    world.members = world.people(4, "m")
    world.community = world.program_community("plc", world.past_program, members=world.members,
                                              facilitators=[world.fac])
    yield world
    world.close()


def copnet(world, *args: str, token: str | None = None):
    # Wide enough that rich never wraps a cell, so each row is one line.
    return CliRunner().invoke(app, [*args, "--gateway", world.services.gateway_url, "--token",
                                    token or world.admin], env={"COLUMNS": "300"})


def rows(output: str, key: str) -> list[list[str]]:
    return [[cell.strip() for cell in line.strip(" │|").split("│")] for line in output.splitlines()
            if f" {key}" in line and "│" in line]


@pytest.fixture(scope="module")
def series(world) -> str:
    """A monthly series made with `copnet sessions create`, wall-clock times in the community's zone."""
    first = second_tuesday(world.first_year, 9)
    result = copnet(world, "sessions", "create", world.community, "--start", f"{first}T15:30",
                    "--end", f"{first}T17:30", "--tz", "America/Los_Angeles",
                    "--rrule", "FREQ=MONTHLY;BYDAY=2TU", "--title", "Monthly convening", "--id", "scli-monthly",
                    token=world.facilitator_token(world.fac))
    assert result.exit_code == 0, result.output
    return result.output.strip()


def test_sessions_create_list_and_occurrences(world, series):
    assert series == "scli-monthly"
    listed = copnet(world, "sessions", "list", world.community)
    assert listed.exit_code == 0, listed.output
    [row] = rows(listed.output, "scli-monthly")
    assert row[1:4] == ["Monthly convening", "regular_convening", f"{second_tuesday(world.first_year, 9)} 15:30 -07:00"]
    assert row[5:8] == ["FREQ=MONTHLY;BYDAY=2TU", "virtual", "10"]
    occurrences = copnet(world, "sessions", "occurrences", "scli-monthly")
    found = rows(occurrences.output, "scli-monthly:")
    assert len(found) == 10
    assert f"{second_tuesday(world.first_year, 12)} 15:30 -08:00" in [row[1] for row in found]


def test_one_occurrence_moved_cancelled_and_restored(world, series):
    october = second_tuesday(world.first_year, 10)
    occurrence, week_later = occurrence_id(october), october + dt.timedelta(days=7)
    moved = copnet(world, "occurrences", "move", occurrence, "--start", f"{week_later}T15:30-07:00")
    assert moved.exit_code == 0, moved.output
    assert f"{occurrence}: moved to {week_later} 15:30 -07:00" in moved.output
    cancelled = copnet(world, "occurrences", "cancel", occurrence, "--reason", "Conference")
    assert cancelled.output.strip() == f"{occurrence}: cancelled"
    restored = copnet(world, "occurrences", "restore", occurrence)
    assert f"{occurrence}: scheduled at {october} 15:30 -07:00" in restored.output


def test_a_time_without_an_offset_or_tz_is_a_usage_error(world):
    result = copnet(world, "sessions", "create", world.community, "--start", f"{world.first_year}-09-01T15:30")
    assert result.exit_code == 2 and "has no offset" in result.output


def test_a_refused_session_prints_the_problem_and_exits_1(world):
    result = copnet(world, "sessions", "create", world.community, "--start", "2001-09-11T15:30-07:00")
    assert result.exit_code == 1
    assert "422 SESSION_OUTSIDE_PROGRAM_YEAR" in result.output and "start_time" in result.output


def test_attendance_record_show_and_hours(world, series, tmp_path):
    occurrence = occurrence_id(second_tuesday(world.first_year, 9))
    m0, m1, m2, m3 = world.members
    recorded = copnet(world, "attendance", "record", occurrence, "--present", f"{m0},{m1}", "--late", f"{m2}=45",
                      "--absent", m3, "--note", f"{m3}=sick", token=world.facilitator_token(world.fac))
    assert recorded.exit_code == 0, recorded.output
    assert rows(recorded.output, m2)[0][:3] == [m2, "late", "45"]
    shown = copnet(world, "attendance", "show", occurrence)
    assert {row[0]: row[1:3] for row in rows(shown.output, "scli-m")} == {
        m0: ["present", "120"], m1: ["present", "120"], m2: ["late", "45"], m3: ["absent", "0"]}
    assert rows(shown.output, m3)[0][3] == "sick"

    certificate = tmp_path / "certificate.html"
    hours = copnet(world, "hours", m2, world.past_program, "--certificate", str(certificate))
    assert hours.exit_code == 0, hours.output
    assert "total: 0.75 hours (45 minutes)" in hours.output
    assert "Certificate of Professional Learning" in certificate.read_text(encoding="utf-8")


@pytest.mark.parametrize("args, message", [
    (("--late", "x"), "needs the minutes"),
    (("--present", "x", "--absent", "x"), "listed twice"),
    (("--absent", "x=5"), "only present and late take minutes"),
    ((), "nobody to record"),
])
def test_attendance_usage_errors_exit_2(world, args, message):
    result = copnet(world, "attendance", "record", "scli-monthly:x", *args)
    assert result.exit_code == 2 and message in result.output


def test_milestones_add_list_move_delete(world):
    program = world.program("now")
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    added = copnet(world, "milestones", "add", program, "--kind", "signup_opens", "--time", now.isoformat())
    assert added.exit_code == 0, added.output
    linked = added.output.strip()
    custom = copnet(world, "milestones", "add", program, "--kind", "custom", "--title", "Family math night",
                    "--time", (now + dt.timedelta(days=9)).isoformat()).output.strip()
    listed = copnet(world, "milestones", "list", program)
    assert [row[1] for row in rows(listed.output, linked) + rows(listed.output, custom)] == ["signup_opens", "custom"]
    assert rows(listed.output, linked)[0][5] == "yes"
    moved = copnet(world, "milestones", "move", custom, "--time", "2027-01-15T18:00", "--tz", "America/Los_Angeles")
    assert f"{custom}: 2027-01-15 18:00 -08:00" in moved.output
    assert copnet(world, "milestones", "delete", custom).output.strip() == f"deleted {custom}"
    refused = copnet(world, "milestones", "delete", linked)
    assert refused.exit_code == 1 and "409 MILESTONE_LINKED" in refused.output


def test_feeds_token_prints_urls_that_calendar_clients_can_fetch(world, series):
    m0 = world.members[0]
    result = copnet(world, "feeds", "token", "--community", world.community, token=world.token_of(m0))
    assert result.exit_code == 0, result.output
    lines = dict(line.split(":", 1) for line in result.output.splitlines())
    assert lines["person"].strip() == m0
    for key in ("person feed", "community feed"):
        feed = request("GET", lines[key].strip(), headers={"Accept": "text/calendar"})
        assert feed.status == 200 and "BEGIN:VCALENDAR" in feed.text, key
