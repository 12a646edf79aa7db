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
from copnet.cli.common import GatewayOption, TokenOption, describe_error, fail, print_table, settings_or_exit

app = typer.Typer(help="The statewide hub: links, reach, participation, measures and gaps, trends, catalog, "
                       "directory and inquiry cycles.", no_args_is_help=True)

WITHHELD = "*"
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
