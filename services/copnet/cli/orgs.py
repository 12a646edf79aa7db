"""`copnet orgs ...`: the organization tree from the command line.

Exit codes: 0 success; 1 the gateway refused something (or could not be reached); 2 a usage
problem (an unreadable or malformed CSV file).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from copnet.cli.common import GatewayOption, TokenOption, api_client, call_gateway, describe_error, fail

app = typer.Typer(help="Organizations: create, import from CSV, list.", no_args_is_help=True)

KINDS = "state, region, county_office, district, school, network, university or partner"
CSV_COLUMNS = ("id", "name", "kind", "parent_id", "code", "time_zone")
REQUIRED_COLUMNS = ("id", "name", "kind")
SNIFF_BYTES = 64 * 1024


# -- create ------------------------------------------------------------------------------------

@app.command()
def create(
    name: Annotated[str, typer.Option(help="Display name.")],
    kind: Annotated[str, typer.Option(help=f"One of {KINDS}.")],
    id: Annotated[str | None, typer.Option("--id", help="Id to use (2-63 of a-z, 0-9, '-'); generated when absent.")] = None,
    parent_id: Annotated[str | None, typer.Option(help="Parent organization (required for all kinds but state).")] = None,
    code: Annotated[str | None, typer.Option(help="External code (e.g. a CDS code), unique per kind.")] = None,
    time_zone: Annotated[str | None, typer.Option(help="IANA time zone; inherited from the parent when absent.")] = None,
    gateway: GatewayOption = None,
    token: TokenOption = None,
) -> None:
    """Create one organization; prints its id."""
    body = organization_body({"id": id, "name": name, "kind": kind, "parent_id": parent_id, "code": code,
                              "time_zone": time_zone})
    created = call_gateway("orgs create", gateway, token, lambda api: api.post("/orgs", body))
    typer.echo(created["id"])


# -- list --------------------------------------------------------------------------------------

@app.command("list")
def list_organizations(
    parent_id: Annotated[str | None, typer.Option(help="Only direct children of this organization.")] = None,
    kind: Annotated[str | None, typer.Option(help=f"Only this kind: {KINDS}.")] = None,
    region_id: Annotated[str | None, typer.Option(help="Only organizations in this region.")] = None,
    network_id: Annotated[str | None, typer.Option(help="Only members of this network.")] = None,
    ancestor_id: Annotated[str | None, typer.Option(help="Only organizations below this one.")] = None,
    gateway: GatewayOption = None,
    token: TokenOption = None,
) -> None:
    """Organizations as a table, in id order (every page)."""
    orgs = call_gateway("orgs list", gateway, token, lambda api: list(api.pages(
        "/orgs", parent_id=parent_id, kind=kind, region_id=region_id, network_id=network_id,
        ancestor_id=ancestor_id)))
    table = Table(title="organizations")
    for column in ("id", "name", "kind", "parent", "region", "code", "time zone"):
        table.add_column(column, overflow="fold")
    for org in orgs:
        table.add_row(org["id"], org["name"], org["kind"], org["parent_id"] or "", org["region_id"] or "",
                      org["code"] or "", org["time_zone"])
    Console(width=200).print(table)


# -- import ------------------------------------------------------------------------------------

class UnreadableFile(Exception):
    """The CSV file cannot be read or is not an organization CSV at all."""


@dataclass(frozen=True)
class CsvRow:
    line: int        # where the row ends in the file, as an editor numbers lines
    values: dict[str, str]

    @property
    def id(self) -> str:
        return self.values.get("id", "")

    @property
    def parent_id(self) -> str:
        return self.values.get("parent_id", "")


@dataclass
class ImportReport:
    created: int = 0
    already_there: int = 0
    failures: list[tuple[CsvRow, str]] = field(default_factory=list)

    def summary(self) -> str:
        return f"{self.created} created, {self.already_there} already there, {len(self.failures)} failed"


def read_rows(path: Path) -> list[CsvRow]:
    """The file's data rows; its dialect is sniffed, a UTF-8 byte-order mark is accepted."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as error:
        raise UnreadableFile(f"cannot read {path}: {error}") from None
    if not text.strip():
        raise UnreadableFile(f"{path} is empty; it needs a header: {','.join(CSV_COLUMNS)}")
    try:
        dialect = csv.Sniffer().sniff(text[:SNIFF_BYTES], delimiters=",;\t|")
    except csv.Error:  # one column, or too little to tell: plain CSV
        dialect = csv.excel
    reader = csv.reader(io.StringIO(text, newline=""), dialect)
    try:
        header = [name.strip().lower() for name in next(reader)]
        unknown = sorted(set(header) - set(CSV_COLUMNS))
        missing = [name for name in REQUIRED_COLUMNS if name not in header]
        if unknown or missing:
            problems = ([f"unknown column(s) {', '.join(unknown)}"] if unknown else []) + (
                [f"missing column(s) {', '.join(missing)}"] if missing else [])
            raise UnreadableFile(f"{path}: the header must name columns from {','.join(CSV_COLUMNS)} "
                                 f"({'; '.join(problems)})")
        rows = []
        for cells in reader:
            if not any(cell.strip() for cell in cells):
                continue
            values = {name: cell.strip() for name, cell in zip(header, cells, strict=False)}
            rows.append(CsvRow(reader.line_num, values))
    except csv.Error as error:
        raise UnreadableFile(f"{path}: not valid CSV at line {reader.line_num}: {error}") from None
    return rows


