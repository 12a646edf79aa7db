"""Measures on a real stack: a score file imported through the data-set import (an importer plugin
installed in the reflection process), then read over gRPC, REST (JSON and the CSV export) and the
CLI: figures as computed by hand, a small group withheld everywhere, access by scope, effect sizes
of a community's teachers, and the aggregates.published events (district level and above, no
figure of a withheld cell, withdrawn when the data set is deleted)."""

from __future__ import annotations

import csv
import io
import json

import grpc
import pytest
from copnet.cli.root import app as cli
from copnet.kernel.errors import details_of
from copnet.membership.v1 import membership_pb2
from copnet.reflection.v1 import datasets_pb2, measures_pb2
from typer.testing import CliRunner

from tests.integration.http import request
from tests.integration.jetstream_events import published
from tests.integration.signup_world import World
from tests.integration.test_dataset_import import (
    HEADER,
    install_plugin,
    settled,
    upload,
)
from tests.support.stack import RunningStack, settings_for_tests

pytestmark = pytest.mark.integration

KINDS = membership_pb2
ORGANIZATIONS = (("ms-state", KINDS.ORGANIZATION_KIND_STATE, "", ""),
                 ("ms-region", KINDS.ORGANIZATION_KIND_REGION, "ms-state", ""),
                 ("ms-coe", KINDS.ORGANIZATION_KIND_COUNTY_OFFICE, "ms-region", "33"),
                 ("ms-other-coe", KINDS.ORGANIZATION_KIND_COUNTY_OFFICE, "ms-region", "44"),
                 ("ms-usd", KINDS.ORGANIZATION_KIND_DISTRICT, "ms-coe", "3333333"),
                 ("ms-north", KINDS.ORGANIZATION_KIND_SCHOOL, "ms-usd", "33333330000001"),
                 ("ms-south", KINDS.ORGANIZATION_KIND_SCHOOL, "ms-usd", "33333330000002"))
NORTH, SOUTH = "33333330000001", "33333330000002"
PARTICIPANTS = ("ms-p1", "ms-p2", "ms-p3")
OTHERS = ("ms-c1", "ms-c2", "ms-c3")


def row(student: str, school: str, score: int, teacher: str, *, homeless: bool = False, race: str = "white") -> str:
    # Grade 5: standard met at 2528 (level 3), exceeded at 2579 (level 4), level 2 from 2455.
    level = 1 + sum(score >= cut for cut in (2455, 2528, 2579))
    return (f"{student},{school},5,sbac-math,2024-25,spring,{score},{level},false,false,false,false,"
            f"{'true' if homeless else 'false'},{race},{teacher},,,")


def scores() -> list[str]:
    """36 students: each participating teacher's 6 at North score 2530..2580 step 10 (DFS 2..52), each
    other teacher's 6 at South 2520..2570 (DFS -8..42); 3 of South's students are homeless."""
    rows = []
    for n, teacher in enumerate(PARTICIPANTS):
        rows += [row(f"N-{n}{k}", NORTH, 2530 + 10 * k, teacher) for k in range(6)]
    for n, teacher in enumerate(OTHERS):
        rows += [row(f"S-{n}{k}", SOUTH, 2520 + 10 * k, teacher, homeless=(n == 0 and k < 3)) for k in range(6)]
    return rows


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    root = tmp_path_factory.mktemp("measures-stack")
    site = root / "site"
    site.mkdir()
    install_plugin(site)
    running = RunningStack(settings_for_tests(root / "data"), root, extra_pythonpath=[site])
    try:
        running.start_infrastructure().start_services().start_gateway()
        admin = running.membership(running.token("platform_admin"))
        for org_id, kind, parent, code in ORGANIZATIONS:
            admin.CreateOrganization(membership_pb2.CreateOrganizationRequest(
                organization_id=org_id, name=org_id, kind=kind, parent_id=parent, code=code,
                time_zone="America/Los_Angeles"))
        yield running
    finally:
        running.stop()


@pytest.fixture(scope="module")
def imported(stack) -> datasets_pb2.DataSet:
    token = stack.token("data_steward", "ms-coe", person="ms-steward")
    content = ("\n".join([HEADER, *scores()]) + "\n").encode()
    data_set = settled(stack, token, upload(stack, token, content, organization="ms-coe", name="ms-scores.csv").id)
    assert data_set.status == datasets_pb2.DATA_SET_STATUS_READY, data_set.failure
    assert data_set.rows_imported == 36
    return data_set


def cells_of(stack, token: str, **fields) -> dict:
    reply = stack.reflection(token).QueryMeasures(measures_pb2.QueryMeasuresRequest(**fields))
    return {(c.key.organization_id, c.key.student_group, c.key.grade): c for c in reply.cells}


def test_figures_are_the_hand_computed_ones_and_a_small_group_is_withheld(stack, imported):
    teacher = stack.token("member", "ms-usd", person="ms-teacher")
    cells = cells_of(stack, teacher, organization_id="ms-usd", include_children=True, windows=["spring"])
    district = cells[("ms-usd", "all", "5")]
    # 18 at North (mean 2555) and 18 at South (mean 2545): mean 2550, DFS 22; met: North 18, South 15.
    assert district.figures.students_tested == 36 and district.figures.mean_scale_score == 2550.0
    assert district.figures.distance_from_standard == 22.0
    assert district.figures.percent_met_or_exceeded.value == round(100 * 33 / 36, 1)
    assert district.cut_scores_version == "smarter-balanced-2014"
    # 3 homeless students at South: withheld, and so is their complement there (not homeless would
    # give them away); the district's 3 of 36 too.
    for organization in ("ms-south", "ms-usd"):
        homeless = cells[(organization, "homeless", "5")]
        assert homeless.withheld and not homeless.HasField("figures") and homeless.gap.withheld
        assert cells[(organization, "not_homeless", "5")].withheld
    assert not cells[("ms-north", "all", "5")].withheld


