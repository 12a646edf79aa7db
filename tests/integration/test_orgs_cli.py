"""`copnet orgs create|list|import` in-process against the real gateway."""

from __future__ import annotations

import pytest
from copnet.cli.root import app
from typer.testing import CliRunner

from tests.integration.http import request

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def orgs(stack):
    """Runs `copnet orgs ...` against the stack's gateway as a platform admin."""
    def invoke(*args: str, token: str | None = None):
        return CliRunner().invoke(app, ["orgs", *args, "--gateway", stack.gateway_url,
                                        "--token", token or stack.token("platform_admin")])
    invoke.stack = stack
    return invoke


def read(stack, org_id: str) -> dict | None:
    reply = request("GET", f"{stack.gateway_url}/api/v1/orgs/{org_id}")
    return reply.json() if reply.status == 200 else None


def test_create_prints_the_id_and_list_shows_a_table(orgs):
    created = orgs("create", "--id", "cli-state", "--name", "CLI State", "--kind", "state", "--code", "CLI",
                   "--time-zone", "America/Chicago")
    assert created.exit_code == 0, created.output
    assert created.stdout.strip() == "cli-state"
    region = orgs("create", "--id", "cli-region", "--name", "CLI Region", "--kind", "region",
                  "--parent-id", "cli-state")
    assert region.exit_code == 0, region.output
    assert read(orgs.stack, "cli-region")["time_zone"] == "America/Chicago"

    listed = orgs("list", "--parent-id", "cli-state")
    assert listed.exit_code == 0, listed.output
    assert "cli-region" in listed.stdout and "CLI Region" in listed.stdout and "cli-state" in listed.stdout
    assert "cli-region" not in orgs("list", "--parent-id", "cli-state", "--kind", "school").stdout


def test_create_reports_the_gateways_problem(orgs):
    orgs("create", "--id", "cli-root", "--name", "Root", "--kind", "state", "--time-zone", "UTC")
    refused = orgs("create", "--name", "Orphan", "--kind", "school", "--parent-id", "cli-root",
                   token=orgs.stack.token("county_admin", "cli-root"))
    assert refused.exit_code == 1
    assert "422" in refused.stderr and "INVALID_PARENT_KIND" in refused.stderr and "parent_id" in refused.stderr


GOOD_AND_BAD = (
    "\ufeffid;name;kind;parent_id;code;time_zone\n"
    "cli-i-school;Imported School;school;cli-i-district;;\n"          # child listed before its parent
    "cli-i-district;Imported District;district;cli-i-county;9990161;\n"
    "cli-i-county;Imported County;county_office;cli-i-state;CLI-01;\n"
    "cli-i-state;Imported State;state;;;America/Los_Angeles\n"
    "cli-i-bad-kind;Bad Kind;castle;cli-i-state;;\n"
    "cli-i-lost;Lost School;school;cli-i-nowhere;;\n"
    "cli-i-twin;Twin District;district;cli-i-county;9990161;\n"       # code taken by cli-i-district
)


def test_import_orders_parents_first_reports_bad_rows_and_is_idempotent(orgs, tmp_path):
    path = tmp_path / "orgs.csv"
    path.write_text(GOOD_AND_BAD, encoding="utf-8")
    first = orgs("import", str(path))
    assert first.exit_code == 1, first.output
    assert "4 created, 0 already there, 3 failed" in first.stdout
    errors = first.stderr
    assert "row 6, id cli-i-bad-kind: 422" in errors and "kind" in errors
    assert "row 7, id cli-i-lost: 422 UNKNOWN_PARENT" in errors
    assert "row 8, id cli-i-twin: 409 DUPLICATE_CODE" in errors
    school = read(orgs.stack, "cli-i-school")
    assert school["ancestor_ids"] == ["cli-i-state", "cli-i-county", "cli-i-district"]
    assert read(orgs.stack, "cli-i-district")["code"] == "9990161"
    assert read(orgs.stack, "cli-i-lost") is None and read(orgs.stack, "cli-i-twin") is None

    again = orgs("import", str(path))
    assert again.exit_code == 1
    assert "0 created, 4 already there, 3 failed" in again.stdout


def test_a_clean_import_exits_0_with_plain_commas_and_no_bom(orgs, tmp_path):
    path = tmp_path / "clean.csv"
    path.write_text("id,name,kind,parent_id,time_zone\ncli-c-state,Clean State,state,,UTC\n"
                    "cli-c-region,\"Clean Region, North\",region,cli-c-state,\n", encoding="utf-8")
    result = orgs("import", str(path))
    assert result.exit_code == 0, result.output
    assert "2 created, 0 already there, 0 failed" in result.stdout
    assert read(orgs.stack, "cli-c-region")["name"] == "Clean Region, North"
    assert orgs("import", str(path)).exit_code == 0


@pytest.mark.parametrize("content", [None, "", "identifier,name,kind\nx,y,state\n", "name,kind\nx,state\n",
                                     b"id,name,kind\n\xff\xfe,x,state\n"])
def test_an_unreadable_file_exits_2(orgs, tmp_path, content):
    path = tmp_path / "broken.csv"
    if isinstance(content, bytes):
        path.write_bytes(content)
    elif content is not None:
        path.write_text(content)
    result = orgs("import", str(path))
    assert result.exit_code == 2, result.output
    assert "copnet orgs import:" in result.stderr
