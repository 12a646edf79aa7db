"""`copnet statewide`: the statewide hub's views from the command line, through the hub's gateway
(docs/federation.md). Figures are suppressed by the regions before they leave; a withheld one
prints as "*", and the CSV export writes "*" too.

Point it at the hub with --gateway (or COPNET_HOST/COPNET_GATEWAY_PORT of a hub) and act with a
hub token (--token or COPNET_TOKEN; `COPNET_INSTANCE=hub COPNET_REGION=hub copnet token issue
--role state_coordinator ...` on the hub issues one; on the hub itself the default is a
short-lived platform_admin token as for every command). The catalog and the directory are public:
without a token of your own they are asked anonymously.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

from copnet import stack as stack_module
from copnet.cli.common import (
    GatewayOption,
    describe_error,
    fail,
    print_table,
    settings_or_exit,
)

app = typer.Typer(help="The statewide hub: links, reach, participation, measures and gaps, trends, catalog, "
                       "directory and inquiry cycles.", no_args_is_help=True)

WITHHELD = "*"
TokenOption = Annotated[str | None, typer.Option(
    help="A token of the hub to act with (default $COPNET_TOKEN; on the hub itself, a short-lived platform_admin "
         "token of it). The catalog and directory need none.")]
Region = Annotated[str | None, typer.Option("--region", help="Only this region's (default: every region's).")]


def hub_client(gateway: str | None, token: str | None, *, public: bool = False):
    """A REST client for the hub's gateway: `token`, else $COPNET_TOKEN, else (a hub's own settings)
    a short-lived platform_admin token of the hub; a public read without any goes anonymous."""
    from copnet.api_client import ApiClient
    from copnet.cli.common import issuer_of, seed_token

    settings = settings_or_exit()
    url = (gateway or stack_module.gateway_url(settings)).rstrip("/")
    token = token or os.environ.get("COPNET_TOKEN")
    if token is None and not public and settings.instance == "hub":
        token = seed_token(issuer_of(settings))
    return ApiClient(url, token)


def call_hub(command: str, gateway: str | None, token: str | None, work, *, public: bool = False):
    """`work(client)` against the hub; exit 1 with the gateway's problem (or why it cannot be reached)."""
    from copnet.api_client import ApiError, GatewayUnreachable

    client = hub_client(gateway, token, public=public)
    try:
        return work(client)
    except (ApiError, GatewayUnreachable) as error:
        raise fail(f"copnet statewide {command}: {describe_error(error)}", 1) from None


def shown(value, withheld: bool = False) -> str:
    """A figure as printed: "*" when withheld, "-" when absent."""
    if withheld:
        return WITHHELD
    if value is None:
        return "-"
    if isinstance(value, dict):  # a percentage as coded ("42.1", "≤5")
        return value.get("text") or "-"
    return f"{value:g}" if isinstance(value, float) else str(value)


def write_or_print(text: str, output: Path | None, what: str) -> None:
    if output is None:
        typer.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")
        typer.echo(f"wrote {max(text.count(chr(10)) - 1, 0)} {what} to {output}", err=True)


# -- the links ------------------------------------------------------------------------------------

@app.command("regions")
def regions(gateway: GatewayOption = None, token: TokenOption = None) -> None:
    """Every linked region: its instance, records applied, the last arrival and refusals."""
    found = call_hub("regions", gateway, token, lambda client: client.get("/statewide/regions"))
    print_table("linked regions", ("region", "instance", "records applied", "last applied", "refused"),
                [[r["region"], r["public_url"] or "-", str(r["records_applied"]), r["last_applied_at"] or "-",
                  str(r["rejections"])] for r in found["items"]])


@app.command("rejections")
def rejections(region: Region = None, gateway: GatewayOption = None, token: TokenOption = None) -> None:
    """Share messages the hub refused, newest first, with the rule each broke (platform_admin)."""
    found = call_hub("rejections", gateway, token,
                     lambda client: list(client.pages("/statewide/rejections", region=region)))
    print_table(f"refused share messages ({len(found)})",
                ("received", "region", "subject", "reason", "detail", "sequence", "bytes"),
                [[r["received_at"], r["region"], r["subject"], r["reason"], r["detail"], str(r["stream_sequence"]),
                  str(r["size_bytes"])] for r in found])


# -- reach and participation ----------------------------------------------------------------------
Year = Annotated[str, typer.Option("--year", help="The program year, e.g. 2025-26.")]
Level = Annotated[str | None, typer.Option("--level", help="region (default), county_office or district.")]


