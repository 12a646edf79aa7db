"""`copnet orgs ...`: the organization tree from the command line."""

from __future__ import annotations

import typer

app = typer.Typer(help="Organizations: create, import from CSV, list.", no_args_is_help=True)
