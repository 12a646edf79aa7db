"""Versions per (kind, key), on an in-memory unit of work: the first content is version 1, the same
content sends nothing, a change sends the next version, a gone entity sends one withdrawn record
(and nothing more until it is back), and an older reflection message never replaces a newer one.
Each record goes out on its kind's share subject, in the same unit of work as the ledger's update."""

from __future__ import annotations

import copy
import datetime as dt

from copnet.kernel.service import ServiceContext
from copnet.kernel.settings import load_settings
from copnet.share import ledger
from copnet.share.ledger import Change, SharedEntity
from copnet.share.v1 import share_pb2

NOW = dt.datetime(2026, 9, 10, 12, tzinfo=dt.UTC)


class MemoryUow:
    """The part of UnitOfWork the ledger uses: find_one / update_one ($set, upsert) by _id, emit_many."""

    def __init__(self):
        self.docs: dict[str, dict] = {}
        self.emitted: list[tuple[str, object]] = []

    def find_one(self, cls, filter):
        son = self.docs.get(filter["_id"])
        return None if son is None else cls._from_son(copy.deepcopy(son))

    def update_one(self, cls, filter, update, *, upsert=False):
        son = self.docs.get(filter["_id"])
        if son is None:
            assert upsert
            son = self.docs[filter["_id"]] = {"_id": filter["_id"]}
        son.update(copy.deepcopy(update["$set"]))

    def emit_many(self, events, *, subject=None):
        self.emitted += [(subject, event) for event in events]


CTX = ServiceContext("share", load_settings(region="bay"), plugins=None)


def program(name: str) -> share_pb2.SharedProgram:
    return share_pb2.SharedProgram(id="p1", name=name, owner_organization_id="ca-bay-area", program_year="2026-27")


def sent(uow: MemoryUow, *changes: Change) -> list[share_pb2.SharedRecord]:
    before = len(uow.emitted)
    assert ledger.share(CTX, uow, list(changes), NOW) == len(uow.emitted) - before
    records = []
    for subject, event in uow.emitted[before:]:
        record = event.payload(share_pb2.SharedRecord)
        assert subject == f"copnet-share.bay.{record.kind}"
        assert event.type == "copnet.share.record.published" and event.subject == record.key
        records.append(record)
    return records


def test_first_content_is_version_one_and_the_same_content_sends_nothing():
    uow = MemoryUow()
    [first] = sent(uow, Change("catalog", "program:p1", program("Math CoP")))
    assert (first.version, first.withdrawn, first.program.name, first.region) == (1, False, "Math CoP", "bay")
    assert sent(uow, Change("catalog", "program:p1", program("Math CoP"))) == []


def test_a_change_of_content_is_the_next_version():
    uow = MemoryUow()
    sent(uow, Change("catalog", "program:p1", program("Math CoP")))
    [second] = sent(uow, Change("catalog", "program:p1", program("Bay Area Math CoP")))
    assert second.version == 2 and second.program.name == "Bay Area Math CoP"
    doc = SharedEntity._from_son(uow.docs["catalog program:p1"])
    assert (doc.version, doc.withdrawn, doc.kind, doc.key) == (2, False, "catalog", "program:p1")


def test_a_gone_entity_is_withdrawn_once_and_shared_again_when_it_is_back():
    uow = MemoryUow()
    sent(uow, Change("catalog", "program:p1", program("Math CoP")))
    [withdrawn] = sent(uow, Change("catalog", "program:p1", None))
    assert withdrawn.withdrawn and withdrawn.version == 2 and withdrawn.WhichOneof("content") is None
    assert sent(uow, Change("catalog", "program:p1", None)) == []
    [back] = sent(uow, Change("catalog", "program:p1", program("Math CoP")))
    assert back.version == 3 and not back.withdrawn


def test_something_never_shared_is_not_withdrawn():
    assert sent(MemoryUow(), Change("catalog", "community:draft", None)) == []


def test_an_older_reflection_message_does_not_replace_a_newer_one():
    uow = MemoryUow()
    sent(uow, Change("catalog", "program:p1", program("v5"), source_version=5))
    assert sent(uow, Change("catalog", "program:p1", program("v4"), source_version=4)) == []
    assert sent(uow, Change("catalog", "program:p1", program("v5 again"), source_version=5)) == []
    [newer] = sent(uow, Change("catalog", "program:p1", program("v6"), source_version=6))
    assert newer.version == 2


def test_each_kind_goes_to_its_own_subject():
    uow = MemoryUow()
    records = sent(uow, Change("catalog", "program:p1", program("Math CoP")),
                   Change("directory", "organization:o1", share_pb2.SharedOrganization(id="o1", name="O")))
    assert sorted(r.kind for r in records) == ["catalog", "directory"]
    assert sorted(subject for subject, _ in uow.emitted) == ["copnet-share.bay.catalog", "copnet-share.bay.directory"]


def test_differs_tells_what_would_be_sent_without_a_transaction():
    known = SharedEntity(id="catalog program:p1", kind="catalog", key="program:p1", version=1,
                         digest=Change("catalog", "program:p1", program("A")).digest, shared_at=NOW)
    assert not ledger.differs(known, Change("catalog", "program:p1", program("A")))
    assert ledger.differs(known, Change("catalog", "program:p1", program("B")))
    assert ledger.differs(known, Change("catalog", "program:p1", None))
    assert not ledger.differs(None, Change("catalog", "program:p1", None))
