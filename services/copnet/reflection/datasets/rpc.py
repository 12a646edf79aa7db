"""The data-set RPCs of ReflectionService: import (client-streaming), read, list, delete, the
rejected rows, and the importers installed."""

from __future__ import annotations

import functools
import hashlib
import logging
import tempfile
from pathlib import Path, PurePosixPath, PureWindowsPath

import bson
from pymongo.errors import DuplicateKeyError

import copnet.reflection.datasets.jobs as jobs
import copnet.reflection.datasets.pseudonyms as pseudonyms
from copnet.kernel import auth, db
from copnet.kernel.auth import Role
from copnet.kernel.enums import from_label, to_label
from copnet.kernel.errors import (
    FailedPrecondition,
    InvalidArgument,
    NotFound,
    PermissionDenied,
)
from copnet.kernel.inputs import required_text
from copnet.kernel.pagination import decode_token, encode_token, page_size
from copnet.kernel.settings import ConfigError
from copnet.kernel.timestamps import timestamp
from copnet.pluginapi import ASSESSMENT_KINDS
from copnet.reflection.datasets.models import (
    DELETING,
    IMPORTING,
    READY,
    DataSet,
    DataSetFingerprint,
    fingerprint_id,
)
from copnet.reflection.datasets.organizations import Membership
from copnet.reflection.v1 import datasets_pb2

log = logging.getLogger(__name__)

# Who imports, reads and deletes data sets of an organization (over its scope); the owner too.
STEWARDS = {Role.DATA_STEWARD, Role.COUNTY_ADMIN, Role.REGIONAL_LEAD, Role.PLATFORM_ADMIN}
REGISTER_HOOK = "register_assessment_importers"
FILE_NAME_MAX = 255
MAX_ID_LENGTH = 128


def data_set_message(doc: DataSet, *, already_imported: bool = False) -> datasets_pb2.DataSet:
    return datasets_pb2.DataSet(
        id=doc.id, importer=doc.importer, kind=from_label(datasets_pb2.DataSetKind, doc.kind),
        organization_id=doc.organization_id, owner_id=doc.owner_id, file_name=doc.file_name,
        source_sha256=doc.source_sha256, size_bytes=doc.size_bytes, create_time=timestamp(doc.created_at),
        update_time=timestamp(doc.updated_at), status=from_label(datasets_pb2.DataSetStatus, doc.status),
        rows_read=doc.rows_read, rows_imported=doc.rows_imported, rows_rejected=doc.rows_rejected,
        bytes_read=doc.bytes_read, failure=doc.failure, school_years=list(doc.school_years or ()),
        windows=list(doc.windows or ()), already_imported=already_imported)


def file_name_of(value: str) -> str:
    """The uploaded file's own name (any folders a client sent dropped), one line, bounded."""
    name = PureWindowsPath(PurePosixPath(value.strip()).name).name
    return required_text(name, "header.file_name", FILE_NAME_MAX)


