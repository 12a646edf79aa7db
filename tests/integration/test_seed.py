"""The demo network loaded through the real gateway: what it sets up works as the domain says
(an open program community takes sign-ups now, by eligibility), and loading again changes nothing."""

from __future__ import annotations

import datetime as dt

import pytest

from copnet import seed
from copnet.api_client import ApiClient, ApiError

pytestmark = pytest.mark.integration

PLC, MATH_TEAMS = "bay-ratios-plc", "eastbay-elementary-math-teams"


@pytest.fixture(scope="module")
def demo(stack):
    report = seed.load_demo(stack.gateway_url, stack.token("platform_admin", person=seed.SEED_PERSON_ID))
    return stack, report


def as_person(stack, person_id: str, role: str = "member", org: str = "ca") -> ApiClient:
    return ApiClient(stack.gateway_url, stack.token(role, org, person=person_id))


def test_everything_is_created_the_first_time(demo):
    _, report = demo
    assert report.created == [item.id for item in seed.demo_items()]
    assert report.existing == []


def test_the_program_has_an_open_call_and_open_communities(demo):
    stack, _ = demo
    lead = as_person(stack, "elena-torres", "regional_lead", "ca-bay-area")
    program = lead.get(f"/programs/{seed.DEMO_PROGRAM.id}")
    assert program["owner_organization_id"] == "ca-bay-area"
    assert program["name"] == f"{program['program_year']} Bay Area Math CoP"
    assert dt.datetime.fromisoformat(program["proposal_call"]["due_at"]) > dt.datetime.now(dt.UTC)
    open_ids = {c["id"] for c in lead.pages("/communities", program_id=seed.DEMO_PROGRAM.id, status="open")}
    assert open_ids == {PLC, MATH_TEAMS}
    person = lead.get("/people/elena-torres")
    assert [(r["role"], r["organization_id"]) for r in person["roles"]] == [("regional_lead", "ca-bay-area")]


def test_the_bay_area_offers_the_equity_workshops_and_southern_california_does_not(demo):
    stack, _ = demo
    api = ApiClient(stack.gateway_url)

    def keys(community_id: str) -> set[str]:
        return {t["key"] for t in api.get("/session-types", community_id=community_id)["items"]}

    stack.wait_for(lambda: "equity_grouping_and_tracking" in keys(PLC), 30, "equity session types in the Bay Area")
    assert "regular_convening" in keys(PLC)
    assert not any(key.startswith("equity_") for key in keys("san-diego-equity-cohort"))


def test_the_demo_registrations_hold_seats_and_the_school_team_registered_as_a_unit(demo):
    stack, _ = demo
    lead = as_person(stack, "elena-torres", "regional_lead", "ca-bay-area")
    plc = lead.get(f"/communities/{PLC}")
    assert plc["seats"]["capacity"] == 24 and plc["seats"]["confirmed"] >= 2
    team_roster = list(lead.pages(f"/communities/{MATH_TEAMS}/registrations"))
    assert {(r["person_id"], r["status"], r["team_id"]) for r in team_roster} == {
        ("maria-lopez", "confirmed", "bayside-math-team"), ("james-carter", "confirmed", "bayside-math-team"),
        ("aisha-johnson", "confirmed", "bayside-math-team")}
    team = lead.get("/teams/bayside-math-team")
    assert team["school_id"] == "bayside-es" and len(team["members"]) == 3


def test_sign_up_is_open_now_for_eligible_people_only(demo):
    stack, _ = demo
    # A Santa Clara teacher is in the Bay Area region: eligible.
    joined = as_person(stack, "priya-patel").post(f"/communities/{PLC}/registrations",
                                                  {"acknowledge_commitment": True})
    assert joined["status"] == "confirmed" and joined["commitment_acknowledged_at"]
    # A San Diego teacher is not.
    with pytest.raises(ApiError) as refused:
        as_person(stack, "grace-okafor").post(f"/communities/{PLC}/registrations", {"acknowledge_commitment": True})
    assert (refused.value.status, refused.value.reason) == (409, "NOT_ELIGIBLE")


