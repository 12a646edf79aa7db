"""`copnet communities ...`: communities and their rosters from the command line."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from copnet.cli.common import GatewayOption, TokenOption, call_gateway

app = typer.Typer(help="Communities: list them, show a roster.", no_args_is_help=True)


@app.command("list")
def list_communities(
    program: Annotated[str | None, typer.Option(help="Only communities of this program (id).")] = None,
    status: Annotated[str | None, typer.Option(help="draft, open, closed, active or completed.")] = None,
    host: Annotated[str | None, typer.Option(help="Only communities hosted by this organization (id).")] = None,
    kind: Annotated[str | None, typer.Option(help="plc, math_team, cross_district_team, equity_cohort, "
                                                  "lesson_study, leadership or network.")] = None,
    gateway: GatewayOption = None,
    token: TokenOption = None,
) -> None:
    """Communities with their status and seats (every page)."""
    items = fetch_all("/communities", gateway, token, program_id=program, status=status,
                      host_organization_id=host, kind=kind)
    table = Table(title=f"communities ({len(items)})")
    for column in ("id", "name", "kind", "status", "host", "program"):
        table.add_column(column)
    for column in ("capacity", "confirmed", "waitlisted", "available"):
        table.add_column(column, justify="right")
    for item in items:
        seats = item["seats"]
        table.add_row(item["id"], item["name"], item["kind"], item["status"], item["host_organization_id"],
                      item.get("program_id") or "-", str(seats["capacity"]), str(seats["confirmed"]),
                      str(seats["waitlisted"]), str(seats["available"]))
    Console().print(table)


@app.command()
def roster(
    community_id: Annotated[str, typer.Argument(help="The community's id.")],
    gateway: GatewayOption = None,
    token: TokenOption = None,
) -> None:
    """A community's registrations (for its facilitators and community managers)."""
    items = fetch_all(f"/communities/{community_id}/registrations", gateway, token)
    table = Table(title=f"roster of {community_id} ({len(items)})")
    for column in ("person", "status", "waitlist position", "commitment acknowledged", "onboarding done"):
        table.add_column(column)
    for item in items:
        table.add_row(item["person_id"], item["status"], str(item.get("waitlist_position") or "-"),
                      yes_no(item.get("commitment_acknowledged_at")), yes_no(item.get("onboarding_completed_at")))
    Console().print(table)


def fetch_all(path: str, gateway: str | None, token: str | None, **query) -> list[dict]:
    """Every item of a paged list; exit 1 with the gateway's problem when it refuses."""
    return call_gateway("communities", gateway, token, lambda api: list(api.pages(path, **query)))


def yes_no(moment: str | None) -> str:
    return moment if moment else "no"
