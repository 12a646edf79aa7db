"""`copnet surveys`: data reflection's surveys from the command line (through the gateway)."""

from __future__ import annotations

import typer

app = typer.Typer(help="Data reflection: surveys.", no_args_is_help=True)