def completeness(total: dict | None) -> str:
    """The statewide total's caption: complete, or which regions keep it from being so."""
    if total is None:
        return ""
    if total["complete"]:
        return "statewide: every linked region"
    parts = [f"missing {', '.join(total['missing_regions'])}" if total["missing_regions"] else "",
             f"withheld by {', '.join(total['withheld_regions'])}" if total["withheld_regions"] else ""]
    return "statewide: incomplete (" + "; ".join(filter(None, parts)) + ")"


def _rows_and_total(client, path: str, **query) -> tuple[list[dict], dict | None]:
    rows, total, token = [], None, ""
    while True:
        page = client.get(path, **query, page_token=token)
        rows += page["items"]
        total = total or page.get("statewide")
        if not (token := page["next_page_token"]):
            return rows, total


@app.command("reach")
def reach(year: Year, level: Level = None, region: Region = None, gateway: GatewayOption = None,
          token: TokenOption = None) -> None:
    """Teachers, schools and districts reached per organization, and statewide."""
    rows, total = call_hub("reach", gateway, token, lambda client: _rows_and_total(
        client, "/statewide/reach", program_year=year, level=level, region=region))
    table = [[r["region"], r["organization_name"] or r["organization_id"], r["level"],
              *(shown(r[name], r["withheld"]) for name in ("teachers_reached", "schools_reached",
                                                            "districts_reached"))] for r in rows]
    if total is not None:
        table.append(["statewide", completeness(total), "", *(shown(total[name], not total["complete"])
                                                             for name in ("teachers_reached", "schools_reached",
                                                                          "districts_reached"))])
    print_table(f"reach in {year} (* = withheld)", ("region", "organization", "level", "teachers", "schools",
                                                    "districts"), table)


@app.command("participation")
def participation(year: Year, level: Level = None, region: Region = None, gateway: GatewayOption = None,
                  token: TokenOption = None) -> None:
    """Attendance rate and professional-learning hours per organization, and statewide."""
    rows, total = call_hub("participation", gateway, token, lambda client: _rows_and_total(
        client, "/statewide/participation", program_year=year, level=level, region=region))
    table = [[r["region"], r["organization_name"] or r["organization_id"], r["level"],
              shown(r["attendance_rate"], r["withheld"]), shown(r["learning_hours"], r["withheld"]),
              shown(r["attendance_records"], r["withheld"])] for r in rows]
    if total is not None:
        table.append(["statewide", completeness(total), "", "", shown(total["learning_hours"], not total["complete"]),
                      shown(total["attendance_records"], not total["complete"])])
    print_table(f"participation in {year} (* = withheld)",
                ("region", "organization", "level", "attendance %", "PL hours", "records"), table)


# -- measures and gaps ----------------------------------------------------------------------------
Test = Annotated[str, typer.Option("--test", help="The test, e.g. sbac-math.")]
SchoolYear = Annotated[str, typer.Option("--year", help="The school year, e.g. 2025-26.")]
Window = Annotated[str, typer.Option("--window", help="fall, winter or spring.")]
MeasureLevel = Annotated[str | None, typer.Option("--level", help="region, county_office or district "
                                                                  "(default: district).")]
Output = Annotated[Path | None, typer.Option("--output", help="Write the CSV here (default: standard output).")]
CsvFlag = Annotated[bool, typer.Option("--csv", help="The suppressed CSV export instead of a table.")]


def figure_cells(figures: dict | None, withheld: bool) -> list[str]:
    if withheld or figures is None:
        return [WITHHELD if withheld else "-"] * 4
    return [shown(figures["students_tested"]), shown(figures["mean_scale_score"]),
            shown(figures["percent_met_or_exceeded"]), shown(figures["distance_from_standard"])]


