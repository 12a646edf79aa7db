"""Scheduling's REST API end to end on the real stack: a monthly series across both daylight-saving
changes, exceptions, bad input with nothing written, attendance in bulk, hours and the printable
certificate, calendar feed URLs fetched without a bearer token, program milestones applied by
membership, reminders. Ids start with `sapi`."""

from __future__ import annotations

import datetime as dt
import urllib.parse
import zoneinfo

import pytest
import vobject

from tests.integration.http import request
from tests.integration.scheduling_world import TZ, SchedulingWorld, current_program_year

pytestmark = pytest.mark.integration

LA = zoneinfo.ZoneInfo(TZ)
SERIES = "sapi-monthly"


def second_tuesday(year: int, month: int) -> dt.date:
    first = dt.date(year, month, 1)
    return first + dt.timedelta(days=(1 - first.weekday()) % 7 + 7)


class RestWorld(SchedulingWorld):
    """Last program year's program (every session already happened) with a community: a facilitator
    and three members. REST calls go through `rest`."""

    def __init__(self, stack, prefix: str):
        super().__init__(stack, prefix)
        self.gateway = stack.gateway_url
        self.api = stack.gateway_url + "/api/v1"
        self.first_year = int(current_program_year()[:4]) - 1
        self.past_program = self.program("past", program_year=f"{self.first_year}-{(self.first_year + 1) % 100:02d}")
        self.fac = self.person("fac")
        self.members = self.people(3, "m")
        self.community = self.program_community("plc", self.past_program, members=self.members,
                                                facilitators=[self.fac])
        self.fac_token = self.facilitator_token(self.fac)

    def rest(self, method: str, path: str, token: str | None = None, body=None, headers=None):
        """`path` under /api/v1, or a Location header (/api/v1/...), or an absolute URL."""
        kwargs = {} if body is None else {"json_body": body}
        url = path if path.startswith("http") else (self.gateway if path.startswith("/api/") else self.api) + path
        return request(method, url, token=token, headers=headers, **kwargs)


@pytest.fixture(scope="module")
def world(stack):
    world = RestWorld(stack, "sapi")
    yield world
    world.close()


@pytest.fixture(scope="module")
def series(world):
    """A monthly series, 3:30-5:30 pm on the second Tuesday, September to June, made through REST."""
    first = second_tuesday(world.first_year, 9)
    start = dt.datetime(first.year, first.month, first.day, 15, 30, tzinfo=LA)
    reply = world.rest("POST", f"/communities/{world.community}/sessions", world.fac_token, {
        "id": SERIES, "session_type": "regular_convening", "title": "Monthly convening",
        "start_time": start.isoformat(), "end_time": (start + dt.timedelta(hours=2)).isoformat(),
        "recurrence": "FREQ=MONTHLY;BYDAY=2TU", "meeting_url": "https://meet.example.org/sapi"})
    assert reply.status == 201, reply.text
    return reply


def items(world, path: str, **query) -> list[dict]:
    """Every item of a list route (one page of up to 100), read by the facilitator."""
    reply = world.rest("GET", f"{path}?{urllib.parse.urlencode({'page_size': 100, **query})}", world.fac_token)
    assert reply.status == 200, reply.text
    return reply.json()["items"]


