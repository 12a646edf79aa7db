"""`copnet attendance|hours|feeds ...`: who came, professional-learning hours, calendar feed URLs.

Exit codes: 0 success; 1 the gateway refused (its problem is printed) or could not be reached;
2 a usage problem (a person listed twice, late without minutes, nothing to record).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from copnet.cli.common import GatewayOption, TokenOption, call_gateway, fail, local, print_table

attendance_app = typer.Typer(help="Attendance at one occurrence: record it in bulk, show it.", no_args_is_help=True)
feeds_app = typer.Typer(help="Calendar feeds: issue a person's secret feed token and print the feed URLs.",
                        no_args_is_help=True)

PeopleOption = Annotated[list[str] | None, typer.Option(help="Comma-separated person ids (repeatable).")]


# -- attendance -----------------------------------------------------------------------------------
def entries_of(present: list[str], late: list[str], absent: list[str], excused: list[str],
               notes: list[str]) -> list[dict]:
    """The attendance sheet: `person` or `person=minutes` per status, `person=text` per note.
    Exit 2 on a person listed twice, late without minutes, minutes that are not a number."""
    entries: dict[str, dict] = {}
    for status, values in (("present", present), ("late", late), ("absent", absent), ("excused", excused)):
        for item in (part.strip() for value in values for part in value.split(",")):
            if not item:
                continue
            person, _, minutes = item.partition("=")
            if person in entries:
                raise fail(f"copnet attendance record: {person} is listed twice", 2)
            entry = {"person_id": person, "status": status}
            if minutes:
                if status in ("absent", "excused") or not minutes.isdigit():
                    raise fail(f"copnet attendance record: {item!r}: only present and late take minutes "
                               "(a whole number)", 2)
                entry["attended_minutes"] = int(minutes)
            elif status == "late":
                raise fail(f"copnet attendance record: late {person} needs the minutes attended ({person}=90)", 2)
            entries[person] = entry
    for note in notes:
        person, _, text = note.partition("=")
        if person not in entries:
            raise fail(f"copnet attendance record: --note for {person}, who is not on the sheet", 2)
        entries[person]["note"] = text
    if not entries:
        raise fail("copnet attendance record: nobody to record (--present, --late, --absent, --excused)", 2)
    return list(entries.values())


@attendance_app.command("record")
def record_attendance(
    occurrence: Annotated[str, typer.Argument(help='The occurrence\'s id ("<session>:<original start>").')],
    present: PeopleOption = None,
    late: Annotated[list[str] | None, typer.Option(help="person=minutes, comma-separated (repeatable).")] = None,
    absent: PeopleOption = None,
    excused: PeopleOption = None,
    note: Annotated[list[str] | None, typer.Option(help="person=text: a note on their record (repeatable).")] = None,
    gateway: GatewayOption = None,
    token: TokenOption = None,
) -> None:
    """Record who came, in one request: all entries are written, or none (the gateway says which is wrong).

    e.g. copnet attendance record S:20261208T233000Z --present ana,ben --late cai=90 --absent dee --excused eve
    """
    entries = entries_of(present or [], late or [], absent or [], excused or [], note or [])
    recorded = call_gateway("attendance record", gateway, token,
                            lambda api: api.put(f"/occurrences/{occurrence}/attendance", {"entries": entries}))
    print_records(f"attendance at {occurrence} ({len(recorded['items'])} recorded)", recorded["items"])


@attendance_app.command("show")
def show_attendance(
    occurrence: Annotated[str, typer.Argument(help="The occurrence's id.")],
    gateway: GatewayOption = None,
    token: TokenOption = None,
) -> None:
    """The attendance recorded at one occurrence."""
    items = call_gateway("attendance show", gateway, token,
                         lambda api: list(api.pages(f"/occurrences/{occurrence}/attendance")))
    print_records(f"attendance at {occurrence} ({len(items)})", items)


def print_records(title: str, records: list[dict]) -> None:
    print_table(title, ("person", "status", "minutes", "note", "recorded by"),
                [[r["person_id"], r["status"], str(r["attended_minutes"]), r["note"], r["recorded_by"]]
                 for r in records])


# -- hours ----------------------------------------------------------------------------------------
def hours(
    person: Annotated[str, typer.Argument(help="The person's id.")],
    program: Annotated[str, typer.Argument(help="The program's id.")],
    certificate: Annotated[Path | None, typer.Option(help="Also save the printable certificate here.")] = None,
    gateway: GatewayOption = None,
    token: TokenOption = None,
) -> None:
    """A person's professional-learning hours in a program, session by session (local times)."""
    path = f"/people/{person}/programs/{program}"
    summary = call_gateway("hours", gateway, token, lambda api: api.get(f"{path}/hours"))
    print_table(f"{summary['person_name']}: {summary['program_name']} ({summary['program_year']}), "
                f"issued by {summary['issuer_name']}",
                ("start", "end", "community", "session", "status", "minutes"),
                [[local(line["local_start"]), local(line["local_end"]), line["community_name"], line["title"],
                  line["status"], str(line["attended_minutes"])] for line in summary["lines"]])
    typer.echo(f"total: {summary['total_hours']:.2f} hours ({summary['total_minutes']} minutes)")
    if certificate is not None:
        html = call_gateway("hours", gateway, token, lambda api: api.text(f"{path}/certificate", "text/html"))
        try:
            certificate.write_text(html, encoding="utf-8")
        except OSError as error:
            raise fail(f"copnet hours: cannot write {certificate}: {error.strerror}", 2) from None
        typer.echo(f"certificate: {certificate}")


# -- feeds ----------------------------------------------------------------------------------------
@feeds_app.command("token")
def feed_token(
    person: Annotated[str | None, typer.Argument(help="The person's id (default: the token's own person).")] = None,
    community: Annotated[list[str] | None, typer.Option(help="Also print this community's feed URL "
                                                             "(repeatable).")] = None,
    gateway: GatewayOption = None,
    token: TokenOption = None,
) -> None:
    """Issue a new feed token and print the URLs to subscribe to; the previous token stops working."""
    path = f"/people/{person}/calendar-token" if person else "/me/calendar-token"
    issued = call_gateway("feeds token", gateway, token, lambda api: api.post(path, {}))
    typer.echo(f"person:         {issued['person_id']}")
    typer.echo(f"token:          {issued['token']}")
    typer.echo(f"person feed:    {issued['person_feed_url']}")
    for community_id in community or []:
        typer.echo(f"community feed: {issued['community_feed_url_template'].replace('{community_id}', community_id)}")
    if not community:
        typer.echo(f"community feed: {issued['community_feed_url_template']}")
