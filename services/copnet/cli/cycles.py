"""`copnet cycles`: inquiry cycles from the command line (through the gateway): a community's
cycles, one cycle's goal, plan, evidence, snapshot and reflection, starting one, adding evidence,
advancing it, changing its parts from a JSON file, and counts of cycles under an organization."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from copnet.cli.common import (
    GatewayOption,
    TokenOption,
    call_gateway,
    fail,
    print_table,
)

app = typer.Typer(help="Data reflection: cycles of inquiry (set goals, plan, act, assess, reflect & adjust).",
                  no_args_is_help=True)
JsonOption = Annotated[bool, typer.Option("--json", help="Print the API's JSON instead of tables.")]
FILE_MAX_BYTES = 256 * 1024
# A withheld or coded figure prints as its text, or this.
WITHHELD = "*"


def figure_text(figure: dict | None) -> str:
    if not figure:
        return "-"
    if figure["state"] == "published":
        return f"{figure['value']:g}"
    if figure["state"] == "coded":
        return figure["text"]
    return WITHHELD if figure["state"] == "withheld" else "no data"


def goal_line(goal: dict | None) -> str:
    if not goal:
        return "no goal yet"
    f = goal["filter"]
    return (f"{goal['measure']} of {f['student_group']} in grade {f['grade']} at {f['organization_id']} "
            f"({f['test']}, {f['school_year']} {f['window']}): baseline {figure_text(goal['baseline'])}, "
            f"target {goal['target_value']:g} by {goal['target_time'][:10]}")


@app.command("list")
def list_cycles(
    community_id: Annotated[str, typer.Argument(help="The community's id.")],
    team: Annotated[str | None, typer.Option(help="A team's cycles instead of the community's own.")] = None,
    gateway: GatewayOption = None,
    token: TokenOption = None,
) -> None:
    """The community's (or a team's) cycles."""
    items = call_gateway("cycles list", gateway, token, lambda api: list(api.pages(
        f"/communities/{community_id}/inquiry-cycles", team_id=team or "")))
    print_table(f"inquiry cycles of {team or community_id} ({len(items)})",
                ("id", "title", "stage", "year", "outcome", "goal"),
                [[c["id"], c["title"] or "-", c["stage"], c["program_year"],
                  (c["snapshot"] or {}).get("outcome") or "-", goal_line(c["goal"])] for c in items])


@app.command()
def show(
    cycle_id: Annotated[str, typer.Argument(help="The cycle's id.")],
    as_json: JsonOption = False,
    gateway: GatewayOption = None,
    token: TokenOption = None,
) -> None:
    """One cycle: goal, plan, evidence, frozen snapshot and reflection."""
    cycle = call_gateway("cycles show", gateway, token, lambda api: api.get(f"/inquiry-cycles/{cycle_id}"))
    if as_json:
        typer.echo(json.dumps(cycle, indent=2))
        return
    typer.echo(f"{cycle['title'] or cycle['id']} — stage {cycle['stage']} ({cycle['program_year']})")
    typer.echo(f"goal: {goal_line(cycle['goal'])}")
    print_table("plan", ("action", "owner", "due", "sessions", "done"),
                [[a["text"], a["owner_person_id"] or "-", (a["due_time"] or "-")[:10], ", ".join(a["session_ids"]),
                  "yes" if a["done"] else ""] for a in cycle["actions"]])
    print_table("evidence", ("when", "author", "note", "link"),
                [[(e["create_time"] or "")[:10], e["author_person_id"], e["note"][:60], e["url"] or e["resource_id"]]
                 for e in cycle["evidence"]])
    snapshot = cycle["snapshot"]
    if snapshot:
        typer.echo(f"snapshot {snapshot['freeze_time'][:16]}: assessed {figure_text(snapshot['assessed'])}, "
                   f"goal {snapshot['outcome']}")
    for answer in cycle["reflection"]["answers"]:
        typer.echo(f"{answer['prompt_key']}: {answer['text']}")
    if cycle["reflection"]["next_changes"]:
        typer.echo(f"next cycle: {cycle['reflection']['next_changes']}")


@app.command()
def create(
    community_id: Annotated[str, typer.Argument(help="The community's id.")],
    title: Annotated[str, typer.Option(help="The cycle's title.")] = "",
    team: Annotated[str | None, typer.Option(help="A team's cycle.")] = None,
    goal_file: Annotated[Path | None, typer.Option("--goal", help="A JSON file shaped like the goal of "
                                                                  "POST /api/v1/communities/{id}/inquiry-cycles.")] = None,
    cycle_id: Annotated[str | None, typer.Option("--id", help="Choose the cycle's id.")] = None,
    gateway: GatewayOption = None,
    token: TokenOption = None,
) -> None:
    """Start a cycle (in set_goals), optionally with its goal."""
    body: dict = {"title": title}
    if team:
        body["team_id"] = team
    if cycle_id:
        body["id"] = cycle_id
    if goal_file is not None:
        body["goal"] = read_json(goal_file, "cycles create")
    made = call_gateway("cycles create", gateway, token,
                        lambda api: api.post(f"/communities/{community_id}/inquiry-cycles", body))
    typer.echo(f"started {made['id']}: {goal_line(made['goal'])}")


@app.command()
def update(
    cycle_id: Annotated[str, typer.Argument(help="The cycle's id.")],
    changes: Annotated[Path, typer.Argument(help="A JSON file shaped like PATCH /api/v1/inquiry-cycles/{id} "
                                                 "(title, goal, plan, reflection).")],
    gateway: GatewayOption = None,
    token: TokenOption = None,
) -> None:
    """Change a cycle's title, goal, plan or reflection from a JSON file."""
    body = read_json(changes, "cycles update")
    changed = call_gateway("cycles update", gateway, token, lambda api: api.patch(f"/inquiry-cycles/{cycle_id}", body))
    typer.echo(f"{changed['id']} changed (revision {changed['revision']})")


