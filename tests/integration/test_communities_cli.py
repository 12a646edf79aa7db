"""`copnet communities list` and `copnet communities roster` against the real gateway."""

from __future__ import annotations

import datetime as dt

import pytest
from google.protobuf import timestamp_pb2
from typer.testing import CliRunner

from copnet.cli.root import app
from copnet.membership.v1 import membership_pb2

pytestmark = pytest.mark.integration

TZ = "America/Los_Angeles"


@pytest.fixture(scope="module")
def tree(stack):
    """A school with three communities (one open with a roster), a program, and two teachers."""
    admin = stack.token("platform_admin")
    for org_id, kind, parent in (("ccl-state", membership_pb2.ORGANIZATION_KIND_STATE, ""),
                                 ("ccl-region", membership_pb2.ORGANIZATION_KIND_REGION, "ccl-state"),
                                 ("ccl-county", membership_pb2.ORGANIZATION_KIND_COUNTY_OFFICE, "ccl-region"),
                                 ("ccl-district", membership_pb2.ORGANIZATION_KIND_DISTRICT, "ccl-county"),
                                 ("ccl-school", membership_pb2.ORGANIZATION_KIND_SCHOOL, "ccl-district")):
        stack.membership(admin).CreateOrganization(membership_pb2.CreateOrganizationRequest(
            organization_id=org_id, name=org_id, kind=kind, parent_id=parent, time_zone=TZ if not parent else ""))
    stack.membership(admin).CreateProgram(membership_pb2.CreateProgramRequest(program_id="ccl-program", name="CLI program",
                                                        owner_organization_id="ccl-region", program_year="2026-27"))
    for person_id in ("ccl-t1", "ccl-t2"):
        stack.membership(admin).CreatePerson(membership_pb2.CreatePersonRequest(
            person_id=person_id, name=person_id, email=f"{person_id}@example.org",
            affiliations=[membership_pb2.Affiliation(organization_id="ccl-school", position=membership_pb2.POSITION_TEACHER)]))
    opens, closes = timestamp_pb2.Timestamp(), timestamp_pb2.Timestamp()
    opens.FromDatetime(dt.datetime.now(dt.UTC) - dt.timedelta(days=1))
    closes.FromDatetime(dt.datetime.now(dt.UTC) + dt.timedelta(days=30))
    for community_id, kind, program_id in (("ccl-open", membership_pb2.COMMUNITY_KIND_PLC, "ccl-program"),
                                           ("ccl-draft", membership_pb2.COMMUNITY_KIND_PLC, ""),
                                           ("ccl-team", membership_pb2.COMMUNITY_KIND_MATH_TEAM, "")):
        stack.membership(admin).CreateCommunity(membership_pb2.CreateCommunityRequest(
            community_id=community_id, name=f"{community_id} name", kind=kind, host_organization_id="ccl-school",
            program_id=program_id, capacity=1, signup_window=membership_pb2.SignupWindow(open_time=opens, close_time=closes)))
    stack.membership(admin).ChangeCommunityStatus(membership_pb2.ChangeCommunityStatusRequest(id="ccl-open", status=membership_pb2.COMMUNITY_STATUS_OPEN))
    first = stack.membership(admin).Register(membership_pb2.RegisterRequest(community_id="ccl-open", person_id="ccl-t1"))
    stack.membership(admin).Register(membership_pb2.RegisterRequest(community_id="ccl-open", person_id="ccl-t2"))
    stack.membership(stack.token("member", "ccl-school", person="ccl-t1")).AcknowledgeCommitment(membership_pb2.AcknowledgeCommitmentRequest(id=first.registration.id))
    stack.membership(admin).RecordOnboarding(membership_pb2.RecordOnboardingRequest(id=first.registration.id))
    return stack


def copnet(stack, *args: str, token: str | None = None):
    # Wide enough that rich never wraps a cell, so each row is one line.
    return CliRunner().invoke(app, ["communities", *args, "--gateway", stack.gateway_url,
                                    "--token", token or stack.token("platform_admin")], env={"COLUMNS": "300"})


def row(output: str, key: str) -> list[str]:
    [line] = [line for line in output.splitlines() if f" {key} " in line]
    return [cell.strip() for cell in line.strip(" │|").split("│")]


def test_list_shows_every_community_of_the_host_with_its_seats(tree):
    result = copnet(tree, "list", "--host", "ccl-school")
    assert result.exit_code == 0, result.output
    assert row(result.output, "ccl-open") == ["ccl-open", "ccl-open name", "plc", "open", "ccl-school", "ccl-program",
                                              "1", "1", "1", "0"]
    assert row(result.output, "ccl-team")[2:4] == ["math_team", "draft"]
    assert "communities (3)" in result.output


@pytest.mark.parametrize(("options", "expected"), [
    (("--status", "open"), {"ccl-open"}),
    (("--kind", "math_team"), {"ccl-team"}),
    (("--program", "ccl-program"), {"ccl-open"}),
    (("--status", "draft", "--kind", "plc"), {"ccl-draft"}),
])
def test_list_filters(tree, options, expected):
    result = copnet(tree, "list", "--host", "ccl-school", *options)
    assert result.exit_code == 0, result.output
    shown = {key for key in ("ccl-open", "ccl-draft", "ccl-team") if f" {key} " in result.output}
    assert shown == expected


def test_list_refuses_an_unknown_status_with_the_problem(tree):
    result = copnet(tree, "list", "--status", "sleeping")
    assert result.exit_code == 1
    assert "422" in result.output and "status" in result.output


def test_roster_shows_status_waitlist_commitment_and_onboarding(tree):
    result = copnet(tree, "roster", "ccl-open", token=tree.token("county_admin", "ccl-county"))
    assert result.exit_code == 0, result.output
    confirmed, waitlisted = row(result.output, "ccl-t1"), row(result.output, "ccl-t2")
    assert confirmed[:3] == ["ccl-t1", "confirmed", "-"]
    assert confirmed[3] != "no" and confirmed[4] != "no"        # acknowledged and onboarded: when
    assert waitlisted == ["ccl-t2", "waitlisted", "1", "no", "no"]


@pytest.mark.parametrize(("community_id", "role", "status"), [
    ("ccl-open", "member", "403"),          # rosters are not public
    ("ccl-nowhere", "platform_admin", "404"),
])
def test_roster_exits_1_with_the_problem(tree, community_id, role, status):
    token = tree.token(role, "ccl-school") if role != "platform_admin" else tree.token(role)
    result = copnet(tree, "roster", community_id, token=token)
    assert result.exit_code == 1
    assert status in result.output
    assert "ccl-t1" not in result.output
