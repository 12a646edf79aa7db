"""Inquiry cycles on a real stack (membership, scheduling, reflection with a score file imported
through the data-set import, NATS, the gateway): a member runs a cycle through every stage with a
goal read from the published measures, a plan linking a session, evidence, a frozen snapshot and a
reflection, then starts the next cycle; a later import changes the measures but never the
snapshot; an outsider is refused; a state coordinator reads counts only; a data-reflection
session's preparation shows the community's published measures and no student."""

from __future__ import annotations

import datetime as dt
import json

import grpc
import pytest
from copnet.cli.root import app as cli
from copnet.kernel.errors import details_of
from copnet.kernel.timestamps import timestamp
from copnet.membership.v1 import membership_pb2
from copnet.reflection.v1 import cycles_pb2, datasets_pb2, measures_pb2
from copnet.scheduling.v1 import scheduling_pb2
from google.protobuf import field_mask_pb2
from typer.testing import CliRunner

from tests.integration.http import request
from tests.integration.jetstream_events import published
from tests.integration.test_dataset_import import (
    HEADER,
    install_plugin,
    settled,
    upload,
)
from tests.support.stack import RunningStack, settings_for_tests

pytestmark = pytest.mark.integration

KINDS = membership_pb2
ORGANIZATIONS = (("ic-state", KINDS.ORGANIZATION_KIND_STATE, "", ""),
                 ("ic-region", KINDS.ORGANIZATION_KIND_REGION, "ic-state", ""),
                 ("ic-coe", KINDS.ORGANIZATION_KIND_COUNTY_OFFICE, "ic-region", "57"),
                 ("ic-usd", KINDS.ORGANIZATION_KIND_DISTRICT, "ic-coe", "5757575"),
                 ("ic-north", KINDS.ORGANIZATION_KIND_SCHOOL, "ic-usd", "57575750000001"))
SCHOOL_CODE = "57575750000001"
COMMUNITY = "ic-plc"
TEACHERS = ("ic-teacher-1", "ic-teacher-2")
FACILITATOR, OUTSIDER = "ic-facilitator", "ic-outsider"
STAGE = cycles_pb2


def score_rows(prefix: str, met: int, below: int) -> list[str]:
    """Grade 5 spring 2024-25 at North: `met` students at 2540 (level 3), `below` at 2470 (level 2)."""
    def row(student: str, score: int) -> str:
        level = 1 + sum(score >= cut for cut in (2455, 2528, 2579))
        return (f"{student},{SCHOOL_CODE},5,sbac-math,2024-25,spring,{score},{level},false,false,false,false,false,"
                f"white,{TEACHERS[0]},,,")
    return [row(f"{prefix}-{n}", 2540) for n in range(met)] + [row(f"{prefix}-b{n}", 2470) for n in range(below)]


def imported(stack, prefix: str, met: int, below: int) -> None:
    token = stack.token("data_steward", "ic-coe", person="ic-steward")
    content = ("\n".join([HEADER, *score_rows(prefix, met, below)]) + "\n").encode()
    data_set = settled(stack, token, upload(stack, token, content, organization="ic-coe", name=f"{prefix}.csv").id)
    assert data_set.status == datasets_pb2.DATA_SET_STATUS_READY, data_set.failure


