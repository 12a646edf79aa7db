"""`copnet milestones|sessions|occurrences ...`: program timelines and convenings from the command line.

Times are ISO 8601 with an offset (`2026-12-08T15:30-08:00`, `2026-12-08T23:30Z`); one without an
offset needs `--tz America/Los_Angeles`. Tables show each time where the community meets.

Exit codes: 0 success; 1 the gateway refused (its problem is printed) or could not be reached;
2 a usage problem (a time without an offset, malformed JSON fields).
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import typer

from copnet.cli.common import GatewayOption, TokenOption, call_gateway, fail, local, print_table

milestones_app = typer.Typer(help="Program timelines: list, add, move and delete milestones.", no_args_is_help=True)
sessions_app = typer.Typer(help="A community's sessions: list, create, cancel, list occurrences.",
                           no_args_is_help=True)
occurrences_app = typer.Typer(help="One occurrence of a session: move, cancel, restore.", no_args_is_help=True)

TzOption = Annotated[str | None, typer.Option("--tz", help="IANA time zone of times given without an offset.")]
MILESTONE_KINDS = ("call_opens, proposals_due, offerings_finalized, signup_opens, soft_deadline, signup_closes, "
                   "kick_off, orientation, in_person_session, final_product_due or custom")


# -- shared helpers -------------------------------------------------------------------------------
def instant(text: str, option: str, time_zone: str | None) -> str:
    """`text` as RFC 3339 (exit 2 when it is not a time, or has no offset and no --tz was given)."""
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        raise fail(f"copnet: {option} {text!r} is not an ISO 8601 time (e.g. 2026-12-08T15:30-08:00)", 2) from None
    if moment.tzinfo is None:
        if not time_zone:
            raise fail(f"copnet: {option} {text!r} has no offset; add one (-08:00, Z) or pass --tz", 2)
        try:
            moment = moment.replace(tzinfo=ZoneInfo(time_zone))
        except (ZoneInfoNotFoundError, ValueError):
            raise fail(f"copnet: --tz {time_zone!r} is not an IANA time zone", 2) from None
    return moment.isoformat()


def venue_body(name: str | None, address: str | None) -> dict | None:
    if name is None and address is None:
        return None
    return {"name": name or "", "address": address or ""}


def compact(body: dict) -> dict:
    return {key: value for key, value in body.items() if value not in (None, "", [], {})}


def print_warnings(body: dict) -> None:
    for warning in body.get("warnings") or []:
        typer.echo(f"warning: {warning['kind']}: {warning['message']}", err=True)


# -- milestones -----------------------------------------------------------------------------------
@milestones_app.command("list")
def list_milestones(
    program: Annotated[str, typer.Argument(help="The program's id.")],
    gateway: GatewayOption = None,
    token: TokenOption = None,
) -> None:
    """The program's timeline in time order (linked milestones drive membership's dates)."""
    timeline = call_gateway("milestones list", gateway, token, lambda api: api.get(f"/programs/{program}/milestones"))
    print_table(f"timeline of {program} (revision {timeline['timeline_revision']})",
                ("id", "kind", "title", "time", "time zone", "linked"),
                [[m["id"], m["kind"], m["title"], local(m["local_time"]), m["time_zone"], "yes" if m["linked"] else ""]
                 for m in timeline["items"]])


@milestones_app.command("add")
def add_milestone(
    program: Annotated[str, typer.Argument(help="The program's id.")],
    kind: Annotated[str, typer.Option(help=f"One of {MILESTONE_KINDS}.")],
    time: Annotated[str, typer.Option(help="When (ISO 8601 with an offset, or with --tz).")],
    title: Annotated[str | None, typer.Option(help="Defaults to the kind's name; required for custom.")] = None,
    description: Annotated[str | None, typer.Option(help="What happens then.")] = None,
    time_zone: Annotated[str | None, typer.Option(help="Zone it is shown in (default: the program owner's).")] = None,
    tz: TzOption = None,
    gateway: GatewayOption = None,
    token: TokenOption = None,
) -> None:
    """Add a milestone; prints its id."""
    body = compact({"kind": kind, "time": instant(time, "--time", tz), "title": title, "description": description,
                    "time_zone": time_zone})
    created = call_gateway("milestones add", gateway, token,
                           lambda api: api.post(f"/programs/{program}/milestones", body))
    typer.echo(created["id"])


@milestones_app.command("move")
def move_milestone(
    milestone: Annotated[str, typer.Argument(help="The milestone's id.")],
    time: Annotated[str, typer.Option(help="The new time (ISO 8601 with an offset, or with --tz).")],
    tz: TzOption = None,
    gateway: GatewayOption = None,
    token: TokenOption = None,
) -> None:
    """Re-date a milestone (a linked one re-dates membership's proposal call or sign-up windows)."""
    moved = call_gateway("milestones move", gateway, token,
                         lambda api: api.patch(f"/milestones/{milestone}", {"time": instant(time, "--time", tz)}))
    typer.echo(f"{moved['id']}: {local(moved['local_time'])} (timeline revision {moved['timeline_revision']})")


@milestones_app.command("delete")
def delete_milestone(
    milestone: Annotated[str, typer.Argument(help="The milestone's id.")],
    gateway: GatewayOption = None,
    token: TokenOption = None,
) -> None:
    """Delete a milestone (linked ones cannot be deleted)."""
    call_gateway("milestones delete", gateway, token, lambda api: api.delete(f"/milestones/{milestone}"))
    typer.echo(f"deleted {milestone}")


# -- sessions -------------------------------------------------------------------------------------
@sessions_app.command("list")
def list_sessions(
    community: Annotated[str, typer.Argument(help="The community's id.")],
    include_cancelled: Annotated[bool, typer.Option(help="Also cancelled sessions.")] = False,
    gateway: GatewayOption = None,
    token: TokenOption = None,
) -> None:
    """The community's sessions (every page)."""
    items = call_gateway("sessions list", gateway, token, lambda api: list(api.pages(
        f"/communities/{community}/sessions", include_cancelled="true" if include_cancelled else None)))
    print_table(f"sessions of {community} ({len(items)})",
                ("id", "title", "type", "first start", "end", "recurrence", "modality", "occurrences", "status"),
                [[s["id"], s["title"], s["session_type"], local(s["local_start"]), local(s["local_end"]),
                  s["recurrence"] or "-", s["modality"], str(s["occurrence_count"]), s["status"]] for s in items])


@sessions_app.command("create")
def create_session(
    community: Annotated[str, typer.Argument(help="The community's id.")],
    start: Annotated[str, typer.Option(help="The (first) start: ISO 8601 with an offset, or with --tz.")],
    session_type: Annotated[str, typer.Option("--type", help="A session type key.")] = "regular_convening",
    end: Annotated[str | None, typer.Option(help="The end (default: start + the type's duration).")] = None,
    title: Annotated[str | None, typer.Option(help="Default: the session type's title.")] = None,
    agenda: Annotated[str | None, typer.Option(help="What the session will do.")] = None,
    rrule: Annotated[str | None, typer.Option(help='RFC 5545 RRULE, e.g. "FREQ=MONTHLY;BYDAY=2TU".')] = None,
    modality: Annotated[str | None, typer.Option(help="virtual (default), in_person or hybrid.")] = None,
    venue_name: Annotated[str | None, typer.Option(help="The room, for in-person and hybrid sessions.")] = None,
    venue_address: Annotated[str | None, typer.Option(help="The room's address.")] = None,
    meeting_url: Annotated[str | None, typer.Option(help="The link to join.")] = None,
    audience: Annotated[str | None, typer.Option(help="all_members (default), leaders_only or team.")] = None,
    team: Annotated[str | None, typer.Option(help="The team, for --audience team.")] = None,
    capacity: Annotated[int | None, typer.Option(min=0, help="Seats in the room.")] = None,
    facilitator: Annotated[list[str] | None, typer.Option(help="A facilitator (repeat; default: the "
                                                                "community's).")] = None,
    fields: Annotated[str | None, typer.Option(help="The type's extra fields as a JSON object.")] = None,
    id: Annotated[str | None, typer.Option("--id", help="Id to use; generated when absent.")] = None,
    tz: TzOption = None,
    gateway: GatewayOption = None,
    token: TokenOption = None,
) -> None:
    """Schedule a session or a recurring series; prints its id (and any conflict warnings on stderr)."""
    body = compact({
        "id": id, "session_type": session_type, "start_time": instant(start, "--start", tz),
        "end_time": instant(end, "--end", tz) if end else None, "title": title, "agenda": agenda,
        "recurrence": rrule, "modality": modality, "venue": venue_body(venue_name, venue_address),
        "meeting_url": meeting_url, "audience": audience, "team_id": team, "capacity": capacity,
        "facilitator_ids": facilitator or None, "fields": json_object(fields, "--fields")})
    created = call_gateway("sessions create", gateway, token,
                           lambda api: api.post(f"/communities/{community}/sessions", body))
    print_warnings(created)
    typer.echo(created["id"])


@sessions_app.command("cancel")
def cancel_session(
    session: Annotated[str, typer.Argument(help="The session's id.")],
    reason: Annotated[str, typer.Option(help="Shown to participants.")] = "",
    gateway: GatewayOption = None,
    token: TokenOption = None,
) -> None:
    """Cancel a session and its occurrences still ahead."""
    cancelled = call_gateway("sessions cancel", gateway, token,
                             lambda api: api.post(f"/sessions/{session}/cancel", compact({"reason": reason})))
    typer.echo(f"{cancelled['id']}: {cancelled['status']}")


@sessions_app.command("occurrences")
def list_occurrences(
    session: Annotated[str, typer.Argument(help="The session's id.")],
    include_cancelled: Annotated[bool, typer.Option(help="Also cancelled occurrences.")] = True,
    gateway: GatewayOption = None,
    token: TokenOption = None,
) -> None:
    """Every occurrence of the session, moved ones where they now are."""
    items = call_gateway("sessions occurrences", gateway, token, lambda api: list(api.pages(
        f"/sessions/{session}/occurrences", include_cancelled="true" if include_cancelled else None)))
    print_occurrences(f"occurrences of {session} ({len(items)})", items)


def print_occurrences(title: str, items: list[dict]) -> None:
    print_table(title, ("id", "start", "end", "status", "venue", "note"),
                [[o["id"], local(o["local_start"]), local(o["local_end"]), o["status"],
                  (o.get("venue") or {}).get("name") or "-", o.get("cancel_reason") or ""] for o in items])


def json_object(text: str | None, option: str) -> dict | None:
    if text is None:
        return None
    try:
        value = json.loads(text)
    except ValueError as error:
        raise fail(f"copnet: {option} is not JSON: {error}", 2) from None
    if not isinstance(value, dict):
        raise fail(f"copnet: {option} must be a JSON object", 2)
    return value


# -- occurrences ----------------------------------------------------------------------------------
@occurrences_app.command("move")
def move_occurrence(
    occurrence: Annotated[str, typer.Argument(help='The occurrence\'s id ("<session>:<original start>").')],
    start: Annotated[str, typer.Option(help="The new start: ISO 8601 with an offset, or with --tz.")],
    end: Annotated[str | None, typer.Option(help="The new end (default: start + the occurrence's length).")] = None,
    venue_name: Annotated[str | None, typer.Option(help="A different room for this occurrence only.")] = None,
    venue_address: Annotated[str | None, typer.Option(help="That room's address.")] = None,
    tz: TzOption = None,
    gateway: GatewayOption = None,
    token: TokenOption = None,
) -> None:
    """Move one occurrence; the rest of the series stays."""
    body = compact({"start_time": instant(start, "--start", tz), "end_time": instant(end, "--end", tz) if end else None,
                    "venue": venue_body(venue_name, venue_address)})
    moved = call_gateway("occurrences move", gateway, token,
                         lambda api: api.post(f"/occurrences/{occurrence}/move", body))
    print_warnings(moved)
    typer.echo(f"{moved['id']}: {moved['status']} to {local(moved['local_start'])}")


@occurrences_app.command("cancel")
def cancel_occurrence(
    occurrence: Annotated[str, typer.Argument(help="The occurrence's id.")],
    reason: Annotated[str, typer.Option(help="Shown to participants.")] = "",
    gateway: GatewayOption = None,
    token: TokenOption = None,
) -> None:
    """Cancel one occurrence; the rest of the series stays."""
    cancelled = call_gateway("occurrences cancel", gateway, token,
                             lambda api: api.post(f"/occurrences/{occurrence}/cancel", compact({"reason": reason})))
    typer.echo(f"{cancelled['id']}: {cancelled['status']}")


@occurrences_app.command("restore")
def restore_occurrence(
    occurrence: Annotated[str, typer.Argument(help="The occurrence's id.")],
    gateway: GatewayOption = None,
    token: TokenOption = None,
) -> None:
    """Put a moved or cancelled occurrence back where the series puts it."""
    restored = call_gateway("occurrences restore", gateway, token,
                            lambda api: api.post(f"/occurrences/{occurrence}/restore", {}))
    print_warnings(restored)
    typer.echo(f"{restored['id']}: {restored['status']} at {local(restored['local_start'])}")
