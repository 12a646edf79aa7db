"""`copnet communities ...`: communities and their rosters from the command line."""

from __future__ import annotations

import typer

app = typer.Typer(help="Communities: list them, show a roster.", no_args_is_help=True)