def percent_met(stack) -> float | None:
    token = stack.token("county_admin", "ic-coe", person="ic-reader")
    cells = stack.reflection(token).QueryMeasures(measures_pb2.QueryMeasuresRequest(
        organization_id="ic-usd", student_groups=["all"], grades=["5"], windows=["spring"])).cells
    return cells[0].figures.percent_met_or_exceeded.value if cells else None


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    root = tmp_path_factory.mktemp("cycles-stack")
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
        for person in (*TEACHERS, FACILITATOR, OUTSIDER):
            admin.CreatePerson(membership_pb2.CreatePersonRequest(
                person_id=person, name=f"Name of {person}", email=f"{person}@example.org",
                grade_bands=[membership_pb2.GRADE_BAND_3_5],
                affiliations=[membership_pb2.Affiliation(organization_id="ic-north",
                                                         position=membership_pb2.POSITION_TEACHER)]))
        now = dt.datetime.now(dt.UTC).replace(microsecond=0)
        admin.CreateCommunity(membership_pb2.CreateCommunityRequest(
            community_id=COMMUNITY, name="Grade 5 PLC", kind=membership_pb2.COMMUNITY_KIND_PLC,
            host_organization_id="ic-usd", capacity=10, facilitator_ids=[FACILITATOR],
            signup_window=membership_pb2.SignupWindow(open_time=timestamp(now - dt.timedelta(days=1)),
                                                      close_time=timestamp(now + dt.timedelta(days=30)))))
        admin.ChangeCommunityStatus(membership_pb2.ChangeCommunityStatusRequest(
            id=COMMUNITY, status=membership_pb2.COMMUNITY_STATUS_OPEN))
        for person in TEACHERS:
            admin.Register(membership_pb2.RegisterRequest(community_id=COMMUNITY, person_id=person))
        # 12 of 20 met the standard: 60 %.
        imported(running, "first", 12, 8)
        yield running
    finally:
        running.stop()


def member(stack, person: str = TEACHERS[0]) -> str:
    return stack.token("member", "ic-north", person=person)


def data_session(stack) -> scheduling_pb2.Session:
    """A data-reflection session of the community (once its calendar exists)."""
    facilitator = stack.token("facilitator", "ic-usd", person=FACILITATOR)
    start = dt.datetime.now(dt.UTC).replace(microsecond=0) + dt.timedelta(days=7)
    found: list = []

    def made() -> bool:
        try:
            found.append(stack.scheduling(facilitator).CreateSession(scheduling_pb2.CreateSessionRequest(
                community_id=COMMUNITY, session_type="data_reflection", title="Look at our spring results",
                start_time=timestamp(start), fields_json=json.dumps(
                    {"tests": ["sbac-math"], "windows": ["spring"], "grades": ["5"], "include_schools": True}))))
        except grpc.RpcError as error:
            if error.code() != grpc.StatusCode.FAILED_PRECONDITION:
                raise
            return False
        return True

    stack.wait_for(made, timeout=30, what="the community's calendar")
    return found[0].session


def refused(call) -> tuple[grpc.StatusCode, str]:
    with pytest.raises(grpc.RpcError) as raised:
        call()
    return raised.value.code(), details_of(raised.value).reason


def goal(target: float = 55.0) -> cycles_pb2.CycleGoal:
    return cycles_pb2.CycleGoal(
        measure="percent_met_or_exceeded", target_value=target,
        filter=cycles_pb2.GoalMeasureFilter(organization_id="ic-usd", student_group="all", grade="5",
                                            test="sbac-math", school_year="2024-25", window="spring"),
        target_time=timestamp(dt.datetime(2025, 6, 15, tzinfo=dt.UTC)), statement="More of our fifth graders meet "
                                                                              "the standard")


def advance(stack, cycle_id: str, stage: int, token: str | None = None, **fields) -> cycles_pb2.AdvanceInquiryCycleResponse:
    return stack.reflection(token or member(stack)).AdvanceInquiryCycle(
        cycles_pb2.AdvanceInquiryCycleRequest(id=cycle_id, to_stage=stage, **fields))