class DatasetsRpcs:
    ctx = None  # the ServiceContext, set by ReflectionServicer

    # -- the engine, one per process -------------------------------------------------------------------
    @functools.cached_property
    def imports(self) -> jobs.Imports:
        return engine(self.ctx)

    def importers(self, scope: list[str] | None = None) -> dict[str, tuple[str, object]]:
        """key -> (plugin, importer) of every importer the plugins enabled for `scope` register."""
        found: dict[str, tuple[str, object]] = {}
        for result in self.ctx.plugins.call(REGISTER_HOOK, scope=scope):
            for importer in result.value if isinstance(result.value, (list, tuple)) else [result.value]:
                key = getattr(importer, "key", None)
                if not isinstance(key, str) or getattr(importer, "kind", None) not in ASSESSMENT_KINDS \
                        or not callable(getattr(importer, "read", None)) or key in found:
                    log.warning("datasets: %s registered an invalid or duplicate assessment importer; skipped",
                                result.plugin)
                    continue
                found[key] = (result.plugin, importer)
        return found

    # -- import -----------------------------------------------------------------------------------------
    def ImportDataSet(self, request_iterator, context) -> datasets_pb2.ImportDataSetResponse:
        identity = auth.require_authenticated("importing a data set")
        first = next(iter(request_iterator), None)
        if first is None or first.WhichOneof("part") != "header":
            raise InvalidArgument.for_field("header", "the first message must be the header (importer, "
                                                      "organization_id, file_name, size_bytes)", reason="HEADER_REQUIRED")
        header = first.header
        limit = self.ctx.settings.assessment_file_max_bytes
        if not header.importer:
            raise InvalidArgument.for_field("header.importer", "is required")
        if len(header.importer) > MAX_ID_LENGTH or len(header.organization_id) > MAX_ID_LENGTH:
            field = "header.importer" if len(header.importer) > MAX_ID_LENGTH else "header.organization_id"
            raise InvalidArgument.for_field(field, f"must be at most {MAX_ID_LENGTH} characters", reason="TOO_LONG")
        file_name = file_name_of(header.file_name)
        if header.size_bytes < 0:
            raise InvalidArgument.for_field("header.size_bytes", "must not be negative")
        if header.size_bytes > limit:
            raise InvalidArgument.for_field("header.size_bytes", f"the file is larger than {limit:,} bytes, the "
                                                                  "most one import takes", reason="FILE_TOO_LARGE")
        organization = Membership(self.ctx).organization(header.organization_id, "header.organization_id")
        auth.require(STEWARDS, organization.scope, "importing assessment data for this organization")
        found = self.importers(organization.scope).get(header.importer)
        if found is None:
            raise InvalidArgument.for_field("header.importer", f"no assessment importer {header.importer!r} is "
                                                               f"enabled for {organization.id!r}", reason="UNKNOWN_IMPORTER")
        plugin, importer = found
        if importer.kind != "aggregate_results":
            pseudonymiser(self.ctx)  # no key: refused now, not after the upload

        spool, sha256, size = receive(request_iterator, limit, header.size_bytes)
        try:
            existing = self.existing(organization.id, sha256)
            if existing is not None:
                return datasets_pb2.ImportDataSetResponse(data_set=data_set_message(existing, already_imported=True))
            if not self.imports.reserve():
                raise jobs.ImportsBusy(f"{jobs.MAX_RUNNING} imports are running; try again when one has finished")
            now = db.utcnow()
            doc = DataSet(id=str(bson.ObjectId()), importer=header.importer, plugin=plugin, kind=importer.kind,
                          organization_id=organization.id, scope=organization.scope, owner_id=identity.person_id,
                          file_name=file_name, source_sha256=sha256, size_bytes=size, created_at=now, updated_at=now,
                          status=IMPORTING, worker=jobs.WORKER, heartbeat_at=now)
            try:
                self.ctx.transaction(lambda uow: self.create(uow, doc))
            except DuplicateKeyError:
                self.imports.release()  # the same file arrived twice at once: the other upload imports it
                existing = self.existing(organization.id, sha256)
                if existing is None:
                    raise FailedPrecondition("the same file is being imported by another upload right now; "
                                             "try again", reason="IMPORT_CONFLICT") from None
                return datasets_pb2.ImportDataSetResponse(data_set=data_set_message(existing, already_imported=True))
            except BaseException:
                self.imports.release()
                raise
            job = jobs.Job(doc.id, importer.kind, plugin, importer, organization, spool, file_name, size)
            self.imports.start(job)
            spool = None  # the job owns it now
            return datasets_pb2.ImportDataSetResponse(data_set=data_set_message(doc))
        finally:
            if spool is not None:
                spool.unlink(missing_ok=True)

    @staticmethod
    def create(uow: db.UnitOfWork, doc: DataSet) -> None:
        uow.insert(DataSetFingerprint(id=fingerprint_id(doc.organization_id, doc.source_sha256), data_set_id=doc.id))
        uow.insert(doc)

    @staticmethod
    def existing(organization_id: str, sha256: str) -> DataSet | None:
        """The data set IMPORTING or READY from the same file for the same organization."""
        mark = DataSetFingerprint.objects(id=fingerprint_id(organization_id, sha256)).first()
        if mark is None:
            return None
        return DataSet.objects(id=mark.data_set_id, status__in=[IMPORTING, READY]).exclude("errors").first()

    # -- reading ------------------------------------------------------------------------------------------
    def readable(self, data_set_id: str, action: str) -> DataSet:
        identity = auth.require_authenticated(action)
        if not data_set_id:
            raise InvalidArgument.for_field("id", "is required")
        if len(data_set_id) > MAX_ID_LENGTH:
            raise InvalidArgument.for_field("id", f"must be at most {MAX_ID_LENGTH} characters", reason="TOO_LONG")
        doc = DataSet.objects(id=data_set_id).exclude("errors").first()
        # Out of scope reads as absent: the caller learns nothing of another county's data sets.
        if doc is None or not (doc.owner_id == identity.person_id or identity.may(STEWARDS, list(doc.scope or ()))):
            raise NotFound(f"no data set {data_set_id!r}", reason="DATA_SET_NOT_FOUND",
                           metadata={"id": data_set_id})
        return doc

    def GetDataSet(self, request: datasets_pb2.GetDataSetRequest, _context) -> datasets_pb2.GetDataSetResponse:
        return datasets_pb2.GetDataSetResponse(data_set=data_set_message(self.readable(request.id,
                                                                                      "reading a data set")))

    def ListDataSets(self, request: datasets_pb2.ListDataSetsRequest, _context) -> datasets_pb2.ListDataSetsResponse:
        identity = auth.require_authenticated("listing data sets")
        query: dict = {}
        if request.organization_id:
            if len(request.organization_id) > MAX_ID_LENGTH:
                raise InvalidArgument.for_field("organization_id", f"must be at most {MAX_ID_LENGTH} characters",
                                                reason="TOO_LONG")
            query["scope"] = request.organization_id
        if request.kind:
            if request.kind not in datasets_pb2.DataSetKind.values():
                raise InvalidArgument.for_field("kind", f"unknown value {request.kind}")
            query["kind"] = to_label(datasets_pb2.DataSetKind, request.kind)
        if not identity.may({Role.PLATFORM_ADMIN}, []):
            reach = sorted({g.org_id for g in identity.grants if g.role in STEWARDS})
            visible = {"$or": [{"scope": {"$in": reach}}, {"owner_id": identity.person_id}]}
        else:
            visible = {}
        size = page_size(request.page_size)
        after = decode_token(request.page_token, query)
        filters = dict(query) | ({"_id": {"$gt": after}} if after else {})
        raw = {"$and": [filters, visible]} if visible else filters
        found = list(DataSet.objects(__raw__=raw).exclude("errors").order_by("id").limit(size + 1))
        token = encode_token(found[size - 1].id, query) if len(found) > size else ""
        return datasets_pb2.ListDataSetsResponse(data_sets=[data_set_message(d) for d in found[:size]],
                                                 next_page_token=token)

    def ListDataSetErrors(self, request: datasets_pb2.ListDataSetErrorsRequest,
                          _context) -> datasets_pb2.ListDataSetErrorsResponse:
        doc = self.readable(request.id, "reading a data set's rejected rows")
        size = page_size(request.page_size)
        query = {"id": doc.id}
        after = decode_token(request.page_token, query)
        try:
            start = int(after) if after is not None else 0
        except ValueError:
            raise InvalidArgument.for_field("page_token", "is not a token this service issued") from None
        errors = DataSet.objects(id=doc.id).only("errors").first().errors or []
        page = errors[start:start + size]
        token = encode_token(str(start + size), query) if start + size < len(errors) else ""
        return datasets_pb2.ListDataSetErrorsResponse(
            errors=[datasets_pb2.DataSetRowError(file=e.file, row=e.row, field=e.field, reason=e.reason,
                                                 message=e.message) for e in page],
            next_page_token=token, total=doc.rows_rejected)

    def ListAssessmentImporters(self, _request, _context) -> datasets_pb2.ListAssessmentImportersResponse:
        auth.require_authenticated("listing assessment importers")
        return datasets_pb2.ListAssessmentImportersResponse(importers=[
            datasets_pb2.AssessmentImporter(key=key, title=str(getattr(importer, "title", key)),
                                            kind=from_label(datasets_pb2.DataSetKind, importer.kind), plugin=plugin,
                                            description=str(getattr(importer, "description", "")))
            for key, (plugin, importer) in sorted(self.importers().items())])

    # -- delete ---------------------------------------------------------------------------------------------
    def DeleteDataSet(self, request: datasets_pb2.DeleteDataSetRequest,
                      _context) -> datasets_pb2.DeleteDataSetResponse:
        identity = auth.require_authenticated("deleting a data set")
        doc = self.readable(request.id, "deleting a data set")
        if doc.owner_id != identity.person_id and not identity.may(STEWARDS, list(doc.scope or ())):
            raise PermissionDenied("deleting a data set needs its owner or one of [county_admin, data_steward, "
                                   "platform_admin, regional_lead] at its organization or above", reason="OUT_OF_SCOPE")
        if doc.status == IMPORTING:
            raise FailedPrecondition("the data set is being imported; delete it once it is READY or FAILED",
                                     reason="DATA_SET_IMPORTING")
        if doc.status != DELETING:
            self.imports.delete(doc, identity.person_id)
        doc.status = DELETING
        return datasets_pb2.DeleteDataSetResponse(data_set=data_set_message(doc))


