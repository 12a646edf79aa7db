"""Two bookings of one room whose transactions overlap (real SecantusDB, real transactions): the
venue lock makes the second one conflict as soon as it touches the lock, its transaction is
retried, and the retry sees the first booking and refuses.

(MongoDB lets two transactions insert different documents side by side, so without the lock both
would see a free room and both commit; the lock document is the one thing they both write.)"""

from __future__ import annotations

import datetime as dt
import threading

import mongoengine
import pytest
from copnet.kernel import db
from copnet.kernel.errors import FailedPrecondition
from copnet.scheduling import conflicts
from copnet.scheduling.conflicts import Booking
from copnet.scheduling.models import Occurrence, VenueLock
from pymongo.errors import OperationFailure

pytestmark = pytest.mark.integration

DATABASE = "copnet_room_lock_tests"
ROOM = conflicts.venue_key("in_person", "Room 4", "1 Main St")
T0 = dt.datetime(2026, 10, 13, 16, tzinfo=dt.UTC)
WAIT_SECONDS = 10


@pytest.fixture
def database(services):
    db.connect(services.mongodb_uri, DATABASE)
    client = db.client()
    client.drop_database(DATABASE)
    db.ensure_indexes(db.OutboxEntry, Occurrence, VenueLock)
    yield client[DATABASE]
    client.drop_database(DATABASE)
    mongoengine.disconnect()


def occurrence(session_id: str, minutes_later: int) -> Occurrence:
    start = T0 + dt.timedelta(minutes=minutes_later)
    return Occurrence(id=f"{session_id}:1", session_id=session_id, community_id="c", original_start=start,
                      start_at=start, end_at=start + dt.timedelta(hours=2), modality="in_person", venue_key=ROOM)


def test_the_venue_lock_makes_the_second_of_two_overlapping_bookings_retry_and_see_the_first(database):
    a_booked, b_tried = threading.Event(), threading.Event()
    outcomes: dict[str, str] = {}
    b_attempts: list[str] = []   # how each of B's attempts ended

    def hold(uow, mine: Occurrence) -> None:
        conflicts.hold_rooms(uow, [Booking(mine.id, mine.start_at, mine.end_at, ROOM)])

    def book_a(uow):
        mine = occurrence("a", 0)
        hold(uow, mine)
        uow.insert(mine)
        a_booked.set()
        # Stay uncommitted until B has tried: B's first attempt overlaps this transaction.
        assert b_tried.wait(WAIT_SECONDS)

    def book_b(uow):
        if not b_attempts:
            assert a_booked.wait(WAIT_SECONDS)
        mine = occurrence("b", 30)
        try:
            hold(uow, mine)
        except OperationFailure as error:
            b_attempts.append("lock conflict" if error.has_error_label("TransientTransactionError") else str(error))
            raise
        except FailedPrecondition as refusal:
            b_attempts.append(refusal.reason)
            raise
        finally:
            b_tried.set()
        uow.insert(mine)
        b_attempts.append("booked")

    def run(name, work):
        try:
            db.run_in_transaction(work, "test")
            outcomes[name] = "booked"
        except FailedPrecondition as refusal:
            outcomes[name] = refusal.reason

    conflicts.prepare_locks([ROOM])
    threads = [threading.Thread(target=run, args=("a", book_a)), threading.Thread(target=run, args=("b", book_b))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert outcomes == {"a": "booked", "b": "ROOM_DOUBLE_BOOKED"}
    assert b_attempts[0] == "lock conflict" and b_attempts[-1] == "ROOM_DOUBLE_BOOKED"
    assert [o["_id"] for o in database.occurrences.find()] == ["a:1"]