@pytest.fixture(scope="module")
def finished(stack) -> dict:
    """A cycle run through every stage by the community's members, its snapshot as frozen, and the
    next cycle started from it after the measures changed."""
    reflection = stack.reflection(member(stack))
    session = data_session(stack)
    cycle = reflection.CreateInquiryCycle(cycles_pb2.CreateInquiryCycleRequest(
        community_id=COMMUNITY, title="Fractions in grade 5", goal=goal())).cycle
    assert (cycle.stage, cycle.goal.baseline.state, cycle.goal.baseline.value) == (STAGE.CYCLE_STAGE_SET_GOALS,
                                                                                  "published", 60.0)
    advance(stack, cycle.id, STAGE.CYCLE_STAGE_PLAN)
    planned = stack.reflection(member(stack, TEACHERS[1])).UpdateInquiryCycle(cycles_pb2.UpdateInquiryCycleRequest(
        id=cycle.id, update_mask=field_mask_pb2.FieldMask(paths=["plan"]), plan=cycles_pb2.CyclePlan(actions=[
            cycles_pb2.CycleAction(text="Number talks with fraction strips twice a week", owner_person_id=TEACHERS[1],
                                   session_ids=[session.id])]))).cycle
    assert planned.plan.actions[0].session_ids == [session.id]
    advance(stack, cycle.id, STAGE.CYCLE_STAGE_ACT)
    reflection.AddCycleEvidence(cycles_pb2.AddCycleEvidenceRequest(cycle_id=cycle.id, evidence=cycles_pb2.CycleEvidence(
        note="Private observation: the strips helped the quiet table", url="https://example.org/strips")))
    assessed = advance(stack, cycle.id, STAGE.CYCLE_STAGE_ASSESS).cycle
    # Measures change after the snapshot: 5 more students, all below the standard (12 of 25: 48 %).
    imported(stack, "later", 0, 5)
    stack.wait_for(lambda: percent_met(stack) == 48.0, timeout=60, what="the measures of the later import")
    reflection.UpdateInquiryCycle(cycles_pb2.UpdateInquiryCycleRequest(
        id=cycle.id, update_mask=field_mask_pb2.FieldMask(paths=["reflection"]),
        reflection=cycles_pb2.CycleReflection(
            answers=[cycles_pb2.ReflectionAnswer(prompt_key="what_worked", text="Strips, and talking about them")],
            next_changes="Start the strips in the fall")))
    advance(stack, cycle.id, STAGE.CYCLE_STAGE_REFLECT)
    closed = advance(stack, cycle.id, STAGE.CYCLE_STAGE_CLOSED, start_next_cycle=True)
    return {"cycle": cycle, "assessed": assessed, "closed": closed, "session": session}


def test_a_member_runs_a_cycle_through_every_stage(stack, finished):
    closed = finished["closed"]
    cycle = stack.reflection(member(stack, TEACHERS[1])).GetInquiryCycle(
        cycles_pb2.GetInquiryCycleRequest(id=finished["cycle"].id)).cycle
    assert cycle.stage == STAGE.CYCLE_STAGE_CLOSED and cycle.next_cycle_id == closed.next_cycle.id
    assert [a.prompt_key for a in cycle.reflection.answers] == ["what_worked"]
    assert len(cycle.evidence) == 1 and cycle.evidence[0].author_person_id == TEACHERS[0]
    assert cycle.snapshot.outcome == cycles_pb2.GOAL_OUTCOME_MET and cycle.snapshot.assessed.value == 60.0
    # The next cycle carries the goal forward, its baseline read again from today's measures.
    following = closed.next_cycle
    assert (following.stage, following.previous_cycle_id) == (STAGE.CYCLE_STAGE_SET_GOALS, cycle.id)
    assert following.goal.filter == cycle.goal.filter and following.goal.baseline.value == 48.0
    listed = stack.reflection(member(stack)).ListInquiryCycles(
        cycles_pb2.ListInquiryCyclesRequest(community_id=COMMUNITY)).cycles
    assert {c.id for c in listed} == {cycle.id, following.id}
    shown = CliRunner().invoke(cli, ["cycles", "show", cycle.id, "--gateway", stack.gateway_url,
                                     "--token", member(stack)])
    assert shown.exit_code == 0, shown.output
    assert "stage closed" in shown.output and "assessed 60, goal met" in shown.output


def test_the_snapshot_never_changes_after_a_later_import(stack, finished):
    frozen = finished["assessed"].snapshot
    assert frozen.outcome == cycles_pb2.GOAL_OUTCOME_MET
    [goal_cell] = [c for c in frozen.cells if c.key.student_group == "all"]
    assert goal_cell.figures.students_tested == 20 and goal_cell.figures.percent_met_or_exceeded.value == 60.0
    assert percent_met(stack) == 48.0  # the measures did change
    now = stack.reflection(member(stack)).GetInquiryCycle(
        cycles_pb2.GetInquiryCycleRequest(id=finished["cycle"].id)).cycle.snapshot
    assert now == frozen


