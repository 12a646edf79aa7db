"""`copnet surveys`: teacher efficacy surveys from the command line (through the gateway):
instruments, administering one to a program, suppressed reports and pre/post comparisons."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from copnet.cli.common import GatewayOption, TokenOption, call_gateway, fail, print_table

app = typer.Typer(help="Teacher surveys: instruments, administrations, suppressed reports.", no_args_is_help=True)
# A withheld figure (fewer respondents than the region's minimum cell) prints as this.
WITHHELD = "*"
DEFINITION_MAX_BYTES = 256 * 1024
BreakdownOption = Annotated[str | None, typer.Option("--by", help="community, county or region.")]
JsonOption = Annotated[bool, typer.Option("--json", help="Print the API's JSON instead of tables.")]


def shown(value, digits: int = 2) -> str:
    if value is None:
        return WITHHELD
    return f"{value:.{digits}f}" if isinstance(value, float) else str(value)


@app.command()
def instruments(
    instrument_id: Annotated[str | None, typer.Argument(help="Show this instrument's items.")] = None,
    version: Annotated[int, typer.Option(help="Its version (0: the latest).")] = 0,
    owner: Annotated[str | None, typer.Option(help="Only this region's instruments.")] = None,
    gateway: GatewayOption = None,
    token: TokenOption = None,
) -> None:
    """The instruments (every version), or one instrument's items."""
    if instrument_id:
        found = call_gateway("surveys instruments", gateway, token,
                             lambda api: api.get(f"/survey-instruments/{instrument_id}", version=version))
        labels = ", ".join(f"{n}={label}" for n, label in enumerate(found["scale_labels"], start=1))
        print_table(f"{found['name']} ({found['id']} v{found['version']}; {labels})",
                    ("item", "subscale", "reverse", "text"),
                    [[i["id"], i["subscale"] or "-", "yes" if i["reverse_scored"] else "", i["text"]]
                     for i in found["items"]])
        typer.echo(f"source: {found['source']}")
        return
    items = call_gateway("surveys instruments", gateway, token,
                         lambda api: list(api.pages("/survey-instruments", owner_organization_id=owner)))
    print_table(f"survey instruments ({len(items)})",
                ("id", "version", "name", "items", "points", "owner", "administered"),
                [[i["id"], str(i["version"]), i["name"], str(len(i["items"])), str(i["scale_points"]),
                  i["owner_organization_id"] or "built-in", "yes" if i["administered"] else "no"] for i in items])