def test_a_series_is_created_with_a_location_and_shown_in_the_communitys_time(world, series):
    session = series.json()
    assert series.headers["location"].endswith(f"/api/v1/sessions/{SERIES}")
    assert world.rest("GET", series.headers["location"], world.fac_token).json()["id"] == SERIES
    assert (session["time_zone"], session["recurrence"], session["occurrence_count"]) == (
        TZ, "FREQ=MONTHLY;BYDAY=2TU", 10)
    assert session["local_start"].endswith("T15:30:00-07:00") and session["warnings"] == []
    occurrences = items(world, f"/sessions/{SERIES}/occurrences")
    # Every meeting at 3:30 pm in Los Angeles: -07:00 in daylight time, -08:00 in winter.
    by_month = {dt.datetime.fromisoformat(o["local_start"]).month: o for o in occurrences}
    assert sorted(by_month) == [1, 2, 3, 4, 5, 6, 9, 10, 11, 12]
    assert {o["local_start"][11:] for o in occurrences} == {"15:30:00-07:00", "15:30:00-08:00"}
    assert by_month[12]["local_start"].endswith("15:30:00-08:00") and by_month[12]["start_time"].endswith("23:30:00Z")
    assert by_month[4]["local_start"].endswith("15:30:00-07:00") and by_month[4]["start_time"].endswith("22:30:00Z")


def test_one_occurrence_moves_another_is_cancelled_and_restored_the_rest_stay(world, series):
    by_month = {dt.datetime.fromisoformat(o["local_start"]).month: o for o in
                items(world, f"/sessions/{SERIES}/occurrences")}
    october, november = by_month[10], by_month[11]
    new_start = dt.datetime.fromisoformat(october["local_start"]) + dt.timedelta(days=7)
    moved = world.rest("POST", f"/occurrences/{october['id']}/move", world.fac_token,
                       {"start_time": new_start.isoformat()})
    assert moved.status == 200, moved.text
    assert (moved.json()["id"], moved.json()["status"], moved.json()["original_start_time"]) == (
        october["id"], "moved", october["start_time"])
    cancelled = world.rest("POST", f"/occurrences/{november['id']}/cancel", world.fac_token, {"reason": "Holiday"})
    assert (cancelled.json()["status"], cancelled.json()["cancel_reason"]) == ("cancelled", "Holiday")
    listed = items(world, f"/communities/{world.community}/occurrences")
    assert november["id"] not in {o["id"] for o in listed} and len(listed) == 9
    assert len(items(world, f"/communities/{world.community}/occurrences", include_cancelled="true")) == 10
    restored = world.rest("POST", f"/occurrences/{november['id']}/restore", world.fac_token, {})
    assert (restored.status, restored.json()["status"], restored.json()["warnings"]) == (200, "scheduled", [])
    window = items(world, f"/communities/{world.community}/occurrences",
                         start=by_month[12]["start_time"], end=by_month[2]["start_time"])
    assert [dt.datetime.fromisoformat(o["local_start"]).month for o in window] == [12, 1]


@pytest.mark.parametrize("change, field, reason", [
    ({"end_time": "2020-01-01T00:00:00Z"}, "end_time", "END_BEFORE_START"),
    ({"recurrence": "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30"}, "recurrence", "RECURRENCE_NEVER_YIELDS"),
    ({"start_time": "2001-09-11T15:30:00-07:00", "end_time": "2001-09-11T17:30:00-07:00"}, "start_time",
     "SESSION_OUTSIDE_PROGRAM_YEAR"),
    ({"fields": {"colour": "blue"}}, "fields.colour", "UNDECLARED_FIELD"),
])
def test_bad_sessions_are_422_problems_naming_the_field_and_nothing_is_written(world, series, change, field, reason):
    first = second_tuesday(world.first_year, 10)
    body = {"session_type": "regular_convening", "start_time": f"{first.isoformat()}T18:00:00-07:00",
            "end_time": f"{first.isoformat()}T19:00:00-07:00", **change}
    before = items(world, f"/communities/{world.community}/sessions", include_cancelled="true")
    reply = world.rest("POST", f"/communities/{world.community}/sessions", world.fac_token, body)
    assert reply.status == 422, reply.text
    assert reply.media_type == "application/problem+json"
    problem = reply.json()
    assert problem["reason"] == reason and field in [error["field"] for error in problem["errors"]]
    assert items(world, f"/communities/{world.community}/sessions", include_cancelled="true") == before