def test_stages_go_in_order_and_a_closed_cycle_never_changes(stack, finished):
    following = finished["closed"].next_cycle
    assert refused(lambda: advance(stack, following.id, STAGE.CYCLE_STAGE_ACT)) == (
        grpc.StatusCode.FAILED_PRECONDITION, "STAGE_OUT_OF_ORDER")
    assert refused(lambda: advance(stack, finished["cycle"].id, STAGE.CYCLE_STAGE_ABANDONED)) == (
        grpc.StatusCode.FAILED_PRECONDITION, "CYCLE_FINISHED")
    # Over HTTP: 409 with the rule, and 422 naming a bad field.
    token = member(stack)
    reply = request("POST", f"{stack.gateway_url}/api/v1/inquiry-cycles/{following.id}/advance", token=token,
                    json_body={"to_stage": "assess"})
    assert reply.status == 409 and reply.json()["reason"] == "STAGE_OUT_OF_ORDER"
    reply = request("PATCH", f"{stack.gateway_url}/api/v1/inquiry-cycles/{following.id}", token=token,
                    json_body={"plan": {"actions": [{"text": "x", "owner_person_id": OUTSIDER}]}})
    assert reply.status == 422 and reply.json()["reason"] == "OWNER_NOT_A_MEMBER"


def test_an_outsider_is_refused(stack, finished):
    outsider = stack.reflection(stack.token("member", "ic-usd", person=OUTSIDER))
    cycle_id = finished["cycle"].id
    for call in (lambda: outsider.GetInquiryCycle(cycles_pb2.GetInquiryCycleRequest(id=cycle_id)),
                 lambda: outsider.ListInquiryCycles(cycles_pb2.ListInquiryCyclesRequest(community_id=COMMUNITY)),
                 lambda: outsider.CreateInquiryCycle(cycles_pb2.CreateInquiryCycleRequest(community_id=COMMUNITY)),
                 lambda: outsider.AddCycleEvidence(cycles_pb2.AddCycleEvidenceRequest(
                     cycle_id=finished["closed"].next_cycle.id, evidence=cycles_pb2.CycleEvidence(note="x")))):
        assert refused(call) == (grpc.StatusCode.PERMISSION_DENIED, "NOT_A_MEMBER")


def test_a_coordinator_sees_counts_only(stack, finished):
    token = stack.token("state_coordinator", "ic-state", person="ic-coordinator")
    assert refused(lambda: stack.reflection(token).GetInquiryCycle(cycles_pb2.GetInquiryCycleRequest(
        id=finished["cycle"].id))) == (grpc.StatusCode.PERMISSION_DENIED, "NOT_A_MEMBER")
    reply = request("GET", f"{stack.gateway_url}/api/v1/orgs/ic-usd/inquiry-cycle-counts", token=token)
    assert reply.status == 200, reply.text
    program_year = finished["cycle"].program_year
    assert reply.json() == {"organization_id": "ic-usd", "program_year": "", "cycles": 2, "set_goals": 1, "plan": 0,
                            "act": 0, "assess": 0, "reflect": 0, "closed": 1, "abandoned": 0, "goals_met": 1,
                            "goals_not_met": 0, "goals_cannot_tell": 0}
    result = CliRunner().invoke(cli, ["cycles", "counts", "ic-state", "--year", program_year,
                                      "--gateway", stack.gateway_url, "--token", token])
    assert result.exit_code == 0, result.output
    assert "2" in result.output and "ic-state" in result.output
    outside = stack.token("state_coordinator", "ic-elsewhere", person="ic-coordinator-2")
    assert request("GET", f"{stack.gateway_url}/api/v1/orgs/ic-usd/inquiry-cycle-counts",
                   token=outside).status == 403


