"""`copnet cycles`: data reflection's cycles from the command line (through the gateway)."""

from __future__ import annotations

import typer

app = typer.Typer(help="Data reflection: cycles.", no_args_is_help=True)
