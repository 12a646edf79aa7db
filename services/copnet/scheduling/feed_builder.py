"""A session as a calendar sees it: one `copnet.FeedEvent` per session, its occurrences folded
back into a series with exceptions. Pure: stored documents in, plugin types out.

Calendar clients identify an event by UID and apply a change only when SEQUENCE grows, so the
UID is derived from the session id alone (it survives every edit, move and cancellation) and the
sequence is the highest of the session's and its occurrences' (each grows with every change a
client must apply).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from copnet.pluginapi import CalendarFeed, FeedEvent, FeedOverride
from copnet.scheduling.models import Occurrence, Session, Venue
from copnet.scheduling.recurrence import effective_rule


def uid_of(session_id: str, region: str) -> str:
    return f"{session_id}@{region}.copnet"


def feed_event(session: Session, occurrences: Iterable[Occurrence], *, region: str, type_title: str,
               details: Sequence[tuple[str, str]] = ()) -> FeedEvent:
    """`occurrences` are the session's own (any order); `type_title` is its session type's title;
    `details` are (label, text) lines shown under the agenda (see session_details)."""
    ordered = sorted(occurrences, key=lambda o: _utc(o.original_start))
    length = _utc(session.end_at) - _utc(session.start_at)
    # DTSTART of a series is its first instance as the rule placed it, whatever became of it since.
    series_start = _utc(ordered[0].original_start) if session.recurrence and ordered else _utc(session.start_at)
    series_end = series_start + length
    modified = session.updated_at or session.created_at
    event = FeedEvent(
        uid=uid_of(session.id, region),
        sequence=max([session.sequence or 0, *(o.sequence or 0 for o in ordered)]),
        summary=session.title,
        description=description_of(session.agenda, type_title, session.meeting_url, details),
        location=location_of(session.modality, session.venue, session.meeting_url),
        url=session.meeting_url or "", time_zone=session.time_zone,
        cancelled=session.status == "cancelled",
        categories=(type_title,) if type_title else (),
        created=_utc(session.created_at) if session.created_at else None,
        last_modified=_utc(modified) if modified else None,
        start=series_start, end=series_end)
    if not session.recurrence:
        return _single(event, ordered)
    # Cancelling a series part-way cancels only the occurrences still ahead (scheduling keeps the
    # ones that took place, with their attendance): it stays a series with those as exceptions,
    # so clients keep the meetings that happened. Only a series with nothing left is cancelled whole.
    standing = any(o.status != "cancelled" for o in ordered)
    return dataclasses.replace(
        event, cancelled=event.cancelled and not standing,
        rrule=effective_rule(session.recurrence, _utc(ordered[-1].original_start)) if ordered else session.recurrence,
        exdates=tuple(_utc(o.original_start) for o in ordered if o.status == "cancelled"),
        overrides=tuple(_override(o) for o in ordered if _is_exception(o, length)))


def _single(event: FeedEvent, ordered: Sequence[Occurrence]) -> FeedEvent:
    """A one-off session: its one occurrence, moved or cancelled, is the event itself."""
    if not ordered:
        return event
    occurrence = ordered[0]
    return dataclasses.replace(
        event, start=_utc(occurrence.start_at), end=_utc(occurrence.end_at),
        cancelled=event.cancelled or occurrence.status == "cancelled",
        location=(location_of(occurrence.modality, occurrence.venue, occurrence.meeting_url)
                  if occurrence.status == "moved" else event.location))


def _is_exception(occurrence: Occurrence, length: dt.timedelta) -> bool:
    original = _utc(occurrence.original_start)
    return (occurrence.status in ("moved", "cancelled")
            or (_utc(occurrence.start_at), _utc(occurrence.end_at)) != (original, original + length))


def _override(occurrence: Occurrence) -> FeedOverride:
    return FeedOverride(recurrence_id=_utc(occurrence.original_start), start=_utc(occurrence.start_at),
                        end=_utc(occurrence.end_at), cancelled=occurrence.status == "cancelled",
                        location=location_of(occurrence.modality, occurrence.venue, occurrence.meeting_url),
                        sequence=occurrence.sequence or 0)


def location_of(modality: str, venue: Venue | None, meeting_url: str) -> str:
    """Where to go: the room ("name, address"), or the meeting link for a virtual session (and
    for one with no room given)."""
    room = ", ".join(part for part in ((venue.name, venue.address) if venue else ()) if part)
    if modality == "virtual" or not room:
        return meeting_url or room
    return room


def description_of(agenda: str, type_title: str, meeting_url: str, details: Sequence[tuple[str, str]] = ()) -> str:
    """The agenda, the session's details (its type's fields, what to prepare), then what kind of
    session it is and how to join. The link has a line of its own so an exporter that keeps links
    out of a feed can drop it."""
    middle = "\n".join(f"{label}: {text}" for label, text in details if text)
    facts = [f"Session type: {type_title}" if type_title else "", f"Join: {meeting_url}" if meeting_url else ""]
    tail = "\n".join(fact for fact in facts if fact)
    return "\n\n".join(part for part in (agenda.strip(), middle, tail) if part)


def session_details(fields: Mapping[str, Any], schema: Mapping[str, Any],
                    preparation_prompts: Sequence[str] = ()) -> list[tuple[str, str]]:
    """(label, text) lines for a session's type fields (labelled by the schema's `title`, else the
    key made readable; in the schema's order) and for what its type asks participants to prepare."""
    properties = schema.get("properties") if isinstance(schema.get("properties"), Mapping) else {}
    ordered = [key for key in properties if key in fields] + sorted(key for key in fields if key not in properties)
    lines = []
    for key in ordered:
        declared = properties.get(key) if isinstance(properties.get(key), Mapping) else {}
        label = declared.get("title") if isinstance(declared.get("title"), str) else key.replace("_", " ").capitalize()
        lines.append((label, _readable(fields[key])))
    lines.extend(("To prepare", prompt) for prompt in preparation_prompts if prompt)
    return lines


def _readable(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list | tuple):
        return ", ".join(_readable(item) for item in value)
    if isinstance(value, Mapping):
        return "; ".join(f"{key}: {_readable(item)}" for key, item in value.items())
    return str(value)


def calendar_feed(name: str, time_zone: str, events: Iterable[FeedEvent], *, feed_id: str,
                  description: str = "") -> CalendarFeed:
    """The feed, its events in a stable order (by start, then UID) so unchanged data exports the same."""
    return CalendarFeed(name=name, time_zone=time_zone, feed_id=feed_id, description=description,
                        events=tuple(sorted(events, key=lambda event: (event.start, event.uid))))


def _utc(value: dt.datetime) -> dt.datetime:
    """Stored instants are UTC; a naive one (as BSON returns without tz_aware) is read as UTC."""
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)
