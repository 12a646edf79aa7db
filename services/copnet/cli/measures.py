"""`copnet measures`: data reflection's measures from the command line (through the gateway)."""

from __future__ import annotations

import typer

app = typer.Typer(help="Data reflection: measures.", no_args_is_help=True)
