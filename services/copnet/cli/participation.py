"""`copnet participation`: data reflection's participation from the command line (through the gateway)."""

from __future__ import annotations

import typer

app = typer.Typer(help="Data reflection: participation.", no_args_is_help=True)
