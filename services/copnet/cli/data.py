"""`copnet data`: data reflection's assessment data sets and student-level results from the command
line (through the gateway): import with progress, list, show, rejected rows, delete, importers; a
teacher's own students, a data steward's rows, and the audit of who read them."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TaskProgressColumn,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)

from copnet.cli.common import (
    GatewayOption,
    TokenOption,
    call_gateway,
    fail,
    local,
    print_table,
)

app = typer.Typer(help="Data reflection: assessment data sets and student-level results.", no_args_is_help=True)

DataSetId = Annotated[str, typer.Argument(help="The data set (id).")]
Organization = Annotated[str, typer.Argument(help="The organization (id).")]
Test = Annotated[str | None, typer.Option("--test", help='A test key, e.g. "sbac-math".')]
Year = Annotated[str | None, typer.Option("--year", help='A school year, e.g. "2024-25".')]
Window = Annotated[str | None, typer.Option("--window", help="fall, winter or spring.")]
Grade = Annotated[str | None, typer.Option("--grade", help='"K", "1" .. "12".')]
School = Annotated[str | None, typer.Option("--school", help="Only this school's rows (id).")]
Limit = Annotated[int, typer.Option("--limit", min=1, max=100_000, help="Print at most this many rows.")]
CONTENT_TYPES = {".csv": "text/csv", ".txt": "text/csv", ".tsv": "text/csv", ".json": "application/json"}
POLL_SECONDS = 0.5
FIRST_ERRORS = 10


class ReadProgress:
    """A file whose reads advance a progress bar: the upload sends what it reads."""

    def __init__(self, handle, advance):
        self.handle, self.advance = handle, advance

    def read(self, size: int = -1) -> bytes:
        chunk = self.handle.read(size)
        self.advance(len(chunk))
        return chunk


def bar(console: Console) -> Progress:
    return Progress(TextColumn("{task.description}"), BarColumn(), TaskProgressColumn(), DownloadColumn(),
                    TransferSpeedColumn(), TimeRemainingColumn(), console=console, transient=False)


def data_set_rows(items: list[dict]) -> list[list[str]]:
    return [[d["id"], d["importer"], d["kind"], d["organization_id"], d["status"], d["file_name"],
             str(d["rows_imported"]), str(d["rows_rejected"]), ", ".join(d["school_years"]) or "-",
             local(d["created_at"])] for d in items]


DATA_SET_COLUMNS = ("id", "importer", "kind", "organization", "status", "file", "imported", "rejected", "years",
                    "created")


def print_errors(client, data_set_id: str, limit: int) -> None:
    found = client.get(f"/data-sets/{data_set_id}/errors", page_size=min(limit, 1000))
    rows = [[e["file"], str(e["row"]), e["field"] or "-", e["reason"], e["message"]] for e in found["items"][:limit]]
    if rows:
        print_table(f"rejected rows of {data_set_id} (first {len(rows)} of {found['total']})",
                    ("file", "row", "field", "reason", "message"), rows)


@app.command("import")
def import_file(file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True,
                                                     help="The assessment file (CSV, JSON, ...).")],
                importer: Annotated[str, typer.Option("--importer", help="An importer's key (copnet data "
                                                                         "importers).")],
                org: Annotated[str, typer.Option("--org", help="The county office (or district) the data "
                                                               "belongs to.")],
                name: Annotated[str | None, typer.Option("--name", help="The file name to record (default: "
                                                                        "FILE's name).")] = None,
                wait: Annotated[bool, typer.Option("--wait/--no-wait", help="Follow the import until it is "
                                                                            "ready or failed.")] = True,
                gateway: GatewayOption = None, token: TokenOption = None) -> None:
    """Upload an assessment file (streamed, with a progress bar), then follow the import: bytes
    and rows read, until ready or failed; then the counts and the first rejected rows."""
    console = Console(stderr=True)
    size = file.stat().st_size
    content_type = CONTENT_TYPES.get(file.suffix.lower(), "application/octet-stream")
    query = {"importer": importer, "organization_id": org, "file_name": name or file.name}

    def upload(client):
        with file.open("rb") as handle, bar(console) as progress:
            task = progress.add_task(f"uploading {file.name}", total=size)
            reader = ReadProgress(handle, lambda n: progress.advance(task, n))
            return client.upload("/data-sets", reader, size, content_type, query=query)

    started = call_gateway("data import", gateway, token, upload)
    if started["already_imported"]:
        console.print(f"{file.name} was already imported for {org} as data set {started['id']} "
                      f"({started['status']}); nothing changed")
    data_set = started
    if wait and data_set["status"] == "importing":
        data_set = call_gateway("data import", gateway, token, lambda client: follow(client, data_set, console))
    print_table(f"data set {data_set['id']}", DATA_SET_COLUMNS, data_set_rows([data_set]))
    if data_set.get("failure"):
        typer.echo(f"failed: {data_set['failure']}", err=True)
    if data_set["rows_rejected"]:
        call_gateway("data import", gateway, token, lambda client: print_errors(client, data_set["id"], FIRST_ERRORS))
    if data_set["status"] == "failed":
        raise typer.Exit(1)


def follow(client, data_set: dict, console: Console) -> dict:
    """Polls the data set until it is no longer importing, showing the service's progress."""
    with bar(console) as progress:
        task = progress.add_task("importing: 0 rows read", total=data_set["size_bytes"] or None)
        while data_set["status"] == "importing":
            time.sleep(POLL_SECONDS)
            data_set = client.get(f"/data-sets/{data_set['id']}")
            progress.update(task, completed=data_set["bytes_read"],
                            description=f"importing: {data_set['rows_read']:,} rows read")
        progress.update(task, completed=data_set["size_bytes"],
                        description=f"{data_set['status']}: {data_set['rows_read']:,} rows read")
    return data_set