def parents_first(rows: list[CsvRow]) -> list[CsvRow]:
    """The rows reordered so that a parent listed in the file comes before its children (file order
    otherwise). Rows caught in a parent cycle come last; the gateway will refuse them."""
    in_file = {row.id for row in rows if row.id}
    placed: set[str] = set()
    ordered: list[CsvRow] = []
    waiting = list(rows)
    while waiting:
        ready = [row for row in waiting if row.parent_id not in in_file or row.parent_id in placed]
        if not ready:
            return ordered + waiting
        ordered += ready
        placed.update(row.id for row in ready)
        waiting = [row for row in waiting if row not in ready]
    return ordered


def organization_body(values: dict[str, str | None]) -> dict[str, str]:
    """The POST /orgs body: only the columns that have a value."""
    return {name: value for name, value in values.items() if name in CSV_COLUMNS and value}


def import_rows(client, rows: list[CsvRow], advance) -> ImportReport:
    """POST each row (parents first); an existing id is "already there". Raises GatewayUnreachable."""
    from copnet.api_client import ApiError

    report = ImportReport()
    for row in parents_first(rows):
        if not row.id:
            report.failures.append((row, "id is required (it is what makes a re-import safe)"))
            advance(row, "failed")
            continue
        try:
            client.post("/orgs", organization_body(row.values))
            report.created += 1
            outcome = "created"
        except ApiError as error:
            if error.status == 409 and error.reason == "DUPLICATE_ID":
                report.already_there += 1
                outcome = "already there"
            else:
                report.failures.append((row, describe_error(error)))
                outcome = "failed"
        advance(row, outcome)
    return report


@app.command("import")
def import_organizations(
    file: Annotated[Path, typer.Argument(help=f"CSV with a header row: {','.join(CSV_COLUMNS)} "
                                              "(id, name and kind required).", metavar="FILE.csv")],
    gateway: GatewayOption = None,
    token: TokenOption = None,
) -> None:
    """Import organizations from CSV, parents before children (safe to repeat).

    An id that already exists counts as already there. Rows the gateway refuses are reported
    (row, id, why) while the others are imported; the exit code is then 1.
    """
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    from copnet.api_client import GatewayUnreachable

    try:
        rows = read_rows(file)
    except UnreadableFile as error:
        raise fail(f"copnet orgs import: {error}", 2) from None
    client = api_client(gateway, token)
    errors = Console(stderr=True, highlight=False)
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                  TextColumn("{task.fields[item]}"), console=errors) as progress:
        task = progress.add_task(file.name, total=len(rows), item="")

        def advance(row: CsvRow, outcome: str) -> None:
            progress.update(task, advance=1, item=f"{row.id or '(no id)'} ({outcome})")

        try:
            report = import_rows(client, rows, advance)
        except GatewayUnreachable as error:
            progress.stop()
            raise fail(f"copnet orgs import: {error}", 1) from None
    for row, why in report.failures:
        errors.print(f"row {row.line}, id {row.id or '(none)'}: {why}", markup=False, soft_wrap=True)
    typer.echo(f"{file.name}: {report.summary()}")
    raise typer.Exit(1 if report.failures else 0)
