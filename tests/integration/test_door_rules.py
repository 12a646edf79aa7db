"""The door rules through the real gateway: instants outside 1900-2200, recurrence rules whose
search would run for seconds, and control characters in names and titles are refused with 422 and
their reason, nothing is written, and the lists they would have broken still answer. Ids start
with `dr`."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest
from copnet.membership.v1 import membership_pb2

from tests.integration.http import request
from tests.integration.scheduling_world import SchedulingWorld

pytestmark = pytest.mark.integration

_PREFIXES = itertools.count(1)


class Door:
    def __init__(self, stack):
        self.stack = stack
        self.world = SchedulingWorld(stack, f"dr{next(_PREFIXES)}")
        self.program = self.world.program()
        self.facilitator = self.world.person("fac")
        self.community = self.world.program_community("plc", self.program, members=self.world.people(1, "m"),
                                                      facilitators=[self.facilitator])
        self.admin = self.world.admin

    def call(self, method: str, path: str, body=None, token: str | None = None):
        kwargs = {} if body is None else {"json_body": body}
        return request(method, f"{self.stack.gateway_url}/api/v1{path}", token=token or self.admin, **kwargs)

    def refused(self, method: str, path: str, body: dict, reason: str) -> dict:
        reply = self.call(method, path, body)
        assert reply.status == 422 and reply.media_type == "application/problem+json", (reply.status, reply.text)
        problem = reply.json()
        assert problem["reason"] == reason, problem
        return problem

    def session_body(self, start: str, **fields) -> dict:
        return {"session_type": "regular_convening", "start_time": start, **fields}

    def sessions(self) -> list:
        reply = self.call("GET", f"/communities/{self.community}/sessions?include_cancelled=true")
        assert reply.status == 200, reply.text
        return reply.json()["items"]

    def close(self):
        self.world.close()


@pytest.fixture
def door(stack):
    made = Door(stack)
    yield made
    made.close()


def a_start_in_the_program_year(door: Door) -> str:
    """The second Tuesday of October of the program's first year, 16:00 UTC."""
    program = door.world.membership(door.admin).GetProgram(membership_pb2.GetProgramRequest(id=door.program)).program
    year = int(program.program_year[:4])
    first = dt.date(year, 10, 1)
    day = 1 + (1 - first.weekday()) % 7 + 7
    return f"{year}-10-{day:02d}T16:00:00Z"


def test_a_milestone_at_the_year_1_is_refused_and_the_timeline_still_answers(door):
    door.refused("POST", f"/programs/{door.program}/milestones",
                 {"kind": "custom", "title": "Long ago", "time": "0001-01-01T00:00:00Z"}, "INSTANT_OUT_OF_RANGE")
    door.refused("POST", f"/programs/{door.program}/milestones",
                 {"kind": "custom", "title": "Far off", "time": "9999-12-31T23:59:59Z"}, "INSTANT_OUT_OF_RANGE")
    listed = door.call("GET", f"/programs/{door.program}/milestones")
    assert listed.status == 200, listed.text
    assert [m for m in listed.json()["items"] if m.get("title") in ("Long ago", "Far off")] == []


@pytest.mark.parametrize("start", ["0001-01-01T00:00:00Z", "9999-06-01T16:00:00Z"])
def test_a_session_at_the_year_1_or_9999_is_refused_and_nothing_is_saved(door, start):
    door.refused("POST", f"/communities/{door.community}/sessions", door.session_body(start), "INSTANT_OUT_OF_RANGE")
    assert door.sessions() == []


@pytest.mark.parametrize("rule, reason", [
    ("FREQ=DAILY;COUNT=400;BYYEARDAY=366;BYMONTH=2", "RECURRENCE_NEVER_YIELDS"),
    ("FREQ=DAILY;BYMONTH=1;BYYEARDAY=200", "RECURRENCE_NEVER_YIELDS"),
    ("FREQ=DAILY;BYWEEKNO=1;BYMONTH=7", "RECURRENCE_NEVER_YIELDS"),
    # In a program's community a series stays in the program's year: its second one, 7973 years on, is not.
    ("FREQ=YEARLY;INTERVAL=7973;COUNT=2", "SESSION_OUTSIDE_PROGRAM_YEAR"),
])
def test_recurrence_rules_that_would_search_for_seconds_are_refused(door, rule, reason):
    door.refused("POST", f"/communities/{door.community}/sessions",
                 door.session_body(a_start_in_the_program_year(door), recurrence=rule), reason)
    assert door.sessions() == []


def test_reminders_are_not_run_as_of_the_year_9999(door):
    door.refused("POST", "/reminders/run", {"now": "9999-12-31T23:59:59Z"}, "INSTANT_OUT_OF_RANGE")


def test_a_line_break_in_a_session_title_or_a_persons_name_is_refused(door):
    problem = door.refused("POST", f"/communities/{door.community}/sessions",
                           door.session_body(a_start_in_the_program_year(door), title="Convening\nBcc: all@x.example"),
                           "CONTROL_CHARACTER")
    assert [e["field"] for e in problem.get("errors", [])] == ["title"]
    assert door.sessions() == []
    person = f"{door.world.prefix}-newline"
    door.refused("POST", "/people", {"id": person, "name": "Ada\r\nLovelace", "email": f"{person}@example.org",
                                     "affiliations": [{"organization_id": door.world.school, "position": "teacher"}]},
                 "CONTROL_CHARACTER")
    assert door.call("GET", f"/people/{person}").status == 404