@app.command("measures")
def measures(test: Test, year: SchoolYear, window: Window, level: MeasureLevel = None, region: Region = None,
             organization: Annotated[str | None, typer.Option("--organization", help="One organization (id).")] = None,
             group: Annotated[list[str] | None, typer.Option("--group", help="A student group (repeatable).")] = None,
             grade: Annotated[list[str] | None, typer.Option("--grade", help="A grade (repeatable).")] = None,
             csv: CsvFlag = False, output: Output = None, gateway: GatewayOption = None,
             token: TokenOption = None) -> None:
    """Published outcome cells across regions and districts (--csv: the suppressed export).

    Withheld figures print and export as "*"."""
    query = {"test": test, "school_year": year, "window": window, "level": level, "region": region,
             "organization_id": organization, "student_groups": group or [], "grades": grade or []}
    if csv or output is not None:
        text = call_hub("measures", gateway, token,
                        lambda client: client.text("/statewide/measures", "text/csv", **query, format="csv"))
        write_or_print(text, output, "rows")
        return
    rows, totals = call_hub("measures", gateway, token, lambda client: _measure_pages(client, query))
    table = [[r["region"], r["organization_name"] or r["organization_id"], r["level"], r["student_group"], r["grade"],
              *figure_cells(r["figures"], r["withheld"])] for r in rows]
    table += [["statewide", completeness(t), "region", t["student_group"], t["grade"],
               shown(t["students_tested"], not t["complete"]), shown(t["mean_scale_score"], not t["complete"]),
               shown(t["percent_met_or_exceeded"], not t["complete"]), ""] for t in totals]
    print_table(f"{test} {year} {window} (* = withheld)",
                ("region", "organization", "level", "group", "grade", "tested", "mean", "% met", "DFS"), table)


def _measure_pages(client, query: dict) -> tuple[list[dict], list[dict]]:
    rows, totals, token = [], [], ""
    while True:
        page = client.get("/statewide/measures", **query, page_token=token)
        rows += page["items"]
        totals = totals or page["statewide"]
        if not (token := page["next_page_token"]):
            return rows, totals


@app.command("gaps")
def gaps(test: Test, year: SchoolYear, window: Window,
         focal: Annotated[str, typer.Option("--focal", help="The group compared, e.g. english_learner.")],
         reference: Annotated[str | None, typer.Option("--reference", help="Compared to (default all).")] = None,
         grade: Annotated[str | None, typer.Option("--grade", help="The grade (default all).")] = None,
         level: MeasureLevel = None, region: Region = None, csv: CsvFlag = False, output: Output = None,
         gateway: GatewayOption = None, token: TokenOption = None) -> None:
    """The gap between two student groups per organization (--csv: the suppressed export).

    A gap is withheld ("*") when either side is."""
    query = {"test": test, "school_year": year, "window": window, "focal_group": focal,
             "reference_group": reference, "grade": grade, "level": level, "region": region}
    if csv or output is not None:
        text = call_hub("gaps", gateway, token,
                        lambda client: client.text("/statewide/measure-gaps", "text/csv", **query, format="csv"))
        write_or_print(text, output, "rows")
        return
    rows = call_hub("gaps", gateway, token, lambda client: list(client.pages("/statewide/measure-gaps", **query)))
    table = []
    for r in rows:
        gap = r["gap"]
        table.append([r["region"], r["organization_name"] or r["organization_id"], r["level"], r["grade"],
                      *figure_cells(r["focal"], r["focal_withheld"])[2:3],
                      *(figure_cells(r["reference"], r["reference_withheld"])[2:3] if r["reference_published"]
                        else ["-"]),
                      "-" if gap is None else shown(gap["percent_met_points"], gap["withheld"]),
                      "-" if gap is None else shown(gap["distance_from_standard_points"], gap["withheld"])])
    print_table(f"{focal} vs {reference or 'all'}: {test} {year} {window} (* = withheld)",
                ("region", "organization", "level", "grade", "focal % met", "reference % met", "gap pp",
                 "gap DFS"), table)


# -- trends ---------------------------------------------------------------------------------------

