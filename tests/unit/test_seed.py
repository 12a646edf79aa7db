"""The demo data set: ids, the tree, people, communities, the program's timeline and sessions in
its year (the loader, which talks HTTP, is tested in tests/integration/test_seed_loader.py)."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from copnet import seed
from copnet.gateway.schemas import CommunityKind, OrganizationKind

ID = re.compile(r"^[a-z0-9][a-z0-9-]{1,62}$")
# The REST contract's allowed parents for the kinds the demo uses.
PARENT_KIND = {"state": None, "region": "state", "county_office": "region", "district": "county_office",
               "school": "district"}
NOW = dt.datetime(2026, 11, 23, 17, 30, tzinfo=dt.UTC)
ORGS = {org.id: org for org in seed.DEMO_ORGANIZATIONS}
PEOPLE = {person.id: person for person in seed.DEMO_PEOPLE}


def ancestry(org_id: str) -> list[str]:
    """The organization and everything above it."""
    chain = []
    while org_id:
        chain.append(org_id)
        org_id = ORGS[org_id].parent_id or ""
    return chain


def parse(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text)


def test_demo_ids_are_valid_and_unique():
    entities = [*seed.DEMO_ORGANIZATIONS, *seed.DEMO_PEOPLE, seed.DEMO_PROGRAM, *seed.DEMO_COMMUNITIES]
    ids = [item.id for item in entities]
    assert all(ID.match(i) for i in ids), ids
    assert len(set(ids)) == len(ids)
    steps = [item.id for item in seed.demo_items()]
    assert len(set(steps)) == len(steps)


def test_demo_organizations_come_after_their_parents_and_sit_under_the_right_kind():
    kinds: dict[str, str] = {}
    for org in seed.DEMO_ORGANIZATIONS:
        assert org.kind in {k.value for k in OrganizationKind}
        if org.parent_id is None:
            assert PARENT_KIND[org.kind] is None and org.time_zone == "America/Los_Angeles"
        else:
            assert kinds.get(org.parent_id) == PARENT_KIND[org.kind], org
        kinds[org.id] = org.kind
    assert {"state", "region", "county_office", "district", "school"} <= set(kinds.values())
    assert list(kinds.values()).count("county_office") == 3
    assert list(kinds.values()).count("region") == 2


def test_demo_people_hold_the_positions_the_demo_is_about():
    positions = {(org, position) for person in seed.DEMO_PEOPLE for org, position in person.affiliations}
    assert {("bayside-es", "specialist"), ("bayside-es", "site_admin"), ("bayside-es", "teacher")} <= positions
    assert "coach" in {position for _, position in positions}
    assert all(org in ORGS for org, _ in positions)
    assert len({person.email.lower() for person in seed.DEMO_PEOPLE}) == len(seed.DEMO_PEOPLE)
    grants = {(g.person_id, g.role, g.organization_id) for g in seed.DEMO_GRANTS}
    assert ("elena-torres", "regional_lead", "ca-bay-area") in grants
    assert all(person in PEOPLE and org in ORGS for person, _, org in grants)


def test_demo_communities_are_hosted_by_demo_organizations():
    for community in seed.DEMO_COMMUNITIES:
        assert community.host_organization_id in ORGS
        assert community.kind in {k.value for k in CommunityKind}
        assert all(person in PEOPLE for person in community.facilitator_ids)
    assert {"plc", "math_team", "equity_cohort"} <= {c.kind for c in seed.DEMO_COMMUNITIES}


def test_the_program_belongs_to_the_bay_area_and_its_communities_are_ready_to_open():
    assert seed.DEMO_PROGRAM.owner_organization_id == "ca-bay-area"
    program = seed.DEMO_PROGRAM.body(NOW)
    assert (program["program_year"], program["name"]) == ("2026-27", "2026-27 Bay Area Math CoP")
    assert "2026-27 school year" in program["description"]
    assert seed.DEMO_PROPOSAL_CALL.program_id == seed.DEMO_PROGRAM.id
    opened = {item.community_id for item in seed.demo_items() if isinstance(item, seed.Opening)}
    assert opened == {c.id for c in seed.DEMO_PROGRAM_COMMUNITIES}
    for community in seed.DEMO_PROGRAM_COMMUNITIES:
        assert community.program_id == seed.DEMO_PROGRAM.id
        assert "ca-bay-area" in ancestry(community.host_organization_id)
        assert community.capacity > 0 and community.facilitator_ids and community.eligible_positions
        window = community.body(NOW)["signup_window"]
        assert parse(window["opens_at"]) < NOW < parse(window["soft_deadline"]) < parse(window["closes_at"])


def eligible(person: seed.Person, community: seed.Community) -> bool:
    """One affiliation matching both lists, an organization admitting its subtree (the domain rule)."""
    return any((not community.eligible_positions or position in community.eligible_positions)
               and (not community.eligible_organization_ids
                    or set(ancestry(org)) & set(community.eligible_organization_ids))
               for org, position in person.affiliations)


def test_everyone_the_demo_registers_is_eligible_and_the_school_team_has_its_composition():
    communities = {c.id: c for c in seed.DEMO_COMMUNITIES}
    for registration in seed.DEMO_REGISTRATIONS:
        community = communities[registration.community_id]
        members = ([registration.person_id] if isinstance(registration, seed.Signup)
                   else [person for person, _ in registration.members])
        assert all(eligible(PEOPLE[person], community) for person in members), registration
    team = next(r for r in seed.DEMO_REGISTRATIONS if isinstance(r, seed.TeamSignup))
    at_school = [position for person, _ in team.members for org, position in PEOPLE[person].affiliations
                 if org == team.school_id]
    # The math-team rule: a specialist, their site administrator and one more K-5 teacher.
    assert sorted(at_school) == ["site_admin", "specialist", "teacher"]
    teacher = next(PEOPLE[p] for p, _ in team.members if ("bayside-es", "teacher") in PEOPLE[p].affiliations)
    assert set(teacher.grade_bands) & {"K-2", "3-5"}


# -- the program's timeline and sessions ----------------------------------------------------------
def milestone_times(now: dt.datetime) -> dict[str, dt.datetime]:
    return {m.kind: parse(m.body(now)["time"]) for m in seed.DEMO_MILESTONES}


def test_the_linked_sign_up_milestones_are_the_program_communities_window():
    times = milestone_times(NOW)
    for community in seed.DEMO_PROGRAM_COMMUNITIES:
        window = {key: parse(value) for key, value in community.body(NOW)["signup_window"].items()}
        assert (times["signup_opens"], times["soft_deadline"], times["signup_closes"]) == (
            window["opens_at"], window["soft_deadline"], window["closes_at"])
    # The timeline's order rule (membership's window rule): opens < soft deadline <= closes.
    assert times["signup_opens"] < times["soft_deadline"] <= times["signup_closes"] == times["kick_off"]
    # The proposal call's milestones come from the call itself (scheduling takes it over).
    assert not {"call_opens", "proposals_due"} & set(times)
    assert all(m.program_id == seed.DEMO_PROGRAM.id for m in seed.DEMO_MILESTONES)


# Loading moments (UTC) across the school year: the school year the demo then runs in, and
# whether its kick-off is four weeks on ("4 weeks") or, too late in the year for that, the next
# year's first morning ("July 1"). The edges: early July; December; the last moment a kick-off
# four weeks on still leaves eight weeks before the final product (Friday 2027-05-28 17:00 PDT)
# and the moment after it; mid-May; a kick-off four weeks on that would be June 30; one that is
# July 1 00:00 local; late June; a leap day.
LOADING_MOMENTS = {
    dt.datetime(2026, 7, 2, 16, tzinfo=dt.UTC): ("2026-27", "4 weeks"),
    dt.datetime(2026, 9, 1, 7, tzinfo=dt.UTC): ("2026-27", "4 weeks"),
    NOW: ("2026-27", "4 weeks"),
    dt.datetime(2026, 12, 15, 23, 45, tzinfo=dt.UTC): ("2026-27", "4 weeks"),
    dt.datetime(2027, 1, 30, tzinfo=dt.UTC): ("2026-27", "4 weeks"),
    dt.datetime(2027, 3, 6, 0, 0, tzinfo=dt.UTC): ("2026-27", "4 weeks"),
    dt.datetime(2027, 3, 6, 0, 0, 1, tzinfo=dt.UTC): ("2027-28", "July 1"),
    dt.datetime(2027, 5, 15, 18, tzinfo=dt.UTC): ("2027-28", "July 1"),
    dt.datetime(2027, 6, 2, 18, tzinfo=dt.UTC): ("2027-28", "July 1"),
    dt.datetime(2027, 6, 3, 7, tzinfo=dt.UTC): ("2027-28", "4 weeks"),
    dt.datetime(2027, 6, 25, 22, tzinfo=dt.UTC): ("2027-28", "4 weeks"),
    dt.datetime(2028, 2, 29, 12, tzinfo=dt.UTC): ("2027-28", "4 weeks"),
}


def program_year(now: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
    """The bounds scheduling gives the demo program's year (its own rule, not the seed's)."""
    from copnet.scheduling.directory import program_year_bounds

    return program_year_bounds(seed.DEMO_PROGRAM.body(now)["program_year"], "America/Los_Angeles")


def occurrences(session: seed.Session, now: dt.datetime) -> list:
    """The session's occurrences as scheduling expands them against the program year (raising
    SESSION_OUTSIDE_PROGRAM_YEAR as it would)."""
    from copnet.scheduling import recurrence

    body = session.body(now)
    return recurrence.expand(body.get("recurrence", ""), parse(body["start_time"]), parse(body["end_time"]),
                             "America/Los_Angeles", program_year(now))


@pytest.mark.parametrize("now", LOADING_MOMENTS)
def test_the_program_year_is_the_school_year_of_the_kick_off(now):
    year, kick_off = LOADING_MOMENTS[now]
    program = seed.DEMO_PROGRAM.body(now)
    assert program["program_year"] == year and program["name"] == f"{year} Bay Area Math CoP"
    assert f"the {year} school year" in program["description"]
    start, end = program_year(now)
    assert start <= seed.kick_off(now) < end
    assert seed.kick_off(now) == (now + dt.timedelta(days=28) if kick_off == "4 weeks"
                                  else dt.datetime(int(year[:4]), 7, 1, 9, tzinfo=seed.DEMO_TIME_ZONE))


@pytest.mark.parametrize("now", LOADING_MOMENTS)
def test_sign_up_is_open_at_loading_and_closes_at_the_kick_off(now):
    times = milestone_times(now)
    assert times["signup_opens"] == now - dt.timedelta(days=7)
    assert times["signup_opens"] < now < times["soft_deadline"] < times["signup_closes"] == times["kick_off"]
    assert times["soft_deadline"] == times["kick_off"] - dt.timedelta(days=14)
    for community in seed.DEMO_PROGRAM_COMMUNITIES:
        window = community.body(now)["signup_window"]
        assert parse(window["closes_at"]) == times["kick_off"]


@pytest.mark.parametrize("now", LOADING_MOMENTS)
def test_every_session_occurrence_and_milestone_from_the_kick_off_on_is_inside_the_program_year(now):
    start, end = program_year(now)
    times = milestone_times(now)
    # Sign-up for a school year may open before it begins; everything from the kick-off on is in it.
    for kind in ("signup_closes", "kick_off", "in_person_session", "final_product_due"):
        assert start <= times[kind] < end, kind
    assert times["kick_off"] < times["in_person_session"] < times["final_product_due"]
    assert times["final_product_due"].astimezone(seed.DEMO_TIME_ZONE).strftime("%a %m %H:%M") == "Fri 05 17:00"
    for session in seed.DEMO_SESSIONS:
        slots = occurrences(session, now)
        assert all(start <= slot.start < slot.end <= end for slot in slots), session.id
        assert slots[0].start >= times["kick_off"]
        # Each community meets before its final product is due.
        assert slots[0].end < times["final_product_due"]
        if session.recurrence:
            # Monthly until the year ends: the last occurrence is within a month of its end.
            assert len(slots) >= 2 and end - slots[-1].end < dt.timedelta(days=35)


def test_any_day_of_several_years_loads_a_demo_inside_its_program_year():
    day = dt.datetime(2026, 7, 1, 6, 59, tzinfo=dt.UTC)
    while day < dt.datetime(2030, 7, 2, tzinfo=dt.UTC):
        start, end = program_year(day)
        times = milestone_times(day)
        assert times["signup_opens"] < day < times["soft_deadline"] and start <= times["kick_off"], day
        assert times["kick_off"] < times["in_person_session"] < times["final_product_due"] < end, day
        for session in seed.DEMO_SESSIONS:
            assert occurrences(session, day)[0].start >= times["kick_off"], (day, session.id)
        day += dt.timedelta(days=1, hours=7)  # a different time of day each time


@pytest.mark.parametrize("now", LOADING_MOMENTS)
def test_each_open_community_meets_monthly_from_its_kick_off(now):
    from dateutil import rrule

    series = {s.community_id: s for s in seed.DEMO_SESSIONS if s.recurrence}
    assert set(series) == {c.id for c in seed.DEMO_PROGRAM_COMMUNITIES}
    for session in series.values():
        body = session.body(now)
        start = parse(body["start_time"])
        assert start >= seed.kick_off(now)
        assert start.utcoffset() == start.astimezone(seed.DEMO_TIME_ZONE).utcoffset()
        # The first start is an occurrence of the rule itself (dateutil leaves out a start that is not).
        local_start = start.astimezone(seed.DEMO_TIME_ZONE).replace(tzinfo=None)
        first = rrule.rrulestr(body["recurrence"], dtstart=local_start)[0]
        assert first == local_start and body["recurrence"].startswith("FREQ=MONTHLY")
    days = {s.id: parse(s.body(now)["start_time"]).weekday() for s in series.values()}
    assert len(set(days.values())) == len(days)  # the shared facilitator is never in two places


def test_a_kick_off_after_the_meeting_hour_moves_the_first_meeting_to_the_next_month():
    # Kick-off on a second Tuesday (2027-10-12) at 16:00: that day's 15:30 meeting would precede it.
    now = dt.datetime(2027, 10, 12, 16, tzinfo=seed.DEMO_TIME_ZONE) - dt.timedelta(days=28)
    plc = next(s for s in seed.DEMO_SESSIONS if s.id == "bay-ratios-plc-monthly")
    assert parse(plc.body(now)["start_time"]) == dt.datetime(2027, 11, 9, 15, 30, tzinfo=seed.DEMO_TIME_ZONE)


def test_the_equity_workshop_is_in_the_bay_area_with_the_fields_its_type_declares():
    import jsonschema

    from copnet_plugins.equity_sessions import BUILT_IN_SESSION_TYPES

    [workshop] = [s for s in seed.DEMO_SESSIONS if s.session_type.startswith("equity_")]
    community = next(c for c in seed.DEMO_COMMUNITIES if c.id == workshop.community_id)
    assert "ca-bay-area" in ancestry(community.host_organization_id)
    assert ("ca-bay-area", "equity-sessions") in {(p.region_id, p.plugin) for p in seed.DEMO_PLUGINS}
    session_type = next(t for t in BUILT_IN_SESSION_TYPES if t.key == workshop.session_type)
    jsonschema.validate(workshop.body(NOW)["fields"], session_type.fields)
    body = workshop.body(NOW)
    assert body["modality"] == "in_person" and body["venue"]["name"] and "recurrence" not in body
    in_person = next(m for m in seed.DEMO_MILESTONES if m.kind == "in_person_session")
    assert parse(in_person.body(NOW)["time"]) == parse(body["start_time"])


