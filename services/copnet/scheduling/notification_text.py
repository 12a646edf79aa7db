"""The words of a session reminder: a subject and a plain-text body, times in the occurrence's
own time zone ("Tue Oct 13, 4:00 PM PDT"), so every notifier sends the same text.

English names are spelled out here rather than taken from strftime's %a/%b/%p, which follow
the process locale.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from dataclasses import dataclass

from copnet.scheduling.v1 import scheduling_pb2

DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
SHOWS_VENUE = (scheduling_pb2.MODALITY_IN_PERSON, scheduling_pb2.MODALITY_HYBRID)


@dataclass(frozen=True)
class ReminderText:
    subject: str
    body: str


def zone_of(name: str) -> dt.tzinfo:
    """The IANA zone, or UTC when it is empty or unknown (a reminder still goes out)."""
    try:
        return zoneinfo.ZoneInfo(name) if name else dt.UTC
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return dt.UTC


def clock_time(local: dt.datetime) -> str:
    """4:00 PM"""
    hour = local.hour % 12 or 12
    return f"{hour}:{local.minute:02d} {'AM' if local.hour < 12 else 'PM'}"


def day(local: dt.datetime) -> str:
    """Tue Oct 13"""
    return f"{DAYS[local.weekday()]} {MONTHS[local.month - 1]} {local.day}"


def moment(instant: dt.datetime, zone: dt.tzinfo) -> str:
    """Tue Oct 13, 4:00 PM PDT"""
    local = instant.astimezone(zone)
    return f"{day(local)}, {clock_time(local)} {local.tzname()}"


def span(start: dt.datetime, end: dt.datetime, zone: dt.tzinfo) -> str:
    """Tue Oct 13, 4:00 – 7:00 PM PDT; the end in full when it falls on another day or in
    another offset (a session across a daylight-saving change)."""
    first, last = start.astimezone(zone), end.astimezone(zone)
    if end <= start:
        return moment(start, zone)
    if first.date() != last.date() or first.tzname() != last.tzname():
        return f"{moment(start, zone)} – {moment(end, zone)}"
    start_clock, end_clock = clock_time(first), clock_time(last)
    if start_clock[-2:] == end_clock[-2:]:
        start_clock = start_clock[:-3]
    return f"{day(first)}, {start_clock} – {end_clock} {first.tzname()}"


def where(occurrence: scheduling_pb2.Occurrence) -> str:
    if occurrence.modality not in SHOWS_VENUE:
        return ""
    return ", ".join(part for part in (occurrence.venue.name.strip(), occurrence.venue.address.strip()) if part)


def reminder_text(occurrence: scheduling_pb2.Occurrence, community_name: str, agenda: str = "") -> ReminderText:
    """The reminder of one occurrence of a session of `community_name`."""
    zone = zone_of(occurrence.time_zone)
    start = occurrence.start_time.ToDatetime(tzinfo=dt.UTC)
    end = occurrence.end_time.ToDatetime(tzinfo=dt.UTC)
    title = occurrence.title.strip() or community_name or "Session"
    subject = f"Reminder: {title} — {moment(start, zone)}"
    lines = [f"{title}, a session of {community_name}." if community_name and community_name != title
             else f"{title}.",
             f"When: {span(start, end, zone)}"]
    if place := where(occurrence):
        lines.append(f"Where: {place}")
    if occurrence.meeting_url:
        lines.append(f"Join: {occurrence.meeting_url}")
    if agenda.strip():
        lines += ["", "Agenda:", agenda.strip()]
    return ReminderText(subject=subject, body="\n".join(lines))
