"""`copnet plugins ...` and `copnet roster import`: installed plugins, a region's configuration of
them, and roster imports, through the gateway.

Exit codes: 0 success; 1 the gateway refused something (or could not be reached), or a roster
import reported rows it could not import; 2 a usage problem (a bad --set, an unreadable file).
"""

from __future__ import annotations

import json
import lzma
import zipfile
import zlib
from pathlib import Path, PurePosixPath
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from copnet.cli.common import GatewayOption, TokenOption, call_gateway, fail
from copnet.kernel import limits
from copnet.kernel.limits import ROSTER_IMPORT_MAX_BODY_BYTES

app = typer.Typer(help="Plugins: what is installed, and each region's configuration of them.", no_args_is_help=True)
roster_app = typer.Typer(help="Rosters: import organizations, people and affiliations with a plugin's roster source.",
                         no_args_is_help=True)
# A roster import writes every record through membership: wait past the gateway's own deadline.
ROSTER_IMPORT_TIMEOUT_SECONDS = limits.ROSTER_IMPORT_TIMEOUT_SECONDS + 60
CONSOLE_WIDTH = 200
# Zip members are unpacked this much at a time (and counted against the import's limit).
CHUNK_BYTES = 1 << 20
ZIP_ENCRYPTED = 0x1  # general purpose bit 0
ZIP_METHODS = (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED, zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA)


def _console() -> Console:
    return Console(width=CONSOLE_WIDTH)


def _json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(", ", ": "))


# -- list / show -------------------------------------------------------------------------------

@app.command("list")
def list_plugins(gateway: GatewayOption = None, token: TokenOption = None) -> None:
    """Installed plugins: name, version, hooks and where each is configured."""
    listing = call_gateway("plugins list", gateway, token, lambda api: api.get("/plugins"))
    plugins = listing["items"]
    table = Table(title="plugins")
    for column in ("name", "version", "title", "hooks", "configured at", "failures"):
        table.add_column(column, overflow="fold")
    for plugin in plugins:
        placements = ", ".join(f"{p['organization_id']} ({'on' if p['enabled'] else 'off'}, v{p['version']})"
                               for p in plugin["enabled_in"])
        failures = ", ".join(f"{f['service']}{'@' + f['organization_id'] if f['organization_id'] else ''}: "
                             f"{f['count']}{' (off)' if f['switched_off'] else ''}" for f in plugin.get("failures", []))
        table.add_row(plugin["name"], plugin["version"], plugin["title"], ", ".join(plugin["hooks"]), placements,
                      failures or "-")
    _console().print(table)
    for refused in listing.get("refused", []):
        _console().print(f"[red]refused[/red] {refused['name']}: {refused['reason']}")


@app.command()
def show(name: Annotated[str, typer.Argument(help="The plugin's name.")],
         gateway: GatewayOption = None, token: TokenOption = None) -> None:
    """One plugin: its description, hooks, settings (secrets marked) and where it is configured."""
    plugin = call_gateway("plugins show", gateway, token, lambda api: api.get(f"/plugins/{name}"))
    typer.echo(f"{plugin['name']} {plugin['version']} — {plugin['title']}")
    if plugin["description"]:
        typer.echo(plugin["description"])
    typer.echo(f"hookspec version: {plugin['hookspec_version']}")
    typer.echo(f"hooks: {', '.join(plugin['hooks']) or '-'}")
    if plugin["roster_sources"]:
        typer.echo(f"roster sources: {', '.join(plugin['roster_sources'])}")
    schema = plugin.get("settings_schema") or {}
    properties = schema.get("properties") or {}
    if properties:
        table = Table(title="settings")
        for column in ("setting", "type", "default", "secret", "description"):
            table.add_column(column, overflow="fold")
        required = set(schema.get("required") or [])
        for key, spec in properties.items():
            kind = spec.get("type") or " | ".join(str(option.get("type", "?")) for option in spec.get("anyOf", []))
            default = "(required)" if key in required else _json(spec.get("default"))
            table.add_row(key, str(kind), default, "yes" if key in plugin["secret_fields"] else "",
                          spec.get("description", ""))
        _console().print(table)
    else:
        typer.echo("settings: none")
    if plugin["enabled_in"]:
        for placement in plugin["enabled_in"]:
            typer.echo(f"configured at {placement['organization_id']}: "
                       f"{'enabled' if placement['enabled'] else 'disabled'} (version {placement['version']})")
    else:
        typer.echo("configured nowhere")


# -- configure ---------------------------------------------------------------------------------

def parse_assignment(text: str) -> tuple[str, Any]:
    """`key=value`; the value is JSON when it parses as JSON (1, true, ["a"]), a string otherwise."""
    key, sep, raw = text.partition("=")
    key = key.strip()
    if not sep or not key:
        raise ValueError(f"--set {text!r}: expected key=value")
    try:
        return key, json.loads(raw)
    except ValueError:
        return key, raw


