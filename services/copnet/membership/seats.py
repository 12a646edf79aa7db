"""The seat ledger: taking seats, the waiting list, and promotion from it.

Every function here runs inside a unit of work and updates the community's counters in the same
transaction as the registrations it changes (see models.Community). Each counter update is
conditional on what this transaction read, so a ledger that moved underneath would fail loudly
rather than overbook (the database's write conflicts make that a retry in practice).
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from copnet.kernel import db
from copnet.kernel.errors import FailedPrecondition
from copnet.kernel.service import ServiceContext
from copnet.membership.models import Community, Registration

CONFIRMED, WAITLISTED, CANCELLED = "confirmed", "waitlisted", "cancelled"
T = TypeVar("T")

# One lock per community ledger, per process (dropped when no request holds it).
_ledger_locks: weakref.WeakValueDictionary[str, threading.Lock] = weakref.WeakValueDictionary()
_ledger_locks_guard = threading.Lock()


def ledger_transaction(ctx: ServiceContext, community_id: str, work: Callable[[db.UnitOfWork], T]) -> T:
    """Run `work` (which changes `community_id`'s seat ledger) in one transaction, one at a time per
    community in this process.

    Correctness does not depend on the lock: the database serializes transactions that write the
    same community document, so replicas of this service never overbook either. The lock is
    there for throughput. Under a burst (hundreds of sign-ups for one community at once), letting
    every transaction run concurrently makes all but one fail on a write conflict and retry from
    the start, again and again; queueing them in the process lets each commit at its first try.
    """
    with _ledger_locks_guard:
        lock = _ledger_locks.get(community_id)
        if lock is None:
            lock = _ledger_locks[community_id] = threading.Lock()
    with lock:
        return ctx.transaction(work)


class LedgerMoved(RuntimeError):
    """A conditional ledger update matched nothing: the community changed inside this transaction."""


@dataclass(frozen=True)
class Placement:
    """Where a group arriving together (one person, or a team) landed."""

    status: str
    # Sequences first_sequence .. first_sequence + size - 1, one per member, in arrival order.
    first_sequence: int
    # The shared waiting-list ticket and 1-based place (0 when confirmed).
    ticket: int = 0
    waitlist_position: int = 0


def free_seats(community: Community) -> int:
    return max(community.capacity - community.confirmed_count, 0)


def place(uow: db.UnitOfWork, community: Community, size: int, now, *, waitlist_open: bool) -> Placement:
    """Confirm `size` people together if they all fit and nobody is waiting ahead of them;
    otherwise put them on the waiting list as one entry, or refuse when `waitlist_open` is False."""
    ledger = {"_id": community.id, "status": "open", "registration_sequence": community.registration_sequence}
    first_sequence = community.registration_sequence + 1
    if community.waitlist_entries == 0 and size <= free_seats(community):
        _update(uow, {**ledger, "confirmed_count": {"$lte": community.capacity - size}},
                {"$inc": {"confirmed_count": size, "registration_sequence": size}})
        return Placement(CONFIRMED, first_sequence)
    if not waitlist_open:
        why = ("seats remain, but people are already waiting for them"
               if community.waitlist_entries and free_seats(community) else "no seats remain")
        raise FailedPrecondition(f"sign-up stays open after the soft deadline only while seats remain: {why}",
                                 reason="SIGNUP_FULL")
    _update(uow, ledger, {"$inc": {"waitlisted_count": size, "waitlist_entries": 1, "waitlist_ticket": 1,
                                   "registration_sequence": size}})
    return Placement(WAITLISTED, first_sequence, ticket=community.waitlist_ticket + 1,
                     waitlist_position=community.waitlist_entries + 1)


def release(uow: db.UnitOfWork, registration: Registration) -> None:
    """Give back what a registration held (its seat, or its part of a waiting-list entry).

    Call after marking it cancelled: a team's entry leaves the list with its last waiting member.
    """
    if registration.status == CONFIRMED:
        _update(uow, {"_id": registration.community_id, "confirmed_count": {"$gte": 1}},
                {"$inc": {"confirmed_count": -1}})
    elif registration.status == WAITLISTED:
        still_waiting = uow.find_one(Registration, {"community_id": registration.community_id, "status": WAITLISTED,
                                                    "waitlist_ticket": registration.waitlist_ticket})
        entries = 0 if still_waiting else 1
        _update(uow, {"_id": registration.community_id, "waitlisted_count": {"$gte": 1},
                      "waitlist_entries": {"$gte": entries}},
                {"$inc": {"waitlisted_count": -1, "waitlist_entries": -entries}})


def waitlist_position(uow: db.UnitOfWork, registration: Registration) -> int:
    """1 + the waiting-list entries ahead (a team is one entry); 0 unless waitlisted."""
    if registration.status != WAITLISTED:
        return 0
    ahead = uow.distinct(Registration, "waitlist_ticket", {
        "community_id": registration.community_id, "status": WAITLISTED,
        "waitlist_ticket": {"$lt": registration.waitlist_ticket}})
    return len(ahead) + 1


def waiting_tickets(uow: db.UnitOfWork, community_id: str) -> list[int]:
    """The community's waiting-list tickets, head first (a page of a roster ranks against these)."""
    return sorted(uow.distinct(Registration, "waitlist_ticket", {"community_id": community_id,
                                                                 "status": WAITLISTED}))


def promote_from_waitlist(uow: db.UnitOfWork, community_id: str) -> list[Registration]:
    """Fill the community's free seats from the head of its waiting list, first come first served.

    Free seats are capacity - confirmed_count as read in this transaction, so a caller that
    changes capacity writes it first. A waitlisted team moves up only as a whole and, until it
    fits, those behind it wait too. Updates the counters and returns the promoted registrations
    (the caller announces them).
    """
    community = uow.find_one(Community, {"_id": community_id})
    if community is None or community.status == "completed":
        return []
    promoted: list[Registration] = []
    free = free_seats(community)
    now = db.utcnow()
    while free > 0:
        head = _waiting_entry(uow, community_id)
        if not head or len(head) > free:
            break
        for registration in head:
            _promote(uow, registration, now)
        _update(uow, {"_id": community_id, "confirmed_count": {"$lte": community.capacity - len(head)},
                      "waitlisted_count": {"$gte": len(head)}, "waitlist_entries": {"$gte": 1}},
                {"$inc": {"confirmed_count": len(head), "waitlisted_count": -len(head), "waitlist_entries": -1}})
        community.confirmed_count += len(head)
        free -= len(head)
        promoted += head
    return promoted


def _waiting_entry(uow: db.UnitOfWork, community_id: str) -> list[Registration]:
    """The registrations of the head of the waiting list (several for a team), in sequence order."""
    waiting = {"community_id": community_id, "status": WAITLISTED}
    first = uow.find_one(Registration, waiting, sort=[("waitlist_ticket", 1)])
    if first is None:
        return []
    return uow.find_all(Registration, {**waiting, "waitlist_ticket": first.waitlist_ticket}, sort=[("sequence", 1)])


def _promote(uow: db.UnitOfWork, registration: Registration, now) -> None:
    # Conditional on "waitlisted": one registration is never promoted twice.
    _update(uow, {"_id": registration.id, "status": WAITLISTED},
            {"$set": {"status": CONFIRMED, "promoted_at": now, "waitlist_ticket": 0}}, document=Registration)
    registration.status, registration.promoted_at, registration.waitlist_ticket = CONFIRMED, now, 0


def _update(uow: db.UnitOfWork, filter: dict, update: dict, *, document=Community) -> None:
    if uow.update_one(document, filter, update).matched_count != 1:
        raise LedgerMoved(f"{document.__name__} {filter['_id']!r} no longer matches {filter}")
