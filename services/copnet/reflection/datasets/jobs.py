"""Imports run in the background of the reflection process, at most MAX_RUNNING at once: the
importer plugin read with a deadline in its own thread (PluginHost.invoke), the rows checked and
written to the data set's `.partial` directory, then renamed and the data set turned READY in one
transaction with its event. A failure at any point removes the files and says why.

Also here: deleting a data set, recomputing teacher cells when enrollments change, and the sweep
that fails imports a stopped process left IMPORTING.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import grpc
import pyarrow.parquet as pq

import copnet.reflection.datasets.rollups as rollups
import copnet.reflection.datasets.store as store
from copnet.kernel import db
from copnet.kernel.enums import from_label
from copnet.kernel.errors import DomainError
from copnet.kernel.plugin_host import PluginCallFailed, PluginUnavailable
from copnet.kernel.service import PeriodicJob
from copnet.pluginapi import AssessmentFile, UnusableInput
from copnet.reflection.datasets.importing import (
    ImportFailed,
    Outcome,
    Reading,
    finish_scores,
    listed,
    write_growth,
)
from copnet.reflection.datasets.models import (
    CLASS_ENROLLMENTS,
    DELETING,
    FAILED,
    IMPORTING,
    READY,
    STORE_GENERATION_ID,
    STUDENT_SCORES,
    DataSet,
    DataSetFingerprint,
    RowError,
    StoreGeneration,
    fingerprint_id,
)
from copnet.reflection.datasets.organizations import Membership, Organization
from copnet.reflection.v1 import datasets_pb2

log = logging.getLogger(__name__)

IMPORTED = "copnet.reflection.dataset.imported"
FAILED_EVENT = "copnet.reflection.dataset.failed"
DELETED = "copnet.reflection.dataset.deleted"
# Imports one process runs at once (each holds a batch in memory and keeps a core busy).
MAX_RUNNING = 2
# The longest one import may take, the importer's reading included.
IMPORT_DEADLINE_SECONDS = 3600.0
# How often a running import says it is alive and shows its progress; an IMPORTING data set
# silent for ORPHAN_SECONDS was left by a process that stopped.
HEARTBEAT_SECONDS = 5.0
ORPHAN_SECONDS = 120.0
SWEEP_SECONDS = 60.0
SPOOL = ".spool"
WORKER = f"{socket.gethostname()}:{os.getpid()}"
# Longest failure text kept (an importer's UnusableInput message included).
MAX_FAILURE = 1000


class ImportsBusy(DomainError):
    code = grpc.StatusCode.RESOURCE_EXHAUSTED
    default_reason = "IMPORTS_BUSY"


@dataclass
class Job:
    data_set_id: str
    kind: str
    plugin: str
    importer: object
    organization: Organization
    spool: Path
    file_name: str
    size_bytes: int


def bump_generation(uow: db.UnitOfWork) -> None:
    uow.update_one(StoreGeneration, {"_id": STORE_GENERATION_ID}, {"$inc": {"generation": 1}}, upsert=True)


def spool_dir() -> Path:
    folder = store.directory() / SPOOL
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def kind_number(kind: str) -> int:
    return from_label(datasets_pb2.DataSetKind, kind)


class Imports:
    def __init__(self, ctx, pseudonymiser_of):
        self.ctx = ctx
        # () -> the region's Pseudonymiser (read once, on first need).
        self.pseudonymiser_of = pseudonymiser_of
        self.slots = threading.BoundedSemaphore(MAX_RUNNING)
        # The end of an import (duplicates and growth against READY data sets, the flip) one at a
        # time in a process, so two imports finishing together each see the other.
        self.finishing = threading.Lock()
        self.running: set[str] = set()
        self._heartbeat: threading.Thread | None = None
        self._heartbeat_lock = threading.Lock()

    # -- running ----------------------------------------------------------------------------------
    def reserve(self) -> bool:
        return self.slots.acquire(blocking=False)

    def release(self) -> None:
        self.slots.release()

    def start(self, job: Job) -> None:
        """Run `job` in its own thread; the slot reserved for it is released when it ends."""
        self.running.add(job.data_set_id)
        self._ensure_heartbeat()
        threading.Thread(target=self.run, args=(job,), name=f"import-{job.data_set_id}", daemon=True).start()

    def run(self, job: Job) -> None:
        reading: Reading | None = None
        try:
            reading = self.read(job)
            self.finish(job, reading)
        except ImportFailed as failed:
            self.fail(job, str(failed), reading.outcome if reading else None)
        except DomainError as error:
            self.fail(job, f"{job.file_name}: {error.message}", reading.outcome if reading else None)
        except Exception:
            log.exception("datasets: import of %s failed unexpectedly", job.data_set_id)
            self.fail(job, f"{job.file_name}: the import failed unexpectedly (logged by the service)",
                      reading.outcome if reading else None)
        finally:
            if reading is not None:
                reading.abort()
            job.spool.unlink(missing_ok=True)
            self.running.discard(job.data_set_id)
            self.release()

    def read(self, job: Job) -> Reading:
        tree = Membership(self.ctx).tree(job.organization)
        partial = store.partial_dir(job.data_set_id)
        shutil.rmtree(partial, ignore_errors=True)
        pseudonymise = self.pseudonymiser_of().column if job.kind != "aggregate_results" else None
        tests = getattr(job.importer, "tests", None)
        reading = Reading(job.kind, partial, job.file_name, tree, pseudonymise,
                          frozenset(tests) if tests else None)
        deadline = time.monotonic() + IMPORT_DEADLINE_SECONDS
        last_progress = 0.0
        with job.spool.open("rb") as stream:
            file = AssessmentFile(job.file_name, stream, job.size_bytes)
            for batch in plugin_batches(self.ctx.plugins, job, file, deadline):
                reading.add(batch)
                # How far the importer has read, where it does not say itself.
                with contextlib.suppress(OSError, ValueError):
                    reading.outcome.bytes_read = max(reading.outcome.bytes_read, stream.tell())
                if time.monotonic() - last_progress > 1.0:
                    self.progress(job.data_set_id, reading.outcome)
                    last_progress = time.monotonic()
        reading.close()
        self.progress(job.data_set_id, reading.outcome)
        return reading

    def progress(self, data_set_id: str, outcome: Outcome) -> None:
        DataSet.objects(id=data_set_id, status=IMPORTING).update(
            set__rows_read=outcome.rows_read, set__rows_imported=outcome.rows_imported,
            set__rows_rejected=outcome.rows_rejected, set__bytes_read=outcome.bytes_read,
            set__heartbeat_at=db.utcnow())

    def finish(self, job: Job, reading: Reading) -> None:
        outcome = reading.outcome
        if outcome.rows_imported == 0:
            raise ImportFailed(no_usable_row(job.file_name, outcome))
        with self.finishing:
            pairs = []
            if job.kind == STUDENT_SCORES:
                others = [store.data_set_dir(d.id) / store.STUDENTS for d in store.ready_data_sets(STUDENT_SCORES)
                          if set(d.tests) & outcome.tests]
                pairs = finish_scores(reading, others, store.enrollment_files(), reading.tree.parents)
                if outcome.rows_imported == 0:
                    raise ImportFailed(no_usable_row(job.file_name, outcome))
                write_growth(reading.directory, pairs)
            final = store.data_set_dir(job.data_set_id)
            shutil.rmtree(final, ignore_errors=True)
            reading.directory.rename(final)
            enrollments = job.kind == CLASS_ENROLLMENTS
            try:
                if enrollments:  # teachers' cells with these enrollments before they count: READY means done
                    self.rewrite_teacher_cells(extra=[final / store.ENROLLMENTS])
                self.ctx.transaction(lambda uow: self.mark_ready(uow, job, outcome))
            except Exception:
                shutil.rmtree(final, ignore_errors=True)
                if enrollments:
                    self.rewrite_teacher_cells()
                raise
        log.info("datasets: %s imported (%d rows, %d rejected)", job.data_set_id, outcome.rows_imported,
                 outcome.rows_rejected)

    def mark_ready(self, uow: db.UnitOfWork, job: Job, outcome: Outcome) -> None:
        written = uow.update_one(DataSet, {"_id": job.data_set_id, "status": IMPORTING}, {"$set": {
            "status": READY, "updated_at": db.utcnow(), **counts(outcome),
            "school_years": sorted(outcome.school_years), "windows": sorted(outcome.windows),
            "tests": sorted(outcome.tests), "errors": errors_of(outcome)}})
        if written.matched_count != 1:
            raise ImportFailed(f"{job.file_name}: the data set was failed or deleted while it was imported")
        bump_generation(uow)
        uow.emit(self.ctx.event(IMPORTED, job.data_set_id, datasets_pb2.DataSetImported(
            data_set_id=job.data_set_id, organization_id=job.organization.id, kind=kind_number(job.kind),
            importer=getattr(job.importer, "key", ""), rows_imported=outcome.rows_imported,
            rows_rejected=outcome.rows_rejected, school_years=sorted(outcome.school_years),
            windows=sorted(outcome.windows)), scope=job.organization.scope))

    def fail(self, job: Job, failure: str, outcome: Outcome | None) -> None:
        shutil.rmtree(store.partial_dir(job.data_set_id), ignore_errors=True)
        failure = failure[:MAX_FAILURE]
        log.warning("datasets: import of %s failed: %s", job.data_set_id, failure)
        try:
            self.ctx.transaction(lambda uow: mark_failed(self.ctx, uow, job.data_set_id, failure, outcome))
        except Exception:
            log.exception("datasets: recording %s as failed failed; the sweep will", job.data_set_id)

    # -- teacher cells follow enrollments --------------------------------------------------------------
    def rewrite_teacher_cells(self, extra: list[Path] = ()) -> None:
        """Every READY score data set's teacher cells from the READY enrollments and `extra` ones
        (after enrollments came or went); the caller holds `finishing` and bumps the generation."""
        enrollments = [*store.enrollment_files(), *extra]
        con = rollups.connection(store.directory() / store.SPILL)
        try:
            for data_set in store.ready_data_sets(STUDENT_SCORES):
                folder = store.data_set_dir(data_set.id)
                students = folder / store.STUDENTS
                if not students.exists():
                    continue
                fresh = folder / f"{store.TEACHER_CELLS}.next"
                pq.write_table(rollups.teacher_cells(con, students, enrollments), fresh)
                os.replace(fresh, folder / store.TEACHER_CELLS)
        finally:
            con.close()

    # -- deleting -------------------------------------------------------------------------------------
    def delete(self, data_set: DataSet, deleted_by: str) -> None:
        """DELETING (counted nowhere from then on), the files removed, then the record gone with its event."""
        def deleting(uow: db.UnitOfWork) -> None:
            uow.update_one(DataSet, {"_id": data_set.id}, {"$set": {"status": DELETING, "updated_at": db.utcnow()}})
            bump_generation(uow)

        was_ready = data_set.status == READY
        with self.finishing:
            self.ctx.transaction(deleting)
            remove_files(data_set.id)
            if was_ready and data_set.kind == CLASS_ENROLLMENTS:
                self.rewrite_teacher_cells()  # without it: it is DELETING, no longer READY
            self.ctx.transaction(lambda uow: self.mark_deleted(uow, data_set, deleted_by))

    def mark_deleted(self, uow: db.UnitOfWork, data_set: DataSet, deleted_by: str) -> None:
        uow.delete_many(DataSet, {"_id": data_set.id})
        uow.delete_many(DataSetFingerprint, {"data_set_id": data_set.id})
        bump_generation(uow)
        uow.emit(self.ctx.event(DELETED, data_set.id, datasets_pb2.DataSetDeleted(
            data_set_id=data_set.id, organization_id=data_set.organization_id, kind=kind_number(data_set.kind),
            importer=data_set.importer, deleted_by=deleted_by), scope=list(data_set.scope or ())))

    # -- liveness and the sweep -------------------------------------------------------------------------
    def _ensure_heartbeat(self) -> None:
        with self._heartbeat_lock:
            if self._heartbeat is None:
                self._heartbeat = threading.Thread(target=self._beat, name="import-heartbeat", daemon=True)
                self._heartbeat.start()

    def _beat(self) -> None:
        """For the life of the process: each running import is marked alive every few seconds."""
        while True:
            running = list(self.running)
            if running:
                with contextlib.suppress(Exception):  # MongoDB away: the next beat tries again
                    DataSet.objects(id__in=running, status=IMPORTING).update(set__heartbeat_at=db.utcnow())
            time.sleep(HEARTBEAT_SECONDS)

    def sweep(self) -> None:
        """Fail imports whose process stopped (no heartbeat for ORPHAN_SECONDS), finish deletions
        a stopped process left, and remove partial files and spools nobody is writing."""
        now = db.utcnow().timestamp()
        cutoff = now - ORPHAN_SECONDS
        failure = "the import was interrupted (the service stopped); import the file again"
        for data_set in DataSet.objects(status=IMPORTING).only("id", "heartbeat_at", "created_at", "worker"):
            if data_set.id in self.running:
                continue
            seen = (data_set.heartbeat_at or data_set.created_at).timestamp()
            # This process runs every import it started (`running`): one started under its own name
            # (host and pid; a restarted container's process often has the same) is a predecessor's.
            predecessors = data_set.worker == WORKER and data_set.created_at.timestamp() < now - HEARTBEAT_SECONDS
            if seen > cutoff and not predecessors:
                continue
            shutil.rmtree(store.partial_dir(data_set.id), ignore_errors=True)
            self.ctx.transaction(lambda uow, d=data_set.id, p=predecessors: mark_failed(
                self.ctx, uow, d, failure, None, only_if_seen_before=None if p else cutoff))
        for data_set in DataSet.objects(status=DELETING, updated_at__lt=_ago(ORPHAN_SECONDS)):
            with self.finishing:
                remove_files(data_set.id)
                if data_set.kind == CLASS_ENROLLMENTS:
                    self.rewrite_teacher_cells()
                self.ctx.transaction(lambda uow, d=data_set: self.mark_deleted(uow, d, ""))
        root = store.directory()
        if root.is_dir():
            importing = {d.id for d in DataSet.objects(status=IMPORTING).only("id")}
            for partial in root.glob(f"*{store.PARTIAL_SUFFIX}"):
                if partial.name.removesuffix(store.PARTIAL_SUFFIX) not in importing:
                    shutil.rmtree(partial, ignore_errors=True)
            for spooled in (root / SPOOL).glob("*") if (root / SPOOL).is_dir() else ():
                if spooled.stat().st_mtime < time.time() - IMPORT_DEADLINE_SECONDS:
                    spooled.unlink(missing_ok=True)

    def jobs(self) -> list[PeriodicJob]:
        return [PeriodicJob("datasets-sweep", SWEEP_SECONDS, self.sweep)]


def _ago(seconds: float) -> dt.datetime:
    return db.utcnow() - dt.timedelta(seconds=seconds)


def remove_files(data_set_id: str) -> None:
    shutil.rmtree(store.data_set_dir(data_set_id), ignore_errors=True)
    shutil.rmtree(store.partial_dir(data_set_id), ignore_errors=True)
    root = store.directory()
    if root.is_dir():
        for pair in root.glob(f"*/{store.GROWTH_WITH}/{data_set_id}.parquet"):
            pair.unlink(missing_ok=True)


def counts(outcome: Outcome) -> dict:
    return {"rows_read": outcome.rows_read, "rows_imported": outcome.rows_imported,
            "rows_rejected": outcome.rows_rejected, "bytes_read": outcome.bytes_read}


def errors_of(outcome: Outcome) -> list[dict]:
    return [RowError(file=e.file, row=e.row, field=e.field, reason=e.reason, message=e.message[:500]).to_mongo()
            for e in listed(outcome.errors)]


def mark_failed(ctx, uow: db.UnitOfWork, data_set_id: str, failure: str, outcome: Outcome | None, *,
                only_if_seen_before: float | None = None) -> None:
    data_set = uow.find_one(DataSet, {"_id": data_set_id, "status": IMPORTING})
    if data_set is None:
        return
    if only_if_seen_before is not None and (data_set.heartbeat_at or data_set.created_at).timestamp() > only_if_seen_before:
        return
    changes = {"status": FAILED, "failure": failure, "updated_at": db.utcnow()}
    if outcome is not None:
        changes |= {**counts(outcome), "errors": errors_of(outcome)}
        changes["rows_imported"] = 0
    uow.update_one(DataSet, {"_id": data_set_id}, {"$set": changes})
    uow.delete_many(DataSetFingerprint, {"_id": fingerprint_id(data_set.organization_id, data_set.source_sha256)})
    uow.emit(ctx.event(FAILED_EVENT, data_set_id, datasets_pb2.DataSetFailed(
        data_set_id=data_set_id, organization_id=data_set.organization_id, kind=kind_number(data_set.kind),
        importer=data_set.importer, failure=failure), scope=list(data_set.scope or ())))


def no_usable_row(file_name: str, outcome: Outcome) -> str:
    if outcome.rows_read == 0:
        return f"{file_name}: the file has no rows"
    return (f"{file_name}: no row could be imported ({outcome.rows_rejected:,} of {outcome.rows_read:,} broke a "
            "rule; the errors name each row)")


# -- the importer plugin, isolated -----------------------------------------------------------------------
_END = object()


@dataclass(frozen=True)
class _Unusable:
    message: str


def plugin_batches(host, job: Job, file: AssessmentFile, deadline: float) -> Iterator:
    """The importer's batches, each read in the plugin host's isolation (own thread, the time left
    of the import's deadline, failures counted against the plugin). A plugin that raises or runs
    out of time fails the import with its failure's category; its UnusableInput, with its message."""
    what = f"assessment importer {getattr(job.importer, 'key', '?')}"

    def call(step):
        def guarded(settings):
            try:
                return step(settings)
            except UnusableInput as unusable:
                return _Unusable(str(unusable))

        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise ImportFailed(f"{job.file_name}: the import took longer than {IMPORT_DEADLINE_SECONDS:.0f} s")
        try:
            value = host.invoke(job.plugin, job.organization.scope, what, guarded, timeout_seconds=remaining)
        except PluginUnavailable:
            raise ImportFailed(f"{job.file_name}: the importer's plugin {job.plugin!r} is not enabled for "
                               f"{job.organization.id!r}") from None
        except PluginCallFailed as failed:
            raise ImportFailed(f"{job.file_name}: the importer {getattr(job.importer, 'key', '?')} failed "
                               f"({failed.category})") from None
        if isinstance(value, _Unusable):
            raise ImportFailed(f"{job.file_name}: {value.message}")
        return value

    iterator = call(lambda settings: iter(job.importer.read(file, settings)))
    # One batch ahead: the importer parses the next one (Arrow's CSV reader, the GIL released)
    # while this one is checked and pseudonymised. At most two batches wait in memory.
    ahead = ThreadPoolExecutor(max_workers=1, thread_name_prefix="import-ahead")
    try:
        pending = ahead.submit(call, lambda settings: next(iterator, _END))
        while True:
            batch = pending.result()
            if batch is _END:
                return
            pending = ahead.submit(call, lambda settings: next(iterator, _END))
            yield batch
    finally:
        # A plugin still reading ends on its own, by its deadline at the latest: nobody waits for it.
        ahead.shutdown(wait=False, cancel_futures=True)