def test_aggregates_are_read_by_any_role_in_scope_only(stack, imported):
    for role, org in (("member", "ms-usd"), ("county_admin", "ms-coe"), ("state_coordinator", "ms-state"),
                      ("data_steward", "ms-coe"), ("platform_admin", "")):
        assert cells_of(stack, stack.token(role, org), organization_id="ms-usd")
    assert cells_of(stack, stack.token("member", "ms-north"), organization_id="ms-north")
    # A role below the organization, or in another county, does not reach it.
    for role, org in (("member", "ms-north"), ("county_admin", "ms-other-coe")):
        with pytest.raises(grpc.RpcError) as refused:
            cells_of(stack, stack.token(role, org), organization_id="ms-usd")
        assert details_of(refused.value).reason == "OUT_OF_SCOPE"
    with pytest.raises(grpc.RpcError) as anonymous:
        cells_of(stack, None, organization_id="ms-usd")
    assert anonymous.value.code() == grpc.StatusCode.UNAUTHENTICATED


def test_the_rest_export_and_the_cli_show_withheld_cells_as_a_star(stack, imported):
    token = stack.token("member", "ms-usd", person="ms-teacher")
    reply = request("GET", f"{stack.gateway_url}/api/v1/measures?organization_id=ms-south&format=csv",
                    headers={"Authorization": f"Bearer {token}"})
    assert reply.status == 200, reply.text
    rows = {(r["student_group"], r["grade"]): r for r in csv.DictReader(io.StringIO(reply.text))}
    assert rows[("homeless", "5")]["students_tested"] == "*" and rows[("homeless", "5")]["percent_level_1"] == "*"
    assert rows[("all", "5")]["students_tested"] == "18"
    result = CliRunner().invoke(cli, ["measures", "query", "ms-south", "--group", "homeless", "--group", "all",
                                      "--gateway", stack.gateway_url, "--token", token])
    assert result.exit_code == 0, result.output
    assert "homeless" in result.output and "*" in result.output and "2545" in result.output


def test_the_effect_size_compares_a_communitys_teachers_students_with_comparable_students(stack, imported):
    world = World(stack, "mw")
    try:
        for person in (*PARTICIPANTS, *OTHERS):
            world.membership(world.admin).CreatePerson(membership_pb2.CreatePersonRequest(
                person_id=person, name=person, email=f"{person}@example.org",
                affiliations=[membership_pb2.Affiliation(organization_id="ms-usd",
                                                         position=membership_pb2.POSITION_TEACHER)]))
        community = world.community("effect-plc", 10, host="ms-usd")
        for person in PARTICIPANTS:
            world.register(community, person, token=world.admin)
    finally:
        world.close()
    token = stack.token("facilitator", "ms-usd", person="ms-facilitator")
    reply = stack.reflection(token).GetEffectSize(measures_pb2.GetEffectSizeRequest(community_id=community))
    [effect] = reply.effect_sizes
    assert not effect.withheld, effect.withheld_reason
    assert (effect.participant_students, effect.participant_teachers, effect.comparison_students,
            effect.comparison_teachers) == (18, 3, 18, 3)
    # DFS 2..52 vs -8..42, step 10, three times each: means 27 and 17, the same variance (each 6-set's).
    assert (effect.participant_mean, effect.comparison_mean, effect.outcome) == (27.0, 17.0, "distance_from_standard")
    variance = 3 * sum((10 * k - 25) ** 2 for k in range(6)) / 17
    g = (1 - 3 / (4 * 36 - 9)) * 10 / variance ** 0.5
    assert effect.hedges_g == pytest.approx(g, abs=1e-3)
    assert effect.ci_low < effect.hedges_g < effect.ci_high


def test_aggregates_are_published_for_districts_and_above_and_withdrawn_with_the_data(stack, imported):
    def messages() -> list:
        return [e for e in published(stack, "reflection.aggregates.*")]

    stack.wait_for(lambda: {e.subject for e in messages()} >= {"ms-usd", "ms-coe", "ms-region"}, timeout=60,
                   what="aggregates.published for the district, county office and region")
    events = messages()
    assert not {e.subject for e in events} & {"ms-north", "ms-south"}
    district = next(e for e in events if e.subject == "ms-usd")
    body = json.dumps(district.data)
    assert not any(student in body for student in ("N-0", "S-0", "pseudonym"))
    payload = district.payload(measures_pb2.AggregatesPublished)
    assert (payload.version, payload.test, payload.school_year, payload.window) == (1, "sbac-math", "2024-25",
                                                                                    "spring")
    homeless = next(c for c in payload.cells if (c.student_group, c.grade) == ("homeless", "5"))
    assert homeless.withheld and not homeless.HasField("figures")
    steward = stack.token("data_steward", "ms-coe", person="ms-steward")
    stack.reflection(steward).DeleteDataSet(datasets_pb2.DeleteDataSetRequest(id=imported.id))
    stack.wait_for(lambda: any(e.subject == "ms-usd" and e.payload(measures_pb2.AggregatesPublished).withdrawn
                               for e in messages()), timeout=60, what="the district's aggregates withdrawn")
    assert not cells_of(stack, steward, organization_id="ms-usd")