@app.command()
def define(
    definition: Annotated[Path, typer.Argument(help="A JSON file shaped like POST /api/v1/survey-instruments.")],
    gateway: GatewayOption = None,
    token: TokenOption = None,
) -> None:
    """Define a region's own instrument (or its next version) from a JSON file."""
    try:
        if definition.stat().st_size > DEFINITION_MAX_BYTES:
            raise fail(f"copnet surveys define: {definition} is larger than {DEFINITION_MAX_BYTES} bytes", 2)
        body = json.loads(definition.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise fail(f"copnet surveys define: cannot read {definition}: {error}", 2) from None
    made = call_gateway("surveys define", gateway, token, lambda api: api.post("/survey-instruments", body))
    typer.echo(f"defined {made['id']} version {made['version']} ({len(made['items'])} items)")


@app.command()
def administer(
    program_id: Annotated[str, typer.Argument(help="The program's id.")],
    phase: Annotated[str, typer.Option(help="pre or post.")],
    opens: Annotated[str, typer.Option(help="RFC 3339 instant, e.g. 2026-09-01T00:00:00-07:00.")],
    closes: Annotated[str, typer.Option(help="RFC 3339 instant after --opens.")],
    instrument: Annotated[str, typer.Option(help="The instrument's id.")] = "math-teaching-efficacy",
    version: Annotated[int, typer.Option(help="Its version (0: the latest).")] = 0,
    administration_id: Annotated[str | None, typer.Option("--id", help="Choose the administration's id.")] = None,
    gateway: GatewayOption = None,
    token: TokenOption = None,
) -> None:
    """Give an instrument to a program's participants, pre or post (the program's managers)."""
    body = {"phase": phase, "instrument_id": instrument, "instrument_version": version, "opens_at": opens,
            "closes_at": closes, **({"id": administration_id} if administration_id else {})}
    made = call_gateway("surveys administer", gateway, token,
                        lambda api: api.post(f"/programs/{program_id}/survey-administrations", body))
    typer.echo(f"administration {made['id']}: {made['instrument_id']} v{made['instrument_version']} "
               f"({made['phase']}) for {made['program_id']}, open {made['opens_at']} to {made['closes_at']}")


@app.command()
def close(
    administration_id: Annotated[str, typer.Argument(help="The administration's id.")],
    gateway: GatewayOption = None,
    token: TokenOption = None,
) -> None:
    """Stop taking answers now (the program's managers): the report shows means from then on."""
    closed = call_gateway("surveys close", gateway, token,
                          lambda api: api.post(f"/survey-administrations/{administration_id}/close", {}))
    typer.echo(f"administration {closed['id']} closed at {closed['closes_at']}")


@app.command()
def report(
    administration_id: Annotated[str, typer.Argument(help="The administration's id.")],
    by: BreakdownOption = None,
    as_json: JsonOption = False,
    gateway: GatewayOption = None,
    token: TokenOption = None,
) -> None:
    """An administration's suppressed report ("*": withheld, fewer respondents than the minimum cell)."""
    found = call_gateway("surveys report", gateway, token, lambda api: api.get(
        f"/survey-administrations/{administration_id}/report", **({"breakdown": by} if by else {})))
    if as_json:
        typer.echo(json.dumps(found, indent=2))
        return
    typer.echo(f"{administration_id}: {shown(found['respondents'])} respondents "
               f"(figures over fewer than {found['min_cell']} are withheld: {WITHHELD})")
    if found["collecting"]:
        typer.echo("still taking answers: means are shown once the survey closes")
    print_table("subscales", ("subscale", "mean", "sd"),
                [[s["subscale"], shown(s["mean"]), shown(s["standard_deviation"])] for s in found["subscales"]])
    print_table("items", ("item", "subscale", "mean", "sd", "answers per point"),
                [[i["item_id"], i["subscale"] or "-", shown(i["mean"]), shown(i["standard_deviation"]),
                  " ".join(f"{c['point']}:{shown(c['respondents'])}" for c in i["distribution"])]
                 for i in found["items"]])
    if found["groups"]:
        codes = [s["subscale"] for s in found["subscales"]] or [s["subscale"] for s in found["groups"][0]["subscales"]]
        print_table(f"by {found['breakdown']}", ("group", "respondents", *codes),
                    [[g["group_id"], shown(g["respondents"]), *(shown(s["mean"]) for s in g["subscales"])]
                     for g in found["groups"]])


@app.command()
def compare(
    program_id: Annotated[str, typer.Argument(help="The program's id.")],
    instrument: Annotated[str | None, typer.Option(help="Needed when several instruments were given.")] = None,
    by: BreakdownOption = None,
    as_json: JsonOption = False,
    gateway: GatewayOption = None,
    token: TokenOption = None,
) -> None:
    """Pre to post of a program's year: change of the means and Hedges' g, where both are shown."""
    query = {**({"breakdown": by} if by else {}), **({"instrument_id": instrument} if instrument else {})}
    found = call_gateway("surveys compare", gateway, token,
                         lambda api: api.get(f"/programs/{program_id}/survey-comparison", **query))
    if as_json:
        typer.echo(json.dumps(found, indent=2))
        return
    typer.echo(f"{program_id}: {shown(found['pre_respondents'])} respondents pre, "
               f"{shown(found['post_respondents'])} post ({found['instrument_id']} v{found['instrument_version']})")
    columns = ("key", "pre", "post", "change", "hedges g")
    print_table("subscales", columns, [change_row(c) for c in found["subscales"]])
    print_table("items", columns, [change_row(c) for c in found["items"]])
    for group in found["groups"]:
        print_table(f"{group['group_id']} ({shown(group['pre_respondents'])} pre, "
                    f"{shown(group['post_respondents'])} post)", columns,
                    [change_row(c) for c in group["subscales"]])


def change_row(change: dict) -> list[str]:
    return [change["key"], shown(change["pre_mean"]), shown(change["post_mean"]), shown(change["difference"]),
            shown(change["effect_size"])]
