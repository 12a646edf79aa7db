"""What every `copnet` command group shares: settings and the token issuer, the gateway client
and its options, one way to report a refusal (`fail`, `call_gateway`, `describe_error`), and how
tables and local times are printed.

Command modules import from here, never from the root command (`copnet.cli.root`), which imports
them to register their groups.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from copnet import stack as stack_module
from copnet.kernel.settings import ConfigError, Settings, load_settings

# Wide enough that rich never wraps a row of the admin tables.
TABLE_WIDTH = 220

# The options of every command that talks to the gateway (see api_client).
GatewayOption = Annotated[str | None, typer.Option(
    help="Gateway base URL (default http://COPNET_HOST:COPNET_GATEWAY_PORT).")]
TokenOption = Annotated[str | None, typer.Option(
    help="Bearer token to act with (default $COPNET_TOKEN, else a short-lived platform_admin token of this "
         "instance).")]


def fail(message: str, code: int) -> typer.Exit:
    """`message` on stderr, and the exit to raise with `code`."""
    typer.echo(message, err=True)
    return typer.Exit(code)


def settings_or_exit() -> Settings:
    try:
        return load_settings()
    except ConfigError as error:
        raise fail(f"copnet: configuration error: {error}", 2) from None


def issuer_of(settings: Settings):
    """The people's token issuer: COPNET_TOKEN_ISSUER_KEY_FILE, or the local stack's issuer key
    kept in the data directory (made on first use)."""
    from copnet.kernel import token_keys

    path = token_keys.local_key_files(settings).issuer
    if settings.token_issuer_key_file is None and not path.exists():
        typer.echo(f"copnet: no token issuer key yet; created {path} (a stack on this data directory uses it)",
                   err=True)
    try:
        return token_keys.issuer(settings)
    except ConfigError as error:
        raise fail(f"copnet: configuration error: {error}", 2) from None


def seed_token(issuer) -> str:
    """A short-lived platform_admin token of the instance signed by `issuer`."""
    from copnet import seed
    from copnet.kernel.auth import Role, issue_token

    return issue_token(issuer, seed.SEED_PERSON_ID, Role.PLATFORM_ADMIN, ttl_seconds=600)


def api_client(gateway: str | None, token: str | None):
    """A REST client for the local gateway (or `gateway`), acting with `token` when given and
    otherwise as the instance's platform admin (a short-lived token signed by its issuer key)."""
    from copnet.api_client import ApiClient

    settings = settings_or_exit()
    url = (gateway or stack_module.gateway_url(settings)).rstrip("/")
    return ApiClient(url, token or os.environ.get("COPNET_TOKEN") or seed_token(issuer_of(settings)))


def call_gateway(command: str, gateway: str | None, token: str | None, work: Callable[[Any], Any]):
    """`work(client)`; exit 1 with the gateway's problem (or why it cannot be reached)."""
    from copnet.api_client import ApiError, GatewayUnreachable

    client = api_client(gateway, token)
    try:
        return work(client)
    except (ApiError, GatewayUnreachable) as error:
        raise fail(f"copnet {command}: {describe_error(error)}", 1) from None


def describe_error(error) -> str:
    """An ApiError as `status reason: detail (field: message; ...)`; anything else as its text."""
    problem = getattr(error, "problem", None)
    if problem is None:
        return str(error)
    text = " ".join(str(part) for part in (error.status, problem.get("reason") or problem.get("title")) if part)
    text += f": {problem.get('detail', '')}"
    fields = "; ".join(f"{item.get('field')}: {item.get('message')}" for item in problem.get("errors") or [])
    return f"{text} ({fields})" if fields else text


def print_table(title: str, columns: tuple[str, ...], rows: list[list[str]]) -> None:
    table = Table(title=title)
    for column in columns:
        table.add_column(column, overflow="fold")
    for row in rows:
        table.add_row(*row)
    Console(width=TABLE_WIDTH).print(table)


def local(text: str | None) -> str:
    """An API local time (ISO 8601 with offset) as `2026-12-08 15:30 -08:00`."""
    if not text:
        return "-"
    moment = dt.datetime.fromisoformat(text)
    offset = moment.strftime("%z")
    return f"{moment:%Y-%m-%d %H:%M} {offset[:3]}:{offset[3:]}"