def test_reading_sessions_needs_a_token_and_writing_them_a_facilitator(world, series):
    assert world.rest("GET", f"/communities/{world.community}/sessions").status == 401
    member = world.token_of(world.members[0])
    assert world.rest("GET", f"/sessions/{SERIES}", member).status == 200
    refused = world.rest("POST", f"/sessions/{SERIES}/cancel", member, {})
    assert (refused.status, refused.json()["reason"]) == (403, "OUT_OF_SCOPE")


def test_attendance_in_bulk_then_participation_hours_and_the_certificate(world, series):
    september = min(items(world, f"/sessions/{SERIES}/occurrences"), key=lambda o: o["start_time"])
    m0, m1, m2 = world.members
    outsider = world.person("outsider")
    refused = world.rest("PUT", f"/occurrences/{september['id']}/attendance", world.fac_token, {"entries": [
        {"person_id": m0, "status": "present"}, {"person_id": outsider, "status": "present"}]})
    assert (refused.status, refused.json()["reason"]) == (422, "NOT_A_MEMBER")
    assert [e["field"] for e in refused.json()["errors"]] == ["entries[1].person_id"]
    assert items(world, f"/occurrences/{september['id']}/attendance") == []

    recorded = world.rest("PUT", f"/occurrences/{september['id']}/attendance", world.fac_token, {"entries": [
        {"person_id": m0, "status": "present"}, {"person_id": m1, "status": "late", "attended_minutes": 90},
        {"person_id": m2, "status": "absent", "note": "sub coverage"}]})
    assert recorded.status == 200, recorded.text
    minutes = {r["person_id"]: (r["status"], r["attended_minutes"]) for r in recorded.json()["items"]}
    assert minutes == {m0: ("present", 120), m1: ("late", 90), m2: ("absent", 0)}
    assert len(items(world, f"/communities/{world.community}/attendance")) == 3

    participation = world.rest("GET", f"/communities/{world.community}/participation", world.fac_token).json()
    people = {p["person_id"]: p for p in participation["people"]}
    assert (people[m1]["attended"], people[m1]["late"], people[m1]["attended_minutes"]) == (1, 1, 90)
    assert people[m2]["absent"] == 1 and participation["total"]["person_id"] is None

    m1_token = world.token_of(m1)
    hours = world.rest("GET", f"/people/{m1}/programs/{world.past_program}/hours", m1_token).json()
    assert (hours["total_minutes"], hours["total_hours"], len(hours["lines"])) == (90, 1.5, 1)
    assert hours["lines"][0]["local_start"] == september["local_start"]
    page = world.rest("GET", f"/people/{m1}/programs/{world.past_program}/certificate", m1_token,
                      headers={"Accept": "text/html"})
    assert page.status == 200 and page.media_type == "text/html"
    day = dt.datetime.fromisoformat(september["local_start"])
    assert f"{day:%a}, September {day.day}, {day.year}" in page.text
    assert "3:30 PM–5:30 PM PDT" in page.text and "1.50 hours" in page.text and hours["person_name"] in page.text
    other = world.rest("GET", f"/people/{m1}/programs/{world.past_program}/hours", world.token_of(m0))
    assert other.status == 403


def test_a_feed_url_works_without_a_bearer_token_until_a_new_token_replaces_it(world, series):
    m0 = world.members[0]
    issued = world.rest("POST", f"/people/{m0}/calendar-token", world.token_of(m0), {})
    assert issued.status == 200, issued.text
    urls = issued.json()
    assert urls["person_feed_url"].startswith(world.api + f"/calendars/people/{m0}.ics?token=")
    feed = request("GET", urls["person_feed_url"], headers={"Accept": "text/calendar"})
    assert feed.status == 200 and feed.media_type == "text/calendar", feed.text
    assert "filename=" in feed.headers["content-disposition"]
    calendar = vobject.readOne(feed.text)
    assert {event.uid.value for event in calendar.vevent_list} and "BEGIN:VTIMEZONE" in feed.text
    assert any("FREQ=MONTHLY" in event.rrule.value for event in calendar.vevent_list if hasattr(event, "rrule"))
    community_url = urls["community_feed_url_template"].replace("{community_id}", world.community)
    assert request("GET", community_url).status == 200

    world.rest("POST", f"/people/{m0}/calendar-token", world.token_of(m0), {})
    stale = request("GET", urls["person_feed_url"])
    assert (stale.status, stale.json()["reason"]) == (401, "FEED_TOKEN_INVALID")


