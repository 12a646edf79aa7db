"""`copnet data`: data reflection's data from the command line (through the gateway)."""

from __future__ import annotations

import typer

app = typer.Typer(help="Data reflection: data.", no_args_is_help=True)
