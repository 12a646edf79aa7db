"""`copnet participation`: data reflection's participation and retention from the command line
(through the gateway). Every count is suppressed by the service; a withheld figure prints as "*"."""

from __future__ import annotations

from typing import Annotated

import typer

from copnet.cli.common import GatewayOption, TokenOption, call_gateway, print_table

app = typer.Typer(help="Data reflection: participation (teachers reached, attendance, hours) and retention.",
                  no_args_is_help=True)

WITHHELD = "*"
Organization = Annotated[str, typer.Argument(help="The organization (id).")]
Year = Annotated[str | None, typer.Option("--year", help="A program year, e.g. 2026-27 (default: the latest).")]


def shown(value, withheld: bool) -> str:
    if withheld:
        return WITHHELD
    if value is None:
        return "-"
    if isinstance(value, dict):
        return value.get("text") or "-"
    return f"{value:g}" if isinstance(value, float) else str(value)


PARTICIPATION_COLUMNS = ("scope", "level", "year", "teachers reached", "schools reached", "districts reached",
                         "attendance %", "learning hours")


def participation_row(figures: dict) -> list[str]:
    withheld = figures["withheld"]
    return [figures["scope_id"], figures["level"], figures["program_year"],
            *(shown(figures[name], withheld) for name in ("teachers_reached", "schools_reached", "districts_reached",
                                                          "attendance_rate", "learning_hours"))]


@app.command("show")
def show(organization: Organization, year: Year = None,
         children: Annotated[bool, typer.Option("--children", help="Also the organization's children.")] = False,
         community: Annotated[bool, typer.Option("--community", help="ORG names a community.")] = False,
         gateway: GatewayOption = None, token: TokenOption = None) -> None:
    """Teachers reached, schools and districts reached, attendance rate and professional-learning
    hours of an organization (or, with --community, a community) for a program year."""
    path = f"/communities/{organization}/participation-summary" if community else \
        f"/orgs/{organization}/participation"
    query = {"program_year": year} if year else {}
    if children and not community:
        query["include_children"] = "true"
    found = call_gateway("participation show", gateway, token, lambda client: client.get(path, **query))
    rows = [participation_row(found["figures"]), *(participation_row(c) for c in found["children"])]
    print_table(f"participation of {organization} (* = withheld: fewer than {found['min_cell']} teachers, or "
                "protecting such a count)", PARTICIPATION_COLUMNS, rows)


@app.command("retention")
def retention(organization: Organization, year: Year = None,
              community: Annotated[bool, typer.Option("--community", help="ORG names a community.")] = False,
              gateway: GatewayOption = None, token: TokenOption = None) -> None:
    """Of each program year's participants, how many still teach at a school the next year."""
    path = f"/communities/{organization}/retention" if community else f"/orgs/{organization}/retention"
    query = {"program_year": year} if year else {}
    found = call_gateway("participation retention", gateway, token, lambda client: client.get(path, **query))
    rows = [[y["program_year"], *(shown(y[name], y["withheld"]) for name in (
        "participants", "retained", "not_retained", "not_yet_known", "retention_rate"))] for y in found["years"]]
    print_table(f"retention of {organization} (* = withheld: fewer than {found['min_cell']}, or protecting such a "
                "count)", ("year", "participants", "retained", "not retained", "not yet known", "retention %"), rows)