def test_the_timeline_dates_the_program_communities_sign_up_window(demo):
    stack, _ = demo
    lead = as_person(stack, "elena-torres", "regional_lead", "ca-bay-area")

    def timeline() -> dict[str, dt.datetime]:
        items = lead.get(f"/programs/{seed.DEMO_PROGRAM.id}/milestones")["items"]
        return {m["kind"]: dt.datetime.fromisoformat(m["time"]) for m in items}

    # The call's milestones are taken over from the proposal call, by event.
    stack.wait_for(lambda: {"call_opens", "proposals_due"} <= set(timeline()), 30, "the proposal call's milestones")
    dates = timeline()
    assert {m.kind for m in seed.DEMO_MILESTONES} <= set(dates)
    due = dt.datetime.fromisoformat(lead.get(f"/programs/{seed.DEMO_PROGRAM.id}")["proposal_call"]["due_at"])
    assert dates["proposals_due"] == due
    for community_id in (PLC, MATH_TEAMS):
        window = lead.get(f"/communities/{community_id}")["signup_window"]
        assert (dates["signup_opens"], dates["soft_deadline"], dates["signup_closes"]) == tuple(
            dt.datetime.fromisoformat(window[key]) for key in ("opens_at", "soft_deadline", "closes_at"))


def test_each_open_community_meets_monthly_and_the_bay_area_has_an_equity_workshop(demo):
    stack, _ = demo
    lead = as_person(stack, "elena-torres", "regional_lead", "ca-bay-area")
    for community_id, series_id, weekday in ((PLC, "bay-ratios-plc-monthly", 1),
                                             (MATH_TEAMS, "eastbay-math-teams-monthly", 2)):
        series = lead.get(f"/sessions/{series_id}")
        assert series["community_id"] == community_id and series["recurrence"].startswith("FREQ=MONTHLY")
        occurrences = list(lead.pages(f"/sessions/{series_id}/occurrences"))
        assert len(occurrences) == series["occurrence_count"] >= 1
        local_starts = [dt.datetime.fromisoformat(o["local_start"]) for o in occurrences]
        assert {(start.weekday(), start.time()) for start in local_starts} == {
            (weekday, dt.datetime.fromisoformat(series["local_start"]).time())}
        assert all(o["facilitator_ids"] == ["robert-nguyen"] for o in occurrences)
    # Whenever it is loaded, the program's year is the school year of its kick-off and holds the
    # rest of its timeline and every occurrence.
    year = lead.get(f"/programs/{seed.DEMO_PROGRAM.id}")["program_year"]
    start, end = (dt.datetime(int(year[:4]) + n, 7, 1, tzinfo=seed.DEMO_TIME_ZONE) for n in (0, 1))
    timeline = {m["kind"]: dt.datetime.fromisoformat(m["time"])
                for m in lead.get(f"/programs/{seed.DEMO_PROGRAM.id}/milestones")["items"]}
    assert all(start <= timeline[kind] < end for kind in ("kick_off", "in_person_session", "final_product_due"))
    for series_id in ("bay-ratios-plc-monthly", "eastbay-math-teams-monthly", "bay-ratios-equity-workshop"):
        for occurrence in lead.pages(f"/sessions/{series_id}/occurrences"):
            begins, ends = (dt.datetime.fromisoformat(occurrence[key]) for key in ("start_time", "end_time"))
            assert timeline["kick_off"] <= begins < ends <= end
    workshop = lead.get("/sessions/bay-ratios-equity-workshop")
    assert (workshop["session_type"], workshop["modality"], workshop["occurrence_count"]) == (
        "equity_culturally_responsive_tasks", "in_person", 1)
    assert workshop["venue"]["name"] == "Alameda County Office of Education" and workshop["fields"]["task_to_bring"]


def test_loading_again_finds_everything_already_there(demo):
    stack, _ = demo
    again = seed.load_demo(stack.gateway_url, stack.token("platform_admin", person=seed.SEED_PERSON_ID))
    assert again.created == []
    assert again.existing == [item.id for item in seed.demo_items()]
