"""Conflicts between occurrences: a room booked twice is refused, a person expected in two places
at once is a warning.

Room double-booking is checked inside the writing transaction after touching a VenueLock per
venue: two concurrent bookings of one room then write the same lock document, the database
reports a write conflict, the loser's transaction is retried and its re-check sees the winner.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from copnet.kernel import db
from copnet.kernel.errors import FailedPrecondition, FieldViolation
from copnet.kernel.timestamps import timestamp
from copnet.scheduling.models import Occurrence, VenueLock
from copnet.scheduling.v1 import scheduling_pb2

MAX_WARNINGS = 100
UNBOOKED = ""


def _collapsed(text: str) -> str:
    return " ".join(text.lower().split())


def venue_key(modality: str, name: str, address: str) -> str:
    """The room an occurrence books: normalized "name|address", or "" when it books none (virtual,
    or no venue named)."""
    if modality == "virtual" or not name.strip():
        return UNBOOKED
    return f"{_collapsed(name)}|{_collapsed(address)}"


@dataclass(frozen=True)
class Booking:
    """An occurrence being written: its id, time and room."""

    occurrence_id: str
    start: dt.datetime
    end: dt.datetime
    venue_key: str = UNBOOKED


def overlaps(start: dt.datetime, end: dt.datetime, other_start: dt.datetime, other_end: dt.datetime) -> bool:
    return start < other_end and other_start < end


def prepare_locks(keys: Iterable[str]) -> None:
    """Make sure each venue's lock document exists (outside the transaction, idempotent), so that
    inside it two bookings *update* the same document and conflict, instead of racing to insert it."""
    for key in sorted(set(keys) - {UNBOOKED}):
        VenueLock.objects(id=key).update_one(set_on_insert__touched_at=db.utcnow(), upsert=True)


def touch_locks(uow: db.UnitOfWork, keys: Iterable[str]) -> None:
    now = db.utcnow()
    for key in sorted(set(keys) - {UNBOOKED}):
        uow.update_one(VenueLock, {"_id": key}, {"$set": {"touched_at": now}}, upsert=True)


def _overlapping_query(bookings: Sequence[Booking]) -> dict:
    return {"status": {"$ne": "cancelled"},
            "start_at": {"$lt": max(b.end for b in bookings)},
            "end_at": {"$gt": min(b.start for b in bookings)}}


def hold_rooms(uow: db.UnitOfWork, bookings: Sequence[Booking], *, own_session_id: str = "",
               own_occurrence_ids: Iterable[str] = ()) -> None:
    """Lock the rooms of `bookings`, then refuse if one is taken: first thing in a booking transaction."""
    touch_locks(uow, [b.venue_key for b in bookings])
    check_rooms_free(uow, bookings, own_session_id=own_session_id, own_occurrence_ids=own_occurrence_ids)


def check_rooms_free(uow: db.UnitOfWork, bookings: Sequence[Booking], *, own_session_id: str = "",
                     own_occurrence_ids: Iterable[str] = ()) -> None:
    """ROOM_DOUBLE_BOOKED when a booking's room is taken by another non-cancelled occurrence at an
    overlapping time (the session's own occurrences, or the given ones, excepted)."""
    booked = [b for b in bookings if b.venue_key != UNBOOKED]
    if not booked:
        return
    query = _overlapping_query(booked) | {"venue_key": {"$in": sorted({b.venue_key for b in booked})}}
    if own_session_id:
        query["session_id"] = {"$ne": own_session_id}
    excluded = set(own_occurrence_ids)
    taken = uow.find_all(Occurrence, query, sort=[("start_at", 1)])
    for booking in booked:
        for other in taken:
            if (other.id not in excluded and other.venue_key == booking.venue_key
                    and overlaps(booking.start, booking.end, other.start_at, other.end_at)):
                message = (f"the room is already booked by session {other.session_id!r} ({other.title}) from "
                           f"{other.start_at:%Y-%m-%d %H:%M} to {other.end_at:%Y-%m-%d %H:%M} UTC")
                raise FailedPrecondition(message, reason="ROOM_DOUBLE_BOOKED",
                                         fields=[FieldViolation("venue", message)],
                                         metadata={"other_session_id": other.session_id,
                                                   "other_occurrence_id": other.id})


def warnings_for(bookings: Sequence[Booking], facilitator_ids: Iterable[str], expected: set[str], *,
                 own_session_id: str, people_at: Callable[[Occurrence],
                                                          set[str]]) -> list[scheduling_pb2.ConflictWarning]:
    """People of this write (its facilitators and expected attendees) who are also expected at an
    overlapping occurrence of another session: one range query, then a pairwise check."""
    if not bookings:
        return []
    query = _overlapping_query(bookings) | {"session_id": {"$ne": own_session_id}}
    others = list(Occurrence.objects(__raw__=query).order_by("start_at"))
    return overlap_warnings(bookings, others, set(facilitator_ids), expected, people_at)


def overlap_warnings(bookings: Sequence[Booking], others: Sequence[Occurrence], facilitators: set[str],
                     expected: set[str], people_at: Callable[[Occurrence],
                                                             set[str]]) -> list[scheduling_pb2.ConflictWarning]:
    """FACILITATOR_OVERLAP for someone facilitating this write, PARTICIPANT_OVERLAP for anyone else
    it expects; at most MAX_WARNINGS (a long series against a busy calendar would say the same
    thing hundreds of times)."""
    ours = facilitators | expected
    found: list[scheduling_pb2.ConflictWarning] = []
    for booking in sorted(bookings, key=lambda b: b.start):
        for other in others:
            if not overlaps(booking.start, booking.end, other.start_at, other.end_at):
                continue
            for person_id in sorted(ours & people_at(other)):
                found.append(warning(booking, other, person_id, person_id in facilitators))
                if len(found) >= MAX_WARNINGS:
                    return found
    return found


def warning(booking: Booking, other: Occurrence, person_id: str, facilitating: bool) -> scheduling_pb2.ConflictWarning:
    role = "facilitator" if facilitating else "participant"
    kind = (scheduling_pb2.ConflictWarning.KIND_FACILITATOR_OVERLAP if facilitating
            else scheduling_pb2.ConflictWarning.KIND_PARTICIPANT_OVERLAP)
    return scheduling_pb2.ConflictWarning(
        kind=kind,
        person_id=person_id, occurrence_id=booking.occurrence_id, other_occurrence_id=other.id,
        other_session_id=other.session_id, other_community_id=other.community_id,
        other_start_time=timestamp(other.start_at), other_end_time=timestamp(other.end_at),
        message=(f"{person_id} ({role}) is also expected at {other.title!r} of community {other.community_id!r} "
                 f"from {other.start_at:%Y-%m-%d %H:%M} to {other.end_at:%Y-%m-%d %H:%M} UTC"))