@app.command("list")
def list_data_sets(org: Annotated[str | None, typer.Option("--org", help="This organization and below.")] = None,
                   kind: Annotated[str | None, typer.Option("--kind", help="student_scores, aggregate_results or "
                                                                           "class_enrollments.")] = None,
                   gateway: GatewayOption = None, token: TokenOption = None) -> None:
    """The data sets you may read."""
    query = {"organization_id": org, "kind": kind}
    items = call_gateway("data list", gateway, token, lambda client: list(client.pages("/data-sets", **query)))
    print_table("data sets", DATA_SET_COLUMNS, data_set_rows(items))


@app.command("show")
def show(data_set_id: DataSetId, gateway: GatewayOption = None, token: TokenOption = None) -> None:
    """One data set: status, progress, counts, what it covers, its source file's hash."""
    found = call_gateway("data show", gateway, token, lambda client: client.get(f"/data-sets/{data_set_id}"))
    rows = [[key, str(value)] for key, value in found.items() if key != "already_imported"]
    print_table(f"data set {data_set_id}", ("field", "value"), rows)


@app.command("errors")
def errors(data_set_id: DataSetId, limit: Limit = 100, gateway: GatewayOption = None,
           token: TokenOption = None) -> None:
    """The rows an import rejected: file, row, field, the rule and a message."""
    call_gateway("data errors", gateway, token, lambda client: print_errors(client, data_set_id, limit))


@app.command("delete")
def delete(data_set_id: DataSetId, yes: Annotated[bool, typer.Option("--yes", help="Do not ask.")] = False,
           gateway: GatewayOption = None, token: TokenOption = None) -> None:
    """Delete a data set as a whole (its rows and its place in every measure)."""
    if not yes and not typer.confirm(f"delete data set {data_set_id} and every row of it?"):
        raise fail("copnet data delete: not deleted", 1)
    found = call_gateway("data delete", gateway, token, lambda client: client.delete(f"/data-sets/{data_set_id}"))
    typer.echo(f"data set {found['id']}: {found['status']}")