def settings_document(current: dict, settings_file: Path | None, assignments: list[str]) -> dict:
    settings = dict(current)
    if settings_file is not None:
        try:
            loaded = json.loads(settings_file.read_text(encoding="utf-8"))
        except (OSError, ValueError) as error:
            raise ValueError(f"cannot read {settings_file}: {error}") from None
        if not isinstance(loaded, dict):
            raise ValueError(f"{settings_file} must hold a JSON object")
        settings = loaded
    for assignment in assignments:
        key, value = parse_assignment(assignment)
        settings[key] = value
    return settings


@app.command()
def configure(
    region: Annotated[str, typer.Argument(help="A region's id, or a county office's (to override its region).")],
    name: Annotated[str, typer.Argument(help="The plugin's name.")],
    enable: Annotated[bool | None, typer.Option("--enable/--disable", help="Switch it on or off here.")] = None,
    set_: Annotated[list[str] | None, typer.Option("--set", help="key=value (JSON values allowed); repeatable.")] = None,
    settings_file: Annotated[Path | None, typer.Option(help="A JSON object replacing the settings (then --set "
                                                            "applies).")] = None,
    reason: Annotated[str, typer.Option(help="Why, kept in the history.")] = "",
    gateway: GatewayOption = None,
    token: TokenOption = None,
) -> None:
    """Change a plugin's configuration for a region: a new version, applied everywhere within seconds.

    Starts from the current settings (secrets keep their values unless set again) and refuses to
    overwrite a change someone made meanwhile."""
    from copnet.api_client import ApiError

    def put(client) -> dict:
        try:
            current = client.get(f"/regions/{region}/plugins/{name}")
        except ApiError as error:
            if error.status != 404 or error.reason != "NOT_CONFIGURED":
                raise
            current = None
        try:
            settings = settings_document(current["settings"] if current else {}, settings_file, set_ or [])
        except ValueError as error:
            raise fail(f"copnet plugins configure: {error}", 2) from None
        enabled = enable if enable is not None else bool(current and current["enabled"])
        body = {"enabled": enabled, "settings": settings, "reason": reason,
                "expected_version": current["version"] if current else 0}
        return client.put(f"/regions/{region}/plugins/{name}", body)

    written = call_gateway("plugins configure", gateway, token, put)
    state = "enabled" if written["enabled"] else "disabled"
    if written["changed"]:
        typer.echo(f"{name} at {region}: version {written['version']}, {state}")
    else:
        typer.echo(f"{name} at {region}: unchanged (version {written['version']}, {state})")
    typer.echo(f"settings: {_json(written['settings'])}")


@app.command()
def history(
    region: Annotated[str, typer.Argument(help="A region's or county office's id.")],
    name: Annotated[str, typer.Argument(help="The plugin's name.")],
    gateway: GatewayOption = None,
    token: TokenOption = None,
) -> None:
    """Every version of a plugin's configuration at a region, newest first."""
    revisions = call_gateway("plugins history", gateway, token,
                             lambda api: list(api.pages(f"/regions/{region}/plugins/{name}/history")))
    table = Table(title=f"{name} at {region}")
    for column in ("version", "enabled", "changed by", "changed at", "reason", "settings"):
        table.add_column(column, overflow="fold")
    for revision in revisions:
        table.add_row(str(revision["version"]), "yes" if revision["enabled"] else "no", revision["changed_by"],
                      revision["changed_at"], revision["reason"] or "", _json(revision["settings"]))
    _console().print(table)


# -- roster import -----------------------------------------------------------------------------

