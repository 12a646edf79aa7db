"""MongoDB through mongoengine, and the unit of work that makes a change and its events atomic.

mongoengine 0.29 has no transactions, so a unit of work runs on a pymongo session inside a
multi-document transaction (a replica set: MongoDB 7 single-node sets and the embedded
SecantusDB both have one). Documents are validated by mongoengine and written as
`to_mongo()` through the session; reads outside a unit of work use mongoengine as usual.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from typing import TypeVar

import mongoengine
import pymongo
from pymongo.errors import DuplicateKeyError
from pymongo.read_concern import ReadConcern
from pymongo.write_concern import WriteConcern

from copnet.kernel.events import CloudEvent
from copnet.kernel.timestamps import to_millisecond

log = logging.getLogger(__name__)
T = TypeVar("T")
D = TypeVar("D", bound=mongoengine.Document)

# Called after a unit of work commits having written outbox entries (wakes the relay).
_after_commit_listeners: list[Callable[[], None]] = []


TRANSACTION_TIMEOUT_SECONDS = 10.0
# MongoDB could not be reached (not a rule broken by the caller): worth retrying later.
DATABASE_UNAVAILABLE = (pymongo.errors.ConnectionFailure, pymongo.errors.ExecutionTimeout)


def connect(uri: str, database: str) -> pymongo.MongoClient:
    """Connect the default mongoengine alias. pymongo connects lazily and reconnects itself."""
    mongoengine.disconnect()
    # Fail fast when MongoDB is away (callers answer UNAVAILABLE well within a gRPC deadline).
    return mongoengine.connect(db=database, host=uri, tz_aware=True, uuidRepresentation="standard",
                               serverSelectionTimeoutMS=2000, connectTimeoutMS=2000)


def client() -> pymongo.MongoClient:
    return mongoengine.get_connection()


def ping() -> bool:
    try:
        client().admin.command("ping")
        return True
    except pymongo.errors.PyMongoError:
        return False


def ensure_indexes(*documents: type[mongoengine.Document]) -> None:
    for document in documents:
        document.ensure_indexes()


def utcnow() -> dt.datetime:
    """Now, to the millisecond (see timestamps.to_millisecond)."""
    return to_millisecond(dt.datetime.now(dt.UTC))


class InboxEntry(mongoengine.Document):
    """An event this service has applied, so a redelivery is recognised and skipped."""

    # "<consumer> <source> <event id>": idempotent by (source, id), per consumer.
    id = mongoengine.StringField(primary_key=True)
    type = mongoengine.StringField(required=True)
    consumer = mongoengine.StringField(required=True)
    applied_at = mongoengine.DateTimeField(required=True)
    meta = {"collection": "inbox", "indexes": ["consumer"]}


class OutboxEntry(mongoengine.Document):
    """An event written in the same transaction as the change it describes, not yet published."""

    id = mongoengine.StringField(primary_key=True)   # the event id
    subject = mongoengine.StringField(required=True)
    event = mongoengine.DictField(required=True)
    created_at = mongoengine.DateTimeField(required=True)
    # A relay claims entries by lease so that several replicas do not publish the same batch;
    # a crashed relay's lease lapses and the sweep picks its entries up.
    claimed_until = mongoengine.DateTimeField(required=True)
    attempts = mongoengine.IntField(default=0)
    # Which relay pass holds the lease (several may race for the same entries).
    claim = mongoengine.StringField()
    meta = {"collection": "outbox", "indexes": [("claimed_until", "created_at")]}


# Values per `$in` query (see in_chunks).
IN_CHUNK = 50


def in_chunks(values: list[T]) -> list[list[T]]:
    """`values` in lists of IN_CHUNK, one `$in` query each. The embedded MongoDB-wire server checks
    every candidate document against every value of an `$in`, so one query's cost grows with the
    square of its list: ten lists of 50 cost a tenth of one of 500 (MongoDB does not mind either way)."""
    return [values[start:start + IN_CHUNK] for start in range(0, len(values), IN_CHUNK)]


class AlreadyApplied(Exception):
    """The event was applied before (found in the inbox)."""


class UnitOfWork:
    """One transaction: document writes, outbox entries, and the inbox record for an event."""

    def __init__(self, session: pymongo.client_session.ClientSession, region: str):
        self.session = session
        self.region = region
        self.events: list[CloudEvent] = []

    def insert(self, document: D) -> D:
        document.validate()
        son = document.to_mongo()
        result = document._get_collection().insert_one(son, session=self.session)
        if document.pk is None:
            document.pk = result.inserted_id
        return document

    def insert_many(self, documents: list[D]) -> list[D]:
        """Insert documents of one class in one round trip (a recurring series' occurrences)."""
        if not documents:
            return documents
        sons = []
        for document in documents:
            document.validate()
            sons.append(document.to_mongo())
        documents[0]._get_collection().insert_many(sons, ordered=True, session=self.session)
        return documents

    def update_one(self, document_class: type[mongoengine.Document], filter: dict, update: dict,
                   *, upsert: bool = False) -> pymongo.results.UpdateResult:
        return document_class._get_collection().update_one(filter, update, upsert=upsert, session=self.session)

    def update_many(self, document_class: type[mongoengine.Document], filter: dict,
                    update: dict) -> pymongo.results.UpdateResult:
        return document_class._get_collection().update_many(filter, update, session=self.session)

    def delete_many(self, document_class: type[mongoengine.Document], filter: dict) -> pymongo.results.DeleteResult:
        return document_class._get_collection().delete_many(filter, session=self.session)

    def replace_one(self, document: mongoengine.Document, condition: dict | None = None) -> bool:
        """Write `document` whole over its stored version, validated; only where that version also
        matches `condition` (e.g. the sequence it was read at). False when nothing matched."""
        document.validate()
        written = document._get_collection().replace_one({**(condition or {}), "_id": document.pk},
                                                         document.to_mongo(), session=self.session)
        return written.matched_count == 1

    def find_all(self, document_class: type[D], filter: dict, *, sort: list[tuple[str, int]] | None = None,
                 limit: int = 0) -> list[D]:
        """Every document matching `filter` (the first `limit` in `sort` order, when given), as this
        transaction sees them."""
        cursor = document_class._get_collection().find(filter, session=self.session, limit=limit)
        if sort:
            cursor = cursor.sort(sort)
        return [document_class._from_son(son) for son in cursor]

    def find_one(self, document_class: type[D], filter: dict, *,
                 sort: list[tuple[str, int]] | None = None) -> D | None:
        """The (first in `sort` order) document matching `filter`, as this transaction sees it."""
        son = document_class._get_collection().find_one(filter, sort=sort, session=self.session)
        return None if son is None else document_class._from_son(son)

    def distinct(self, document_class: type[mongoengine.Document], key: str, filter: dict) -> list:
        """The distinct values of `key` among the documents matching `filter`, as this transaction sees them."""
        return document_class._get_collection().distinct(key, filter, session=self.session)

    def emit(self, event: CloudEvent, *, subject: str | None = None) -> None:
        """Record an event to be published once this unit of work commits, on its own subject
        (copnet.<region>.<type>) unless `subject` says where else (the share stream's)."""
        self.emit_many([event], subject=subject)

    def emit_many(self, events: list[CloudEvent], *, subject: str | None = None) -> None:
        """`emit` each, their outbox entries written in one round trip (a batch of records)."""
        now, never_claimed = utcnow(), dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
        self.insert_many([OutboxEntry(id=event.id, subject=subject or event.nats_subject(self.region),
                                      event=event.to_document(), created_at=now, claimed_until=never_claimed)
                          for event in events])
        self.events.extend(events)

    def mark_applied(self, event: CloudEvent, consumer: str) -> None:
        """Record that `consumer` applied `event`; raises AlreadyApplied on a redelivery."""
        try:
            self.insert(InboxEntry(id=f"{consumer} {event.source} {event.id}", type=event.type, consumer=consumer,
                                   applied_at=utcnow()))
        except DuplicateKeyError:
            raise AlreadyApplied(event.id) from None


def run_in_transaction(work: Callable[[UnitOfWork], T], region: str) -> T:
    """Run `work` in one transaction; retried whole on transient errors, so keep it pure.

    Writes acknowledged by a majority: a write that succeeded is never lost.
    """
    emitted = False
    # Bounded: with_transaction would otherwise retry a transient error (MongoDB away) for 2 minutes.
    with pymongo.timeout(TRANSACTION_TIMEOUT_SECONDS), client().start_session() as session:
        def callback(s):
            nonlocal emitted
            uow = UnitOfWork(s, region)
            result = work(uow)
            emitted = bool(uow.events)
            return result

        result = session.with_transaction(callback, read_concern=ReadConcern("majority"),
                                          write_concern=WriteConcern("majority"))
    if emitted:
        for listener in list(_after_commit_listeners):
            listener()
    return result


def on_commit_with_events(listener: Callable[[], None]) -> None:
    _after_commit_listeners.append(listener)