# -- the upload -------------------------------------------------------------------------------------------
def receive(request_iterator, limit: int, declared: int) -> tuple[Path, str, int]:
    """The chunks after the header spooled to a file in the store while hashed: (path, sha256, size).
    Refused as soon as the file outgrows `limit` (or the size the header declared)."""
    digest, size = hashlib.sha256(), 0
    bound = min(limit, declared) if declared else limit
    handle = tempfile.NamedTemporaryFile(dir=jobs.spool_dir(), prefix="upload-", delete=False)
    path = Path(handle.name)
    try:
        with handle:
            for message in request_iterator:
                if message.WhichOneof("part") != "chunk":
                    raise InvalidArgument.for_field("header", "only the first message is a header",
                                                    reason="HEADER_REPEATED")
                size += len(message.chunk)
                if size > bound:
                    why = (f"the file is larger than {limit:,} bytes, the most one import takes" if size > limit
                           else f"the file is larger than the {declared:,} bytes the header declared")
                    raise InvalidArgument.for_field("chunk", why, reason="FILE_TOO_LARGE")
                digest.update(message.chunk)
                handle.write(message.chunk)
        if size == 0:
            raise InvalidArgument.for_field("chunk", "the file is empty", reason="EMPTY_FILE")
        if declared and size != declared:
            raise InvalidArgument.for_field("header.size_bytes", f"the header declared {declared:,} bytes, "
                                                                 f"{size:,} arrived", reason="SIZE_MISMATCH")
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return path, digest.hexdigest(), size


# -- one engine and one key per process ---------------------------------------------------------------------
_engines: dict[int, jobs.Imports] = {}


def engine(ctx) -> jobs.Imports:
    """The import engine of the process serving `ctx` (its jobs' sweep runs from `PART.jobs`)."""
    if id(ctx) not in _engines:
        _engines[id(ctx)] = jobs.Imports(ctx, lambda: pseudonymiser(ctx))
    return _engines[id(ctx)]


@functools.cache
def _pseudonymiser(path: Path | None) -> pseudonyms.Pseudonymiser:
    return pseudonyms.Pseudonymiser(pseudonyms.read_key(path))


def pseudonymiser(ctx) -> pseudonyms.Pseudonymiser:
    try:
        return _pseudonymiser(ctx.settings.pseudonym_key_file)
    except ConfigError as error:
        raise FailedPrecondition(f"this region cannot import student-level data yet: {error}",
                                 reason="PSEUDONYM_KEY_MISSING") from None