@app.command("trends")
def trends(region: Annotated[str, typer.Option("--region", help="The organization's region.")],
           organization: Annotated[str, typer.Option("--organization", help="The organization (id).")],
           test: Annotated[str | None, typer.Option("--test", help="A test: its measure over school years "
                                                                   "(default: reach and participation).")] = None,
           group: Annotated[str | None, typer.Option("--group", help="The student group (default all).")] = None,
           grade: Annotated[str | None, typer.Option("--grade", help="The grade (default all).")] = None,
           window: Annotated[str | None, typer.Option("--window", help="Only this window.")] = None,
           reference: Annotated[str | None, typer.Option("--reference", help="With the gap to this group.")] = None,
           gateway: GatewayOption = None, token: TokenOption = None) -> None:
    """One organization over the years: a test's measure (--test), or its reach and participation."""
    if test is None:
        found = call_hub("trends", gateway, token, lambda client: client.get(
            "/statewide/trends/participation", region=region, organization_id=organization))
        rows = []
        for point in found["points"]:
            reach_, part = point["reach"] or {}, point["participation"] or {}
            rows.append([point["program_year"],
                         *(shown(reach_.get(name), reach_.get("withheld", False))
                           for name in ("teachers_reached", "schools_reached", "districts_reached")),
                         shown(part.get("attendance_rate"), part.get("withheld", False)),
                         shown(part.get("learning_hours"), part.get("withheld", False))])
        print_table(f"{found['organization_name'] or organization} ({region}) over program years (* = withheld)",
                    ("year", "teachers", "schools", "districts", "attendance %", "PL hours"), rows)
        return
    found = call_hub("trends", gateway, token, lambda client: client.get(
        "/statewide/trends/measures", region=region, organization_id=organization, test=test, student_group=group,
        grade=grade, window=window, reference_group=reference))
    rows = [[p["school_year"], p["window"], *figure_cells(p["figures"], p["withheld"]),
             "" if p["gap"] is None else shown(p["gap"]["percent_met_points"], p["gap"]["withheld"]),
             str(p["version"])] for p in found["points"]]
    print_table(f"{found['organization_name'] or organization} ({region}): {test} over school years (* = withheld)",
                ("year", "window", "tested", "mean", "% met", "DFS", "gap pp", "version"), rows)


# -- the public catalog and directory -------------------------------------------------------------

@app.command("catalog")
def catalog(region: Region = None,
            grade_band: Annotated[str | None, typer.Option("--grade-band", help="K-2, 3-5, 6-8 or 9-12.")] = None,
            kind: Annotated[str | None, typer.Option("--kind", help="A community kind, e.g. plc.")] = None,
            open_now: Annotated[bool, typer.Option("--open", help="Only those open for sign-up now.")] = False,
            seats: Annotated[bool, typer.Option("--seats", help="Only those with a seat left.")] = False,
            gateway: GatewayOption = None, token: TokenOption = None) -> None:
    """Communities of practice from every region, each with where to join (public)."""
    found = call_hub("catalog", gateway, token, lambda client: list(client.pages(
        "/statewide/catalog", region=region, grade_band=grade_band, kind=kind,
        open_now="true" if open_now else None, seats_available="true" if seats else None)), public=True)
    print_table(f"statewide catalog ({len(found)})",
                ("region", "name", "kind", "grades", "host", "status", "seats", "join at"),
                [[e["region"], e["name"], e["kind"], ", ".join(e["grade_bands"]),
                  e["host_organization_name"] or e["host_organization_id"], e["status"],
                  f"{e['seats_available']}/{e['capacity']}", e["join_url"] or "-"] for e in found])


@app.command("organizations")
def organizations(region: Region = None,
                  kind: Annotated[str | None, typer.Option("--kind", help="e.g. district, county_office.")] = None,
                  parent: Annotated[str | None, typer.Option("--parent", help="Children of this organization.")] = None,
                  gateway: GatewayOption = None, token: TokenOption = None) -> None:
    """The regions' organization directory (public)."""
    found = call_hub("organizations", gateway, token, lambda client: list(client.pages(
        "/statewide/organizations", region=region, kind=kind, parent_id=parent)), public=True)
    print_table(f"organizations ({len(found)})", ("region", "id", "name", "kind", "parent", "code"),
                [[o["region"], o["id"], o["name"], o["kind"], o["parent_id"] or "-", o["code"] or "-"]
                 for o in found])


@app.command("cycles")
def cycles(region: Region = None,
           organization: Annotated[str | None, typer.Option("--organization", help="One organization (id).")] = None,
           year: Annotated[str | None, typer.Option("--year", help="A program year, e.g. 2025-26.")] = None,
           level: Annotated[str | None, typer.Option("--level", help="e.g. district.")] = None,
           gateway: GatewayOption = None, token: TokenOption = None) -> None:
    """Inquiry cycles open and closed per organization and program year."""
    found = call_hub("cycles", gateway, token, lambda client: list(client.pages(
        "/statewide/inquiry-cycle-counts", region=region, organization_id=organization, program_year=year,
        level=level)))
    print_table(f"inquiry cycles ({len(found)} rows)",
                ("region", "organization", "level", "year", "open", "closed", "communities"),
                [[r["region"], r["organization_name"] or r["organization_id"], r["level"], r["program_year"],
                  str(r["cycles_open"]), str(r["cycles_closed"]), str(r["communities_with_cycles"])] for r in found])