@app.command()
def evidence(
    cycle_id: Annotated[str, typer.Argument(help="The cycle's id.")],
    note: Annotated[str, typer.Option(help="What you saw or did.")] = "",
    url: Annotated[str, typer.Option(help="An http(s) link.")] = "",
    resource: Annotated[str, typer.Option(help="A resource id of the community's library.")] = "",
    gateway: GatewayOption = None,
    token: TokenOption = None,
) -> None:
    """Add evidence while the cycle acts or assesses."""
    added = call_gateway("cycles evidence", gateway, token, lambda api: api.post(
        f"/inquiry-cycles/{cycle_id}/evidence", {"note": note, "url": url, "resource_id": resource}))
    typer.echo(f"evidence {added['evidence']['id']} added ({len(added['cycle']['evidence'])} in the cycle)")


@app.command()
def advance(
    cycle_id: Annotated[str, typer.Argument(help="The cycle's id.")],
    to_stage: Annotated[str, typer.Argument(help="The next stage (plan, act, assess, reflect, closed) or "
                                                 "abandoned.")],
    reason: Annotated[str, typer.Option(help="Abandoning: why.")] = "",
    start_next: Annotated[bool, typer.Option("--next", help="Closing: start the next cycle with the goal.")] = False,
    gateway: GatewayOption = None,
    token: TokenOption = None,
) -> None:
    """Move the cycle to its next stage (assess freezes the snapshot), or abandon it."""
    body = {"to_stage": to_stage, "abandon_reason": reason, "start_next_cycle": start_next}
    moved = call_gateway("cycles advance", gateway, token,
                         lambda api: api.post(f"/inquiry-cycles/{cycle_id}/advance", body))
    cycle = moved["cycle"]
    typer.echo(f"{cycle['id']} is now {cycle['stage']}")
    if cycle["snapshot"] and to_stage == "assess":
        typer.echo(f"snapshot frozen: assessed {figure_text(cycle['snapshot']['assessed'])}, "
                   f"goal {cycle['snapshot']['outcome']}")
    if moved["next_cycle"]:
        typer.echo(f"next cycle {moved['next_cycle']['id']} started")


@app.command()
def counts(
    organization_id: Annotated[str, typer.Argument(help="The organization's id.")],
    year: Annotated[str, typer.Option(help="A program year such as 2025-26 (default: every year).")] = "",
    gateway: GatewayOption = None,
    token: TokenOption = None,
) -> None:
    """Counts of cycles under an organization: run, per stage, goals met and not met."""
    found = call_gateway("cycles counts", gateway, token, lambda api: api.get(
        f"/orgs/{organization_id}/inquiry-cycle-counts", program_year=year))
    names = ("cycles", "set_goals", "plan", "act", "assess", "reflect", "closed", "abandoned", "goals_met",
             "goals_not_met", "goals_cannot_tell")
    print_table(f"inquiry cycles under {organization_id} ({year or 'every year'})", names,
                [[str(found[n]) for n in names]])


def read_json(path: Path, command: str) -> dict:
    try:
        if path.stat().st_size > FILE_MAX_BYTES:
            raise fail(f"copnet {command}: {path} is larger than {FILE_MAX_BYTES} bytes", 2)
        body = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise fail(f"copnet {command}: cannot read {path}: {error}", 2) from None
    if not isinstance(body, dict):
        raise fail(f"copnet {command}: {path} must hold a JSON object", 2)
    return body
