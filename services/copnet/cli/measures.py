"""`copnet measures`: data reflection's measures from the command line (through the gateway).
Every figure is suppressed by the service; a withheld cell prints as "*"."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from copnet.cli.common import GatewayOption, TokenOption, call_gateway, print_table

app = typer.Typer(help="Data reflection: measures (suppressed), growth, effect sizes, metrics.",
                  no_args_is_help=True)

WITHHELD = "*"
Organization = Annotated[str, typer.Argument(help="The organization (id).")]
Children = Annotated[bool, typer.Option("--children", help="Also every organization below it.")]
Groups = Annotated[list[str] | None, typer.Option("--group", help="A student group (repeatable), e.g. el.")]
Grades = Annotated[list[str] | None, typer.Option("--grade", help="A grade (repeatable): K, 1 .. 12 or all.")]
Tests = Annotated[list[str] | None, typer.Option("--test", help="A test (repeatable), e.g. sbac-math.")]
Years = Annotated[list[str] | None, typer.Option("--year", help="A school year (repeatable), e.g. 2024-25.")]
Windows = Annotated[list[str] | None, typer.Option("--window", help="fall, winter or spring (repeatable).")]


def _filters(organization: str, children: bool, groups, grades, tests, years, windows) -> dict:
    return {"organization_id": organization, "include_children": "true" if children else None,
            "student_groups": groups or [], "grades": grades or [], "tests": tests or [], "school_years": years or [],
            "windows": windows or []}


def shown(value, withheld: bool = False) -> str:
    """A figure as printed: "*" when withheld, "-" when it does not apply."""
    if withheld:
        return WITHHELD
    if value is None:
        return "-"
    return f"{value:g}" if isinstance(value, float) else str(value)


def percent(figure: dict | None, withheld: bool) -> str:
    return WITHHELD if withheld else (figure or {}).get("text") or "-"


def cell_row(cell: dict) -> list[str]:
    withheld = cell["withheld"]
    levels = cell["percent_at_level"] or [None] * 4
    gap = cell.get("gap")
    gap_points = "" if gap is None else shown(gap["percent_met_points"], gap["withheld"])
    gap_dfs = "" if gap is None else shown(gap["distance_from_standard_points"], gap["withheld"])
    return [cell["organization_id"], cell["student_group"], cell["grade"], cell["test"], cell["school_year"],
            cell["window"], shown(cell["students_tested"], withheld), shown(cell["mean_scale_score"], withheld),
            *(percent(level, withheld) for level in levels), percent(cell["percent_met_or_exceeded"], withheld),
            shown(cell["distance_from_standard"], withheld), gap_points, gap_dfs]


@app.command("query")
def query(organization: Organization, children: Children = False, group: Groups = None, grade: Grades = None,
          test: Tests = None, year: Years = None, window: Windows = None,
          reference_group: Annotated[str | None, typer.Option(help="Gaps to this group (default all).")] = None,
          baselines: Annotated[bool, typer.Option("--baselines", help="Also the state's research file.")] = False,
          gateway: GatewayOption = None, token: TokenOption = None) -> None:
    """Measure cells: students tested, mean scale score, % per level, % met, distance from standard
    and the gap to the reference group."""
    filters = _filters(organization, children, group, grade, test, year, window)

    def work(client):
        cells, found_baselines, token_ = [], [], ""
        while True:
            page = client.get("/measures", **filters, reference_group=reference_group,
                              include_baselines="true" if baselines and not token_ else None, page_token=token_)
            cells += page["items"]
            found_baselines += page["baselines"]
            token_ = page["next_page_token"]
            if not token_:
                return cells, found_baselines, page["min_cell"]

    cells, found_baselines, min_cell = call_gateway("measures query", gateway, token, work)
    print_table(f"measures of {organization} ({len(cells)} cells; * = withheld, fewer than {min_cell} students "
                "or protecting such a cell)",
                ("organization", "group", "grade", "test", "year", "window", "tested", "mean", "% L1", "% L2", "% L3",
                 "% L4", "% met", "DFS", "gap pp", "gap DFS"), [cell_row(c) for c in cells])
    if found_baselines:
        print_table("state research file (* = suppressed by the state)",
                    ("entity", "level", "group", "grade", "test", "year", "tested", "mean", "% met"),
                    [[b["entity_code"], b["entity_level"], b["student_group"], b["grade"], b["test"], b["school_year"],
                      shown(b["students_tested"], b["suppressed_by_source"]),
                      shown(b["mean_scale_score"], b["suppressed_by_source"]),
                      percent(b["percent_met_or_exceeded"], b["suppressed_by_source"])] for b in found_baselines])


@app.command("export")
def export(organization: Organization, children: Children = False, group: Groups = None, grade: Grades = None,
           test: Tests = None, year: Years = None, window: Windows = None,
           output: Annotated[Path | None, typer.Option(help="Write the CSV here (default: standard output).")] = None,
           gateway: GatewayOption = None, token: TokenOption = None) -> None:
    """The suppressed CSV export (withheld cells "*", coded percentages as coded)."""
    filters = _filters(organization, children, group, grade, test, year, window)
    text = call_gateway("measures export", gateway, token,
                        lambda client: client.text("/measures", "text/csv", **filters, format="csv"))
    if output is None:
        typer.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")
        typer.echo(f"wrote {text.count(chr(10)) - 1} cells to {output}", err=True)


@app.command("growth")
def growth(organization: Organization, children: Children = False, group: Groups = None, grade: Grades = None,
           test: Tests = None,
           from_year: Annotated[str | None, typer.Option(help="The earlier school year.")] = None,
           from_window: Annotated[str | None, typer.Option(help="The earlier window.")] = None,
           to_year: Annotated[str | None, typer.Option(help="The later school year.")] = None,
           to_window: Annotated[str | None, typer.Option(help="The later window.")] = None,
           gateway: GatewayOption = None, token: TokenOption = None) -> None:
    """Change of the same students between two windows or years."""
    filters = _filters(organization, children, group, grade, test, None, None)
    del filters["school_years"], filters["windows"]
    cells = call_gateway("measures growth", gateway, token, lambda client: list(client.pages(
        "/measures/growth", **filters, from_school_year=from_year, from_window=from_window, to_school_year=to_year,
        to_window=to_window)))
    print_table(f"growth in {organization} ({len(cells)} cells; * = withheld)",
                ("organization", "group", "grade", "test", "from", "to", "students", "mean change", "sd"),
                [[c["organization_id"], c["student_group"], c["grade"], c["test"],
                  f"{c['from_school_year']} {c['from_window']}", f"{c['to_school_year']} {c['to_window']}",
                  shown(c["students"], c["withheld"]), shown(c["mean_change"], c["withheld"]),
                  shown(c["change_standard_deviation"], c["withheld"])] for c in cells])


@app.command("effect-size")
def effect_size(community: Annotated[str | None, typer.Option(help="A community (id).")] = None,
                program: Annotated[str | None, typer.Option(help="A program (id).")] = None,
                test: Tests = None, year: Years = None, window: Windows = None,
                group: Annotated[str | None, typer.Option(help="A student group (default all).")] = None,
                gateway: GatewayOption = None, token: TokenOption = None) -> None:
    """Hedges' g of participants' students against comparable students, with its 95 % CI."""
    if bool(community) == bool(program):
        raise typer.BadParameter("give --community or --program (one of them)")
    path = f"/communities/{community}/effect-size" if community else f"/programs/{program}/effect-size"
    found = call_gateway("measures effect-size", gateway, token, lambda client: client.get(
        path, tests=test or [], school_years=year or [], windows=window or [], student_group=group))
    rows = []
    for e in found["items"]:
        w = e["withheld"]
        ci = WITHHELD if w else f"[{shown(e['ci_low'])}, {shown(e['ci_high'])}]"
        rows.append([e["test"], e["school_year"], e["window"], ",".join(e["grades"]), e["outcome"],
                     shown(e["participant_students"], w), shown(e["participant_teachers"], w),
                     shown(e["comparison_students"], w), shown(e["comparison_teachers"], w),
                     shown(e["hedges_g"], w), ci, e.get("withheld_reason") or ""])
    print_table(f"effect size of {community or program} (* = withheld)",
                ("test", "year", "window", "grades", "outcome", "students", "teachers", "comparison students",
                 "comparison teachers", "g", "95% CI", "note"), rows)


@app.command("metrics")
def metrics(organization: Organization,
            compute: Annotated[str | None, typer.Option(help="Compute this metric (its key).")] = None,
            children: Children = False, group: Groups = None, grade: Grades = None, test: Tests = None,
            year: Years = None, window: Windows = None, gateway: GatewayOption = None,
            token: TokenOption = None) -> None:
    """The reflection metrics plugins add; with --compute, one computed over published cells."""
    if compute is None:
        listed = call_gateway("measures metrics", gateway, token,
                              lambda client: client.get("/reflection-metrics", organization_id=organization))
        print_table(f"reflection metrics at {organization}", ("key", "title", "plugin", "description"),
                    [[m["key"], m["title"], m["plugin"], m["description"]] for m in listed["items"]])
        return
    filters = _filters(organization, children, group, grade, test, year, window)
    result = call_gateway("measures metrics", gateway, token,
                          lambda client: client.get(f"/reflection-metrics/{compute}", **filters))
    print_table(f"{result['metric']['title']} ({result['cells']} published cells)",
                ("organization", "label", "value", "note"),
                [[v["organization_id"], v["label"], shown(v["value"]), v["note"]] for v in result["values"]])
