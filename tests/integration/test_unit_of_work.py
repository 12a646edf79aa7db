"""A change and its event are one atomic write (real SecantusDB, real transactions)."""

from __future__ import annotations

import mongoengine
import pytest
from pymongo.errors import DuplicateKeyError

from copnet.events.v1 import events_pb2
from copnet.kernel import db
from copnet.kernel.events import CloudEvent

pytestmark = pytest.mark.integration


class Thing(mongoengine.Document):
    id = mongoengine.StringField(primary_key=True)
    name = mongoengine.StringField(required=True)
    meta = {"collection": "things"}


@pytest.fixture
def database(services):
    db.connect(services.mongodb_uri, "copnet_uow_tests")
    client = db.client()
    client.drop_database("copnet_uow_tests")
    db.ensure_indexes(db.OutboxEntry, db.InboxEntry, Thing)
    yield client["copnet_uow_tests"]
    client.drop_database("copnet_uow_tests")
    mongoengine.disconnect()


def an_event(subject: str) -> CloudEvent:
    return CloudEvent.of("copnet.test.thing.created", "copnet/test/test", subject,
                         events_pb2.OrganizationCreated(organization_id=subject))


def test_change_and_event_commit_together(database):
    def work(uow):
        uow.insert(Thing(id="a", name="A"))
        uow.emit(an_event("a"))

    db.run_in_transaction(work, "test")
    assert database.things.count_documents({}) == 1
    [entry] = database.outbox.find()
    assert entry["subject"] == "copnet.test.test.thing.created"
    assert entry["event"]["subject"] == "a"


def test_a_failure_after_the_write_leaves_neither_change_nor_event(database):
    def work(uow):
        uow.insert(Thing(id="b", name="B"))
        uow.emit(an_event("b"))
        raise RuntimeError("rule broken after writing")

    with pytest.raises(RuntimeError):
        db.run_in_transaction(work, "test")
    assert database.things.count_documents({}) == 0
    assert database.outbox.count_documents({}) == 0


def test_a_duplicate_key_rolls_back_the_whole_unit(database):
    db.run_in_transaction(lambda uow: uow.insert(Thing(id="c", name="C")), "test")

    def work(uow):
        uow.emit(an_event("c2"))
        uow.insert(Thing(id="c", name="again"))

    with pytest.raises(DuplicateKeyError):
        db.run_in_transaction(work, "test")
    assert database.outbox.count_documents({}) == 0
    assert database.things.find_one({"_id": "c"})["name"] == "C"


def test_invalid_document_is_refused_before_anything_is_written(database):
    with pytest.raises(mongoengine.ValidationError):
        db.run_in_transaction(lambda uow: (uow.emit(an_event("d")), uow.insert(Thing(id="d"))), "test")
    assert database.outbox.count_documents({}) == 0


def test_an_event_is_applied_once_per_consumer(database):
    event = an_event("e")

    def apply(uow):
        uow.mark_applied(event, "counter")
        uow.update_one(Thing, {"_id": "counter"}, {"$inc": {"applied": 1}, "$set": {"name": "n"}}, upsert=True)

    db.run_in_transaction(apply, "test")
    with pytest.raises(db.AlreadyApplied):
        db.run_in_transaction(apply, "test")
    assert database.things.find_one({"_id": "counter"})["applied"] == 1
    # Another consumer in the same service applies the same event on its own account.
    db.run_in_transaction(lambda uow: uow.mark_applied(event, "another"), "test")
    assert database.inbox.count_documents({}) == 2


def test_relays_claim_each_pending_event_once_and_can_give_claims_back(database):
    from copnet.kernel import outbox

    for subject in ("r1", "r2", "r3"):
        db.run_in_transaction(lambda uow, s=subject: uow.emit(an_event(s)), "test")
    first = outbox.claim_batch()
    assert sorted(e.event["subject"] for e in first) == ["r1", "r2", "r3"]
    assert outbox.claim_batch() == []                      # a second relay finds them leased
    outbox.release([first[2].id])
    assert [e.id for e in outbox.claim_batch()] == [first[2].id]
    outbox.mark_published([e.id for e in first])
    assert database.outbox.count_documents({}) == 0


def test_relays_racing_for_a_backlog_split_it_without_overlap(database):
    from concurrent.futures import ThreadPoolExecutor

    from copnet.kernel import outbox

    for index in range(120):
        db.run_in_transaction(lambda uow, s=f"race{index}": uow.emit(an_event(s)), "test")
    with ThreadPoolExecutor(4) as pool:
        batches = list(pool.map(lambda _: outbox.claim_batch(limit=50), range(4)))
    claimed = [entry.id for batch in batches for entry in batch]
    assert len(claimed) == len(set(claimed))               # nobody's lease was taken over
    leftover = outbox.claim_batch(limit=500)
    assert len(claimed) + len(leftover) == 120
    outbox.mark_published(claimed + [e.id for e in leftover])


def test_many_document_reads_and_writes_see_the_transaction_and_roll_back_with_it(database):
    def work(uow):
        uow.insert_many([Thing(id="m1", name="one"), Thing(id="m2", name="two"), Thing(id="m3", name="three")])
        uow.update_many(Thing, {"_id": {"$in": ["m1", "m2"]}}, {"$set": {"name": "renamed"}})
        uow.delete_many(Thing, {"_id": "m3"})
        seen = [(t.id, t.name) for t in uow.find_all(Thing, {}, sort=[("_id", -1)])]
        assert seen == [("m2", "renamed"), ("m1", "renamed")]   # its own writes, in the order asked
        raise RuntimeError("then a rule fails")

    with pytest.raises(RuntimeError):
        db.run_in_transaction(work, "test")
    assert database.things.count_documents({}) == 0

    def commit(uow):
        uow.insert_many([Thing(id="k1", name="one"), Thing(id="k2", name="two")])
        uow.update_many(Thing, {}, {"$set": {"name": "kept"}})

    db.run_in_transaction(commit, "test")
    assert list(database.things.find({}, {"name": 1}).sort("_id", 1)) == [{"_id": "k1", "name": "kept"},
                                                                         {"_id": "k2", "name": "kept"}]


def test_replace_one_writes_the_whole_document_only_where_the_condition_holds(database):
    database.things.insert_one({"_id": "r", "name": "old"})

    def replace(name: str, condition: dict):
        return lambda uow: uow.replace_one(Thing(id="r", name=name), condition)

    assert db.run_in_transaction(replace("new", {"name": "old"}), "test") is True
    assert db.run_in_transaction(replace("newer", {"name": "old"}), "test") is False
    assert database.things.find_one({"_id": "r"}) == {"_id": "r", "name": "new"}
    with pytest.raises(mongoengine.ValidationError):
        db.run_in_transaction(replace(None, {}), "test")
