"""Participation on a real stack (the demo network): teachers reached, schools reached, attendance
rate and hours move as teachers register and attendance is recorded, withheld below the
threshold (and where they would give a small count away), the same over gRPC, REST and the CLI,
read by roles in scope only, and sent as participation.published without a person in it."""

from __future__ import annotations

import datetime as dt

import grpc
import pytest
from copnet import seed
from copnet.api_client import ApiClient, ApiError
from copnet.cli.root import app as cli
from copnet.membership.v1 import membership_pb2
from copnet.reflection.v1 import participation_pb2
from typer.testing import CliRunner

from tests.integration.jetstream_events import published
from tests.integration.scheduling_world import SchedulingWorld, current_program_year
from tests.support.stack import own_demo_stack

pytestmark = pytest.mark.integration

RATIOS, SCHOOL, OTHER_SCHOOL, DISTRICT, COUNTY = "bay-ratios-plc", "lakeview-ms", "bayside-es", "eastbay-usd", \
    "alameda-coe"
# The demo: two Ratios PLC teachers at Lakeview, a school team of three at Bayside.
DEMO_LAKEVIEW, DEMO_BAYSIDE = ("daniel-kim", "sofia-garcia"), ("maria-lopez", "james-carter", "aisha-johnson")
EXTRA = tuple(f"participation-teacher-{n:02d}" for n in range(10))