@app.command("importers")
def importers(gateway: GatewayOption = None, token: TokenOption = None) -> None:
    """The assessment importers the installed plugins provide."""
    found = call_gateway("data importers", gateway, token, lambda client: client.get("/assessment-importers"))
    print_table("assessment importers", ("key", "kind", "plugin", "title", "description"),
                [[i["key"], i["kind"], i["plugin"], i["title"], i["description"]] for i in found["items"]])


RESULT_COLUMNS = ("student", "school", "grade", "test", "year", "window", "scale score", "level", "DFS",
                  "percentile", "band", "data set")


def result_rows(items: list[dict]) -> list[list[str]]:
    def shown(value) -> str:
        return "-" if value is None else f"{value:g}" if isinstance(value, float) else str(value)

    return [[r["pseudonym"][:12], r["school_id"], r["grade"], r["test"], r["school_year"], r["window"],
             shown(r["scale_score"]), shown(r["achievement_level"]), shown(r["distance_from_standard"]),
             shown(r["percentile"]), shown(r["proficiency_band"]), r["data_set_id"]] for r in items]


def first(client, path: str, query: dict, limit: int) -> list[dict]:
    found = []
    for item in client.pages(path, **query, page_size=min(limit, 500)):
        found.append(item)
        if len(found) >= limit:
            break
    return found


@app.command("my-students")
def my_students(test: Test = None, year: Year = None, window: Window = None, grade: Grade = None,
                school: School = None, limit: Limit = 200, gateway: GatewayOption = None,
                token: TokenOption = None) -> None:
    """Your own students' results (pseudonymous; the read is recorded in the audit log)."""
    query = {"test": test, "school_year": year, "window": window, "grade": grade, "school_id": school}
    items = call_gateway("data my-students", gateway, token,
                         lambda client: first(client, "/me/student-results", query, limit))
    print_table("your students' results", RESULT_COLUMNS, result_rows(items))


@app.command("students")
def students(data_set: Annotated[str | None, typer.Option("--data-set", help="One data set's rows.")] = None,
             org: Annotated[str | None, typer.Option("--org", help="Rows of students at this organization.")] = None,
             teacher: Annotated[str | None, typer.Option("--teacher", help="Only rows naming this teacher.")] = None,
             test: Test = None, year: Year = None, window: Window = None, grade: Grade = None, school: School = None,
             limit: Limit = 200, gateway: GatewayOption = None, token: TokenOption = None) -> None:
    """Student-level rows of a data set or an organization (a data steward; audited)."""
    if bool(data_set) == bool(org):
        raise fail("copnet data students: give --data-set or --org (one of the two)", 2)
    path = f"/data-sets/{data_set}/student-results" if data_set else f"/orgs/{org}/student-results"
    query = {"teacher_id": teacher, "test": test, "school_year": year, "window": window, "grade": grade,
             "school_id": school}
    items = call_gateway("data students", gateway, token, lambda client: first(client, path, query, limit))
    print_table(f"student results of {data_set or org}", RESULT_COLUMNS, result_rows(items))


@app.command("audit")
def audit(org: Organization, actor: Annotated[str | None, typer.Option("--actor", help="Only this person's "
                                                                                       "reads.")] = None,
          limit: Limit = 100, gateway: GatewayOption = None, token: TokenOption = None) -> None:
    """Who read student-level rows of an organization's data, when and how many (newest first)."""
    items = call_gateway("data audit", gateway, token, lambda client: first(
        client, f"/orgs/{org}/student-read-audit", {"actor_id": actor}, limit))
    rows = [[local(e["read_at"]), e["actor_id"], e["action"], e["data_set_id"] or e["organization_id"] or "-",
             ", ".join(f"{k}={v}" for k, v in sorted(e["filters"].items())) or "-", str(e["rows"]),
             ", ".join(e["data_set_ids"]) or "-"] for e in items]
    print_table(f"reads of student-level rows under {org}", ("when", "who", "action", "asked for", "filters",
                                                              "rows", "from data sets"), rows)
