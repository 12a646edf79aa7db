"""`copnet plugins list|show|configure|history` and `copnet roster import` in-process against the
real gateway."""

from __future__ import annotations

import json
import zipfile

import pytest
from copnet.cli.root import app
from copnet.membership.v1 import membership_pb2
from typer.testing import CliRunner

pytestmark = pytest.mark.integration

PREFIX = "pcli"
ORGS = ("sourcedId,status,dateLastModified,name,type,identifier,parentSourcedId\n"
        "d1,active,2026-08-01T08:00:00Z,Pcli Unified,district,PCLI-D1,\n"
        "s1,active,2026-08-01T08:00:00Z,Pcli Elementary,school,PCLI-S1,d1\n")
USERS = ("sourcedId,status,dateLastModified,enabledUser,orgSourcedIds,role,username,userIds,givenName,familyName,"
         "middleName,identifier,email,sms,phone,agentSourcedIds,grades,password\n"
         "t1,active,2026-08-01T08:00:00Z,true,s1,teacher,pa,,Pat,Ames,,,pat.ames@pcli.example,,,,\"03,04\",\n"
         "t2,active,2026-08-01T08:00:00Z,true,s1,teacher,bb,,Bo,Bell,,,,,,,03,\n")


def counts(output: str) -> dict[str, list[int]]:
    """The report table: kind -> [created, updated, unchanged, failed]."""
    rows = [[cell.strip() for cell in line.split("│")[1:-1]] for line in output.splitlines() if line.count("│") == 6]
    return {row[0]: [int(cell) for cell in row[1:]] for row in rows if row[0] in ("organizations", "people",
                                                                                  "affiliations")}


@pytest.fixture(scope="module")
def cli(stack):
    admin = stack.token("platform_admin")
    for org_id, kind, parent in ((f"{PREFIX}-state", membership_pb2.ORGANIZATION_KIND_STATE, ""),
                                 (f"{PREFIX}-region", membership_pb2.ORGANIZATION_KIND_REGION, f"{PREFIX}-state"),
                                 (f"{PREFIX}-county", membership_pb2.ORGANIZATION_KIND_COUNTY_OFFICE, f"{PREFIX}-region")):
        stack.membership(admin).CreateOrganization(membership_pb2.CreateOrganizationRequest(
            organization_id=org_id, name=org_id, kind=kind, parent_id=parent,
            time_zone="" if parent else "America/Los_Angeles"))
    lead = stack.token("regional_lead", f"{PREFIX}-region", person=f"{PREFIX}-lead")

    def invoke(*args: str, token: str | None = None):
        return CliRunner().invoke(app, [*args, "--gateway", stack.gateway_url, "--token", token or lead])
    return invoke


def test_list_and_show(cli):
    listed = cli("plugins", "list")
    assert listed.exit_code == 0, listed.output
    assert "local-eligibility" in listed.stdout and "webhook-notify" in listed.stdout
    shown = cli("plugins", "show", "webhook-notify")
    assert shown.exit_code == 0, shown.output
    assert "react_to_event" in shown.stdout and "url" in shown.stdout
    missing = cli("plugins", "show", "no-such-plugin")
    assert missing.exit_code == 1 and "UNKNOWN_PLUGIN" in missing.stderr


def test_configure_then_history(cli, tmp_path):
    region = f"{PREFIX}-region"
    first = cli("plugins", "configure", region, "local-eligibility", "--enable", "--set",
                'allowed_positions=["coach","teacher"]', "--set", "message=Local educators only.",
                "--reason", "pilot")
    assert first.exit_code == 0, first.output
    assert "version 1, enabled" in first.stdout
    same = cli("plugins", "configure", region, "local-eligibility", "--set", "message=Local educators only.")
    assert same.exit_code == 0 and "unchanged (version 1" in same.stdout

    settings = tmp_path / "settings.json"
    settings.write_text(json.dumps({"allowed_positions": ["coach"]}))
    second = cli("plugins", "configure", region, "local-eligibility", "--disable", "--settings-file", str(settings))
    assert second.exit_code == 0, second.output
    assert "version 2, disabled" in second.stdout

    bad = cli("plugins", "configure", region, "local-eligibility", "--set", "allowed_positions=[\"wizard\"]")
    assert bad.exit_code == 1 and "settings.allowed_positions" in bad.stderr
    usage = cli("plugins", "configure", region, "local-eligibility", "--set", "no-equals-sign")
    assert usage.exit_code == 2

    history = cli("plugins", "history", region, "local-eligibility")
    assert history.exit_code == 0, history.output
    assert "pilot" in history.stdout and f"{PREFIX}-lead" in history.stdout


