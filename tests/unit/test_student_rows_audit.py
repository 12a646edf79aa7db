"""Every read of student-level rows writes its audit entry before it answers: a read whose entry
cannot be written fails and returns nothing; the entry counts rows and names filters and data sets,
never a row or a pseudonym."""

from __future__ import annotations

import pytest
from copnet.kernel import auth
from copnet.kernel.auth import Grant, Identity, Role
from copnet.reflection.datasets import store
from copnet.reflection.student_rows import reading
from copnet.reflection.student_rows.rpc import StudentRowsRpcs
from copnet.reflection.v1 import student_rows_pb2

ROW = student_rows_pb2.StudentResult(pseudonym="f00d" * 16, data_set_id="ds1", scale_score=2500)


class Recorder:
    def __init__(self):
        self.inserted = []


class UnitOfWork:
    def __init__(self, recorder: Recorder):
        self.recorder = recorder

    def insert(self, document):
        self.recorder.inserted.append(document)
        return document


class Context:
    def __init__(self, fails: bool):
        self.fails = fails
        self.recorder = Recorder()

    def transaction(self, work):
        if self.fails:
            raise RuntimeError("the database is gone")
        return work(UnitOfWork(self.recorder))


@pytest.fixture()
def teacher(monkeypatch):
    monkeypatch.setattr(store, "student_files", lambda data_set_ids=None: [])
    monkeypatch.setattr(store, "enrollment_files", list)
    monkeypatch.setattr(store, "ready_data_sets", lambda kind=None: [
        store.ReadyDataSet("ds1", "student_scores", "coe", ("region", "coe"), (), (), ())])
    monkeypatch.setattr(reading, "read", lambda files, narrowing, chosen, size, offset: reading.Page([ROW], None))
    token = auth.set_identity(Identity("teacher-a", (Grant(Role.MEMBER, "school"),)))
    yield
    auth.reset_identity(token)


def rpcs(fails: bool) -> StudentRowsRpcs:
    servicer = StudentRowsRpcs()
    servicer.ctx = Context(fails)
    return servicer


def test_a_read_writes_its_entry_and_answers(teacher):
    servicer = rpcs(fails=False)
    reply = servicer.ListMyStudentResults(student_rows_pb2.ListMyStudentResultsRequest(
        filter=student_rows_pb2.StudentResultFilter(grade="6")), None)
    assert list(reply.results) == [ROW]
    [entry] = servicer.ctx.recorder.inserted
    assert (entry.actor_id, entry.action, entry.rows, entry.filters, entry.data_set_ids) == (
        "teacher-a", "list_my_student_results", 1, {"grade": "6"}, ["ds1"])
    assert entry.scope == ["coe", "region"]
    assert ROW.pseudonym not in repr(entry.to_mongo())


def test_a_read_whose_entry_cannot_be_written_returns_nothing(teacher):
    with pytest.raises(RuntimeError):
        rpcs(fails=True).ListMyStudentResults(student_rows_pb2.ListMyStudentResultsRequest(), None)