def rfc3339(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    with own_demo_stack(tmp_path_factory.mktemp("participation")) as running:
        yield running


@pytest.fixture(scope="module")
def admin(stack) -> ApiClient:
    return ApiClient(stack.gateway_url, stack.token("platform_admin", person=seed.SEED_PERSON_ID))


@pytest.fixture(scope="module")
def county_admin(stack) -> ApiClient:
    return ApiClient(stack.gateway_url, stack.token("county_admin", COUNTY, person="county-reader"))


@pytest.fixture(scope="module")
def program_year(admin) -> str:
    return admin.get(f"/programs/{seed.DEMO_PROGRAM.id}")["program_year"]


def figures(stack, client: ApiClient, scope: str, year: str, **query) -> dict:
    return client.get(f"/orgs/{scope}/participation", program_year=year, **query)


def settled(stack, client, scope, year, check, what: str, **query) -> dict:
    found = {}

    def ready():
        found["reply"] = figures(stack, client, scope, year, **query)
        return check(found["reply"])

    stack.wait_for(ready, timeout=60, what=what)
    return found["reply"]


def test_the_demo_participants_are_counted_but_withheld_below_the_threshold(stack, county_admin, program_year):
    reply = settled(stack, county_admin, DISTRICT, program_year, lambda r: program_year in r["program_years"],
                    "the demo's registrations counted")
    assert reply["min_cell"] == 11
    district = reply["figures"]
    assert district["withheld"] is True and district["teachers_reached"] is None
    assert district["schools_reached"] is None and district["learning_hours"] is None
    # Over gRPC, a platform admin reads the same withheld figures.
    same = stack.reflection(stack.token("platform_admin")).GetParticipation(participation_pb2.GetParticipationRequest(
        organization_id=DISTRICT, program_year=program_year))
    assert same.figures.withheld and not same.figures.HasField("teachers_reached")


def test_registering_teachers_and_recording_attendance_moves_reach_rate_and_hours(
        stack, admin, county_admin, program_year):
    for person in EXTRA:
        admin.post("/people", {"id": person, "name": f"Participation Teacher {person[-2:]}",
                               "email": f"{person}@lakeview.example.org",
                               "affiliations": [{"organization_id": SCHOOL, "position": "teacher"}]})
        admin.post(f"/communities/{RATIOS}/registrations", {"person_id": person})
    lakeview = (*DEMO_LAKEVIEW, *EXTRA)
    reply = settled(stack, county_admin, DISTRICT, program_year,
                    lambda r: r["figures"]["teachers_reached"] == len(lakeview) + len(DEMO_BAYSIDE),
                    "fifteen teachers reached in the district", include_children="true")
    district = reply["figures"]
    assert (district["schools_reached"], district["districts_reached"]) == (2, None)
    # Bayside's three are withheld, and Lakeview with them (the district minus Lakeview would be Bayside).
    children = {c["scope_id"]: c for c in reply["children"]}
    assert children[OTHER_SCHOOL]["withheld"] and children[SCHOOL]["withheld"]
    assert children[SCHOOL]["teachers_reached"] is None
    county = figures(stack, county_admin, COUNTY, program_year)["figures"]
    assert (county["teachers_reached"], county["schools_reached"], county["districts_reached"]) == (15, 2, 1)

    start = dt.datetime.now(dt.UTC).replace(microsecond=0) - dt.timedelta(days=1)
    admin.post(f"/communities/{RATIOS}/sessions", {
        "id": "participation-convening", "session_type": "regular_convening", "title": "Ratios convening",
        "start_time": rfc3339(start), "end_time": rfc3339(start + dt.timedelta(minutes=90)),
        "meeting_url": "https://meet.example.org/participation"})
    occurrence = admin.get("/sessions/participation-convening/occurrences")["items"][0]["id"]
    # Ten present (90 minutes each), one late for 30 minutes, one absent: 11 of 12 attended, 930 minutes.
    entries = [{"person_id": p, "status": "present"} for p in lakeview[:10]]
    entries += [{"person_id": lakeview[10], "status": "late", "attended_minutes": 30},
                {"person_id": lakeview[11], "status": "absent"}]
    admin.put(f"/occurrences/{occurrence}/attendance", {"entries": entries})
    county = settled(stack, county_admin, COUNTY, program_year,
                     lambda r: r["figures"]["attendance_records"] == 12, "attendance counted")["figures"]
    assert county["learning_hours"] == 15.5
    assert county["attendance_rate"] == {"value": 91.7, "text": "91.7"}

    # Recorded again differently, the records replace the old ones: the figures move by the difference.
    admin.put(f"/occurrences/{occurrence}/attendance", {"entries": [{"person_id": lakeview[11], "status": "excused"}]})
    county = settled(stack, county_admin, COUNTY, program_year,
                     lambda r: r["figures"]["attendance_records"] == 11, "an excused absence counted")["figures"]
    assert county["attendance_rate"] == {"value": None, "text": "≥95"} and county["learning_hours"] == 15.5

    community = county_admin.get(f"/communities/{RATIOS}/participation-summary")["figures"]
    assert (community["level"], community["teachers_reached"], community["learning_hours"]) == \
        ("community", 12, 15.5)


def test_cli_prints_withheld_figures_as_a_star(stack, county_admin, program_year):
    token = stack.token("county_admin", COUNTY, person="county-reader")
    result = CliRunner().invoke(cli, ["participation", "show", DISTRICT, "--year", program_year, "--children",
                                      "--gateway", stack.gateway_url, "--token", token])
    assert result.exit_code == 0, result.output
    assert "15" in result.output and "*" in result.output and SCHOOL in result.output
    result = CliRunner().invoke(cli, ["participation", "retention", COUNTY, "--gateway", stack.gateway_url,
                                      "--token", token])
    assert result.exit_code == 0, result.output
    assert program_year in result.output


def test_retention_counts_this_years_participants_as_not_yet_known(stack, county_admin, program_year):
    # Nobody has been described since the next program year began (it has not).
    [year] = county_admin.get(f"/orgs/{COUNTY}/retention", program_year=program_year)["years"]
    assert year["withheld"] is False
    assert year["participants"] == 15 and year["retention_rate"] is None
    assert (year["retained"], year["not_retained"], year["not_yet_known"]) == (0, 0, 15)


def test_readers_are_roles_in_scope_and_bad_input_names_its_field(stack, program_year):
    outsider = ApiClient(stack.gateway_url, stack.token("county_admin", "san-diego-coe", person="elsewhere"))
    with pytest.raises(ApiError) as refused:
        outsider.get(f"/orgs/{DISTRICT}/participation")
    assert refused.value.status == 403
    state = ApiClient(stack.gateway_url, stack.token("state_coordinator", "ca", person="statewide"))
    assert state.get(f"/orgs/{COUNTY}/participation", program_year=program_year)["figures"]["teachers_reached"] == 15
    with pytest.raises(ApiError) as invalid:
        state.get(f"/orgs/{COUNTY}/participation", program_year="2026-28")
    assert invalid.value.status == 422
    reflection = stack.reflection(stack.token("platform_admin"))
    with pytest.raises(grpc.RpcError) as both:
        reflection.GetParticipation(participation_pb2.GetParticipationRequest(organization_id=COUNTY,
                                                                              community_id=RATIOS))
    assert both.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    with pytest.raises(grpc.RpcError) as missing:
        reflection.GetRetention(participation_pb2.GetRetentionRequest(organization_id="no-such-org"))
    assert missing.value.code() == grpc.StatusCode.NOT_FOUND


def test_published_figures_are_suppressed_versioned_and_name_nobody(stack, program_year):
    def county_messages():
        return [e.data for e in published(stack, "reflection.participation.published")
                if e.data["organization_id"] == COUNTY and e.data["program_year"] == program_year]

    stack.wait_for(lambda: any(int(m["figures"].get("teachers_reached", 0)) == 15 for m in county_messages()),
                   timeout=60, what="the county's fifteen teachers published")
    messages = county_messages()
    versions = [int(m["version"]) for m in messages]
    assert versions == sorted(versions) and len(set(versions)) == len(versions)
    everything = str([e.data for e in published(stack, "reflection.participation.published")])
    for person in (*DEMO_LAKEVIEW, *DEMO_BAYSIDE, *EXTRA):
        assert person not in everything
    assert SCHOOL not in everything  # schools are never sent


def test_last_years_participants_still_teaching_at_a_school_are_retained(stack):
    # Last program year's community; everyone's record is from this year (after the next year began).
    world = SchedulingWorld(stack, "ret")
    this_year = current_program_year()
    first = int(this_year[:4]) - 1
    last_year = f"{first}-{(first + 1) % 100:02d}"
    teachers = world.people(24, "teacher")
    community = world.program_community("plc", world.program("last", program_year=last_year), members=teachers)
    # Half moved to the district office after the year (a roster import would say so the same way).
    for person in teachers[12:]:
        world.membership(world.admin).UpdatePerson(membership_pb2.UpdatePersonRequest(
            id=person, set_affiliations=True, affiliations=[membership_pb2.Affiliation(
                organization_id=world.district, position=membership_pb2.POSITION_DISTRICT_ADMIN)]))
    reader = ApiClient(stack.gateway_url, stack.token("county_admin", world.county, person="ret-reader"))
    found = {}

    def counted():
        found["years"] = reader.get(f"/orgs/{world.county}/retention", program_year=last_year)["years"]
        return found["years"][0]["not_retained"] == 12

    stack.wait_for(counted, timeout=60, what="the moves seen by retention")
    [year] = found["years"]
    assert (year["participants"], year["retained"], year["not_retained"], year["not_yet_known"]) == (24, 12, 12, 0)
    assert year["retention_rate"] == {"value": 50.0, "text": "50.0"}
    [mine] = reader.get(f"/communities/{community}/retention")["years"]
    assert (mine["level"], mine["program_year"], mine["retained"]) == ("community", last_year, 12)