def test_secret_values_never_printed(cli):
    region = f"{PREFIX}-region"
    done = cli("plugins", "configure", region, "webhook-notify", "--disable", "--set",
               "url=http://127.0.0.1:9/pcli-secret-hook")
    assert done.exit_code == 0, done.output
    assert "pcli-secret-hook" not in done.stdout and '"set": true' in done.stdout
    again = cli("plugins", "configure", region, "webhook-notify", "--set", "format=slack")
    assert again.exit_code == 0 and "version 2" in again.stdout and '"url": {"set": true}' in again.stdout


def test_roster_import_from_a_directory_then_a_zip_is_idempotent_with_a_row_report(cli, tmp_path):
    county = f"{PREFIX}-county"
    enabled = cli("plugins", "configure", county, "oneroster", "--enable", "--set", f"id_prefix={PREFIX}")
    assert enabled.exit_code == 0, enabled.output
    bundle = tmp_path / "bundle"
    bundle.mkdir()
    (bundle / "orgs.csv").write_text(ORGS)
    (bundle / "users.csv").write_text(USERS)

    dry = cli("roster", "import", county, "--source", "oneroster", str(bundle), "--dry-run")
    assert "dry run" in dry.stdout, dry.output
    assert counts(dry.stdout)["organizations"] == [2, 0, 0, 0]
    first = cli("roster", "import", county, "--source", "oneroster", str(bundle))
    # t2 has no email (and no email_domain is set): reported by row, the rest imports.
    assert first.exit_code == 1, first.output
    assert "users.csv" in first.stdout and "row(s) not imported" in first.stdout
    assert counts(first.stdout) == {"organizations": [2, 0, 0, 0], "people": [1, 0, 0, 0],
                                    "affiliations": [1, 0, 0, 0]}, first.stdout

    archive = tmp_path / "bundle.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("export/orgs.csv", ORGS)
        zipped.writestr("export/users.csv", USERS)
    second = cli("roster", "import", county, "--source", "oneroster", str(archive))
    assert counts(second.stdout) == {"organizations": [0, 0, 2, 0], "people": [0, 0, 1, 0],
                                     "affiliations": [0, 0, 1, 0]}, second.stdout

    unreadable = cli("roster", "import", county, "--source", "oneroster", str(tmp_path / "nothing-here"))
    assert unreadable.exit_code == 2


def test_a_bundle_over_grpcs_default_4_mib_imports_and_a_missing_file_is_row_0(cli, tmp_path):
    # gRPC receives at most 4 MiB unless told otherwise: such an import used to fail (500, then 429).
    county = f"{PREFIX}-county"
    enabled = cli("plugins", "configure", county, "oneroster", "--enable", "--set", f"id_prefix={PREFIX}")
    assert enabled.exit_code == 0, enabled.output
    bundle = tmp_path / "large"
    bundle.mkdir()
    (bundle / "orgs.csv").write_text(ORGS)
    (bundle / "users.csv").write_text(USERS)
    (bundle / "courses.csv").write_text("sourcedId,title\n" + "c,Algebra\n" * ((5 << 20) // 10))  # ignored
    assert sum(f.stat().st_size for f in bundle.iterdir()) > (5 << 20)
    large = cli("roster", "import", county, "--source", "oneroster", str(bundle), "--dry-run")
    assert "dry run" in large.stdout, large.output
    assert counts(large.stdout)["organizations"][3] == 0

    (bundle / "orgs.csv").unlink()
    missing = cli("roster", "import", county, "--source", "oneroster", str(bundle), "--dry-run")
    assert missing.exit_code == 1, missing.output
    assert any("orgs.csv" in line and "│ 0 " in line and "missing" in line for line in missing.stdout.splitlines()), \
        missing.stdout