def test_events_carry_ids_and_published_figures_only(stack, finished):
    cycle_id = finished["cycle"].id
    stack.wait_for(lambda: any(e.subject == f"{cycle_id}-snapshot" for e in published(stack, "reflection.snapshot.*")),
                   timeout=30, what="snapshot.frozen")
    events = [e for e in published(stack, "reflection.>") if e.type.startswith(("copnet.reflection.cycle",
                                                                               "copnet.reflection.snapshot"))]
    assert {e.type for e in events} >= {"copnet.reflection.cycle.created", "copnet.reflection.cycle.advanced",
                                        "copnet.reflection.cycle.closed", "copnet.reflection.snapshot.frozen"}
    body = json.dumps([e.data for e in events])
    for private in ("Name of", "Private observation", "Strips, and talking", "first-0", "@example.org",
                    "Fractions in grade 5"):
        assert private not in body
    frozen = next(e for e in events if e.type == "copnet.reflection.snapshot.frozen").payload(
        cycles_pb2.SnapshotFrozen)
    assert frozen.outcome == cycles_pb2.GOAL_OUTCOME_MET and frozen.cells[0].figures.students_tested == 20


def test_a_data_reflection_sessions_preparation_shows_published_measures_only(stack, finished):
    session = finished["session"]
    reply = request("GET", f"{stack.gateway_url}/api/v1/sessions/{session.id}/data-preparation",
                    token=member(stack))
    assert reply.status == 200, reply.text
    found = reply.json()
    assert (found["organization_id"], found["windows"], found["grades"]) == ("ic-usd", ["spring"], ["5"])
    assert found["preparation_prompts"]
    organizations = {c["organization_id"] for c in found["cells"]}
    assert organizations == {"ic-usd", "ic-north"}
    assert "first-0" not in reply.text and "later-b0" not in reply.text
    outsider = stack.token("member", "ic-elsewhere", person=OUTSIDER)
    assert request("GET", f"{stack.gateway_url}/api/v1/sessions/{session.id}/data-preparation",
                   token=outsider).status == 403


def test_a_teams_cycle_is_its_members_and_the_facilitators(stack, finished):
    admin = stack.membership(stack.token("platform_admin"))
    team = admin.CreateTeam(membership_pb2.CreateTeamRequest(
        community_id=COMMUNITY, team_id="ic-team", kind=membership_pb2.TEAM_KIND_CROSS_DISTRICT, name="Team two",
        members=[membership_pb2.TeamMemberSpec(person_id=TEACHERS[1], role=membership_pb2.TEAM_ROLE_MEMBER)])).team
    cycle = stack.reflection(member(stack, TEACHERS[1])).CreateInquiryCycle(cycles_pb2.CreateInquiryCycleRequest(
        community_id=COMMUNITY, team_id=team.id, title="Team two's cycle")).cycle
    assert cycle.team_id == team.id
    facilitator = stack.reflection(stack.token("facilitator", "ic-usd", person=FACILITATOR))
    assert [c.id for c in facilitator.ListInquiryCycles(cycles_pb2.ListInquiryCyclesRequest(team_id=team.id)).cycles
            ] == [cycle.id]
    # A member of the community outside the team neither reads it nor finds it in the community's list.
    other = stack.reflection(member(stack, TEACHERS[0]))
    assert refused(lambda: other.GetInquiryCycle(cycles_pb2.GetInquiryCycleRequest(id=cycle.id))) == (
        grpc.StatusCode.PERMISSION_DENIED, "NOT_A_MEMBER")
    assert cycle.id not in {c.id for c in other.ListInquiryCycles(
        cycles_pb2.ListInquiryCyclesRequest(community_id=COMMUNITY)).cycles}
    # Its actions are owned by the team's members or the facilitators only.
    assert refused(lambda: facilitator.UpdateInquiryCycle(cycles_pb2.UpdateInquiryCycleRequest(
        id=cycle.id, update_mask=field_mask_pb2.FieldMask(paths=["plan"]), plan=cycles_pb2.CyclePlan(actions=[
            cycles_pb2.CycleAction(text="x", owner_person_id=TEACHERS[0])])))) == (
        grpc.StatusCode.INVALID_ARGUMENT, "OWNER_NOT_A_MEMBER")