class RosterFiles:
    """A roster bundle read for sending: base name -> text, and the files left out (and why).

    Bounded: the files' total is at most what one import takes (the gateway's body limit), counted
    as the bytes come out of a zip, not as its directory claims, so a small zip of a huge file
    stops there. Two files whose names differ only in folder or case would be one file to a
    roster source: refused rather than one of them silently kept."""

    def __init__(self, path: Path, limit: int = ROSTER_IMPORT_MAX_BODY_BYTES):
        self.path = path
        self.limit = limit
        self.texts: dict[str, str] = {}
        self.left_out: list[str] = []
        self.names: dict[str, str] = {}  # lower-case base name -> the path it came from
        self.total = 0

    def read(self) -> RosterFiles:
        if self.path.is_dir():
            self.read_directory()
        elif zipfile.is_zipfile(self.path):
            self.read_zip()
        elif self.path.exists():
            raise ValueError(f"{self.path} is neither a directory nor a .zip file")
        else:
            raise ValueError(f"{self.path} does not exist")
        if not self.texts:
            raise ValueError(f"{self.path} holds no text files" if self.left_out else f"{self.path} holds no files")
        return self

    def read_directory(self) -> None:
        try:
            for item in sorted(self.path.iterdir()):
                if item.is_file() and not item.name.startswith("."):
                    self.claim(item.name, item.name)
                    self.check_room(item.stat().st_size, item.name)
                    self.add(item.name, item.read_bytes())
        except OSError as error:
            raise ValueError(f"cannot read {self.path}: {error}") from None

    def read_zip(self) -> None:
        try:
            with zipfile.ZipFile(self.path) as archive:
                for member in archive.infolist():
                    base = PurePosixPath(member.filename.replace("\\", "/")).name
                    if member.is_dir() or not base or base.startswith(".") or "__MACOSX" in member.filename:
                        continue
                    self.claim(base, member.filename)
                    self.add(base, self.unpack(archive, member))
        except (OSError, zipfile.BadZipFile, zipfile.LargeZipFile) as error:
            raise ValueError(f"cannot read {self.path}: {error}") from None

    def unpack(self, archive: zipfile.ZipFile, member: zipfile.ZipInfo) -> bytes:
        """The member's bytes, unpacked no further than the limit allows (whatever size the zip claims)."""
        where = f"{self.path}: {member.filename}"
        if member.flag_bits & ZIP_ENCRYPTED:
            raise ValueError(f"{where} is encrypted; export the bundle without a password")
        if member.compress_type not in ZIP_METHODS:
            raise ValueError(f"{where} is compressed with method {member.compress_type}, which cannot be read "
                             f"(stored, deflate, bzip2 and lzma can)")
        self.check_room(member.file_size, member.filename)
        chunks, size = [], 0
        try:
            with archive.open(member) as stream:
                while chunk := stream.read(CHUNK_BYTES):
                    size += len(chunk)
                    self.check_room(size, member.filename)
                    chunks.append(chunk)
        except (zipfile.BadZipFile, EOFError, NotImplementedError, RuntimeError, zlib.error, lzma.LZMAError,
                OSError) as error:
            raise ValueError(f"{where} cannot be unpacked (is the zip damaged?): {error}") from None
        return b"".join(chunks)

    def check_room(self, size: int, name: str) -> None:
        """Refuse a file of `size` bytes once the bundle would pass the limit with it."""
        if self.total + size > self.limit:
            raise ValueError(f"{self.path}: its files are larger than one import takes ({self.limit >> 20} MiB, "
                             f"passed at {name}); split the bundle or leave out files the import does not need")

    def claim(self, base: str, origin: str) -> None:
        key = base.lower()
        if key in self.names:
            raise ValueError(f"{self.path}: {self.names[key]!r} and {origin!r} have the same name (names are "
                             f"matched without their folder and case); keep one of them")
        self.names[key] = origin

    def add(self, name: str, raw: bytes) -> None:
        self.check_room(len(raw), name)
        self.total += len(raw)
        try:
            self.texts[name] = raw.decode("utf-8-sig")
        except UnicodeDecodeError as error:
            # Left out, not fatal: a bundle may hold files its source ignores; one it needs is
            # then reported missing by the import.
            self.left_out.append(f"{name}: not UTF-8 text ({error.reason} at byte {error.start})")


@roster_app.command("import")
def import_roster(
    region: Annotated[str, typer.Argument(help="The region (or county office) importing.")],
    path: Annotated[Path, typer.Argument(help="A directory of CSV files, or a .zip of them.")],
    source: Annotated[str, typer.Option(help="The roster source's key, e.g. oneroster.")],
    dry_run: Annotated[bool, typer.Option(help="Report what would change, write nothing.")] = False,
    gateway: GatewayOption = None,
    token: TokenOption = None,
) -> None:
    """Import organizations, people and affiliations; idempotent, with a per-row error report."""
    try:
        bundle = RosterFiles(path).read()
    except ValueError as error:
        raise fail(f"copnet roster import: {error}", 2) from None
    for left_out in bundle.left_out:
        typer.echo(f"copnet roster import: left out {left_out}", err=True)
    body = {"source": source, "files": bundle.texts, "dry_run": dry_run}
    # The gateway would refuse it (413) before reading it, and a client still sending sees only a
    # closed connection: say so here, with the figures.
    size = len(json.dumps(body).encode())
    if size > ROSTER_IMPORT_MAX_BODY_BYTES:
        raise fail(f"copnet roster import: the request would be {size / (1 << 20):.1f} MiB, over the "
                   f"{ROSTER_IMPORT_MAX_BODY_BYTES >> 20} MiB one import takes; split the bundle", 2)

    def post(client) -> dict:
        client.timeout = ROSTER_IMPORT_TIMEOUT_SECONDS
        return client.post(f"/regions/{region}/roster-imports", body)

    report = call_gateway("roster import", gateway, token, post)
    table = Table(title=f"roster import ({report['plugin']}{', dry run: nothing written' if dry_run else ''})")
    for column in ("kind", "created", "updated", "unchanged", "failed"):
        table.add_column(column)
    for kind in ("organizations", "people", "affiliations"):
        counts = report[kind]
        table.add_row(kind, *(str(counts[key]) for key in ("created", "updated", "unchanged", "failed")))
    _console().print(table)
    errors = report["errors"]
    if errors:
        listing = Table(title=f"{len(errors)} row(s) not imported")
        for column in ("file", "row", "record", "problem"):
            listing.add_column(column, overflow="fold")
        for error in errors:
            record = f"{error['kind']} {error['record']}" if error.get("record") else ""
            row = error.get("row")
            listing.add_row(error.get("file") or "", "" if row is None else str(row), record, error["message"])
        _console().print(listing)
        raise typer.Exit(1)
