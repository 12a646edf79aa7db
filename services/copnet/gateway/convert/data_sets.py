"""datasets_pb2 <-> /api/v1 data-set JSON."""

from __future__ import annotations

from copnet.gateway.convert.common import or_null, rfc3339
from copnet.gateway.schemas import data_sets as schemas
from copnet.kernel.enums import from_label, to_label
from copnet.reflection.v1 import datasets_pb2


def kind_to_proto(kind: schemas.DataSetKind | None) -> int:
    return from_label(datasets_pb2.DataSetKind, kind.value) if kind is not None else 0


def data_set(message: datasets_pb2.DataSet) -> schemas.DataSet:
    return schemas.DataSet(
        id=message.id, importer=message.importer, kind=to_label(datasets_pb2.DataSetKind, message.kind),
        organization_id=message.organization_id, owner_id=message.owner_id, file_name=message.file_name,
        source_sha256=message.source_sha256, size_bytes=message.size_bytes, created_at=rfc3339(message.create_time),
        updated_at=rfc3339(message.update_time), status=to_label(datasets_pb2.DataSetStatus, message.status),
        rows_read=message.rows_read, rows_imported=message.rows_imported, rows_rejected=message.rows_rejected,
        bytes_read=message.bytes_read, failure=or_null(message.failure), school_years=list(message.school_years),
        windows=list(message.windows), already_imported=message.already_imported)


def data_sets(reply: datasets_pb2.ListDataSetsResponse) -> schemas.DataSetList:
    return schemas.DataSetList(items=[data_set(d) for d in reply.data_sets], next_page_token=reply.next_page_token)


def row_errors(reply: datasets_pb2.ListDataSetErrorsResponse) -> schemas.RowErrorList:
    return schemas.RowErrorList(
        items=[schemas.RowError(file=e.file, row=e.row, field=or_null(e.field), reason=e.reason, message=e.message)
               for e in reply.errors],
        next_page_token=reply.next_page_token, total=reply.total)


def importers(reply: datasets_pb2.ListAssessmentImportersResponse) -> schemas.AssessmentImporterList:
    return schemas.AssessmentImporterList(items=[
        schemas.AssessmentImporter(key=i.key, title=i.title, kind=to_label(datasets_pb2.DataSetKind, i.kind),
                                   plugin=i.plugin, description=i.description) for i in reply.importers])


# The upload's service fields are a header and chunks; over HTTP they are the query and the body.
UPLOAD_FIELDS = {"header.importer": "importer", "header.organization_id": "organization_id",
                 "header.file_name": "file_name", "header.size_bytes": "body", "chunk": "body", "header": "body"}


def upload_field(service_field: str) -> str:
    return UPLOAD_FIELDS.get(service_field, service_field)