def test_milestones_date_the_programs_sign_up_window_in_membership(world):
    program = world.program("now")
    community = world.program_community("open", program, status="open")
    lead = world.admin
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    dates = {"signup_opens": now - dt.timedelta(days=2), "soft_deadline": now + dt.timedelta(days=5),
             "signup_closes": now + dt.timedelta(days=20)}
    created = {}
    for kind, moment in dates.items():
        reply = world.rest("POST", f"/programs/{program}/milestones", lead,
                           {"kind": kind, "time": moment.isoformat(), "time_zone": TZ})
        assert reply.status == 201, reply.text
        assert world.rest("GET", reply.headers["location"], lead).json()["kind"] == kind
        created[kind] = reply.json()
    assert created["signup_closes"]["linked"] and created["signup_closes"]["local_time"].startswith(
        dates["signup_closes"].astimezone(LA).strftime("%Y-%m-%dT%H:%M"))

    def window() -> dict:
        found = world.rest("GET", f"/communities/{community}").json()["signup_window"] or {}
        return {key: dt.datetime.fromisoformat(value) if value else None for key, value in found.items()}

    expected = {"opens_at": dates["signup_opens"], "soft_deadline": dates["soft_deadline"],
                "closes_at": dates["signup_closes"]}
    world.services.wait_for(lambda: window() == expected, what="the timeline's sign-up window in membership")

    later = dates["signup_closes"] + dt.timedelta(days=3)
    moved = world.rest("PATCH", f"/milestones/{created['signup_closes']['id']}", lead, {"time": later.isoformat()})
    assert moved.json()["timeline_revision"] > created["signup_closes"]["timeline_revision"]
    world.services.wait_for(lambda: window()["closes_at"] == later,
                            what="the moved sign-up close in membership")
    listed = world.rest("GET", f"/programs/{program}/milestones", lead).json()
    assert [m["kind"] for m in listed["items"]] == ["signup_opens", "soft_deadline", "signup_closes"]
    assert listed["timeline_revision"] == moved.json()["timeline_revision"]

    linked = world.rest("DELETE", f"/milestones/{created['signup_opens']['id']}", lead)
    assert (linked.status, linked.json()["reason"]) == (409, "MILESTONE_LINKED")
    bad_zone = world.rest("POST", f"/programs/{program}/milestones", lead,
                          {"kind": "kick_off", "time": later.isoformat(), "time_zone": "Mars/Olympus_Mons"})
    assert (bad_zone.status, bad_zone.json()["errors"][0]["field"]) == (422, "time_zone")
    custom = world.rest("POST", f"/programs/{program}/milestones", lead,
                        {"kind": "custom", "title": "Family math night", "time": later.isoformat()})
    assert world.rest("DELETE", f"/milestones/{custom.json()['id']}", lead).json() == {
        "id": custom.json()["id"], "deleted": True}
    member = world.token_of(world.members[0])
    assert world.rest("POST", f"/programs/{program}/milestones", member,
                      {"kind": "kick_off", "time": later.isoformat()}).status == 403


def test_reminders_run_for_platform_admins_only(world):
    ran = world.rest("POST", "/reminders/run", world.admin, {"now": "2001-01-01T00:00:00Z"})
    assert ran.status == 200 and ran.json() == {"emitted": 0}
    assert world.rest("POST", "/reminders/run", world.fac_token, {}).status == 403
