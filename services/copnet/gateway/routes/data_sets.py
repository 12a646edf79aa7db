"""/api/v1: data reflection's assessment data sets (the reflection service).

An upload is the file itself as the request body, streamed: who may import is checked from the
token before a byte of the body is read, a Content-Length above the region's limit is refused (413)
before reading too, and the body goes to the service's client-streaming ImportDataSet in 1 MiB
chunks as it arrives (never the whole file in memory)."""

from __future__ import annotations

import logging

from flask import Flask, Response, abort, current_app, request
from flask_openapi3 import APIBlueprint, Tag

from copnet.gateway import request_body
from copnet.gateway.auth import BEARER_REQUIRED, roles_required
from copnet.gateway.backend import ServiceCallFailed, reflection
from copnet.gateway.convert import data_sets as convert
from copnet.gateway.openapi import (
    DELETE_PROBLEMS,
    LIST_PROBLEMS,
    READ_PROBLEMS,
    operation_id,
    problem_responses,
)
from copnet.gateway.problems import from_service_call, problem
from copnet.gateway.schemas.data_sets import (
    AssessmentImporterList,
    DataSet,
    DataSetList,
    DataSetPath,
    DataSetQuery,
    DataSetUpload,
    ErrorsQuery,
    RowErrorList,
)
from copnet.kernel.auth import Role
from copnet.reflection.v1 import datasets_pb2

log = logging.getLogger(__name__)

# Who imports (the service then checks the organization): as the reflection service's STEWARDS.
IMPORTERS = (Role.DATA_STEWARD, Role.COUNTY_ADMIN, Role.REGIONAL_LEAD, Role.PLATFORM_ADMIN)
CHUNK_BYTES = 1024 * 1024
MAX_BYTES_CONFIG = "COPNET_ASSESSMENT_FILE_MAX_BYTES"
UPLOAD_ENDPOINT = "data_sets.import_data_set"
# A file of the largest size the region takes, sent over a slow link; the service answers once it
# has spooled the file (the import itself runs on after the answer).
UPLOAD_TIMEOUT_SECONDS = 3600
UPLOAD_TYPES = ("text/csv", "application/json", "application/octet-stream")
UPLOAD_BODY = {"required": True, "description": "The file itself, as is (CSV, JSON, or any bytes the importer reads).",
               "content": {kind: {"schema": {"type": "string", "format": "binary"}} for kind in UPLOAD_TYPES}}

blueprint = APIBlueprint("data_sets", __name__, url_prefix="/api/v1", operation_id_callback=operation_id,
                         abp_tags=[Tag(name="data-sets", description="Data reflection: assessment data sets "
                                                                     "imported through importer plugins.")])


class Upload:
    """The request body as ImportDataSet's messages: the header, then the body in chunks. gRPC
    reads it from its own thread, so the stream is taken from the request beforehand; a failure
    to read it is kept to answer with once the call has failed."""

    def __init__(self, header: datasets_pb2.ImportDataSetHeader, stream):
        self.header = header
        self.stream = stream
        self.failure: BaseException | None = None

    def __iter__(self):
        yield datasets_pb2.ImportDataSetRequest(header=self.header)
        try:
            while chunk := self.stream.read(CHUNK_BYTES):
                yield datasets_pb2.ImportDataSetRequest(chunk=chunk)
        except Exception as error:  # the client went away, or sent more than the limit
            self.failure = error
            raise


def upload_failed(failure: ServiceCallFailed) -> Response:
    """The service's problem, its fields named as the caller sent them (query names, the body)."""
    answer = from_service_call(failure)
    body = answer.get_json(silent=True)
    if isinstance(body, dict) and isinstance(body.get("errors"), list):
        for error in body["errors"]:
            if isinstance(error, dict) and isinstance(error.get("field"), str):
                error["field"] = convert.upload_field(error["field"])
        answer.set_data(current_app.json.dumps(body))
    return answer


@blueprint.post("/data-sets", responses={200: DataSet, 202: DataSet, **problem_responses(400, 403, 404, 409, 413,
                                                                                           415, 422, 503, 504)},
                security=BEARER_REQUIRED,
                openapi_extensions={**roles_required(*IMPORTERS), "requestBody": UPLOAD_BODY})
def import_data_set(query: DataSetUpload):
    """Import an assessment file with an importer plugin (the file is the body, streamed).

    A data_steward, county_admin, regional_lead or platform_admin over the organization. 202 with
    the data set (status importing) and its Location; poll it for progress (bytes_read, rows_read)
    until ready or failed, then GET .../errors lists every rejected row (file, row, rule). The same
    file imported again for the organization changes nothing: 200 with `already_imported`. Bodies
    up to the region's assessment file limit (413 above it)."""
    header = datasets_pb2.ImportDataSetHeader(importer=query.importer, organization_id=query.organization_id,
                                              file_name=query.file_name, size_bytes=request.content_length or 0)
    upload = Upload(header, request.stream)
    try:
        reply = reflection().ImportDataSet(iter(upload), timeout=UPLOAD_TIMEOUT_SECONDS)
    except ServiceCallFailed as failure:
        if upload.failure is not None:
            raise upload.failure from None
        return upload_failed(failure)
    found = reply.data_set
    body = convert.data_set(found).model_dump(mode="json")
    if found.already_imported:
        return body, 200
    return body, 202, {"Location": f"/api/v1/data-sets/{found.id}"}


@blueprint.get("/data-sets", responses={200: DataSetList, **LIST_PROBLEMS}, security=BEARER_REQUIRED)
def list_data_sets(query: DataSetQuery):
    """Data sets the caller may read (theirs, and those over which they hold an importing role),
    of one organization and below when `organization_id` is given, a page at a time."""
    reply = reflection().ListDataSets(datasets_pb2.ListDataSetsRequest(
        organization_id=query.organization_id, kind=convert.kind_to_proto(query.kind), page_size=query.page_size,
        page_token=query.page_token))
    return convert.data_sets(reply).model_dump(mode="json")


@blueprint.get("/data-sets/<id>", responses={200: DataSet, **LIST_PROBLEMS}, security=BEARER_REQUIRED)
def get_data_set(path: DataSetPath):
    """One data set: status, progress, counts (404 when absent or out of the caller's reach)."""
    reply = reflection().GetDataSet(datasets_pb2.GetDataSetRequest(id=path.id))
    return convert.data_set(reply.data_set).model_dump(mode="json")


@blueprint.delete("/data-sets/<id>", responses={200: DataSet, **DELETE_PROBLEMS}, security=BEARER_REQUIRED)
def delete_data_set(path: DataSetPath):
    """Delete a data set as a whole: its rows, its roll-ups, its place in every measure (409 while
    it is still importing). Its owner or an importing role over its organization."""
    reply = reflection().DeleteDataSet(datasets_pb2.DeleteDataSetRequest(id=path.id))
    return convert.data_set(reply.data_set).model_dump(mode="json")


@blueprint.get("/data-sets/<id>/errors", responses={200: RowErrorList, **LIST_PROBLEMS}, security=BEARER_REQUIRED)
def list_data_set_errors(path: DataSetPath, query: ErrorsQuery):
    """The rows an import rejected: file, row, field, the rule (reason) and a message; `total`
    counts them all (the first thousand are kept to list)."""
    reply = reflection().ListDataSetErrors(datasets_pb2.ListDataSetErrorsRequest(
        id=path.id, page_size=query.page_size, page_token=query.page_token))
    return convert.row_errors(reply).model_dump(mode="json")


@blueprint.get("/assessment-importers", responses={200: AssessmentImporterList, **READ_PROBLEMS},
               security=BEARER_REQUIRED)
def list_assessment_importers():
    """The assessment importers the installed plugins provide (key, kind, plugin)."""
    reply = reflection().ListAssessmentImporters(datasets_pb2.ListAssessmentImportersRequest())
    return convert.importers(reply).model_dump(mode="json")


def bound_upload() -> None:
    """Before the body is read: the upload is a file of a type an importer reads (415 otherwise), takes
    the region's file limit as its body limit (a Content-Length above it is 413 at once) and skips
    the JSON body check (it streams)."""
    if request.url_rule is None or request.url_rule.endpoint != UPLOAD_ENDPOINT:
        return
    if request.mimetype not in UPLOAD_TYPES:
        abort(problem(415, f"send the file as Content-Type {', '.join(UPLOAD_TYPES)}", reason="UNSUPPORTED_MEDIA_TYPE"))
    limit = current_app.config[MAX_BYTES_CONFIG]
    if request.content_length is not None and request.content_length > limit:
        abort(problem(413, f"the file is larger than {limit:,} bytes, the most one import takes",
                      reason="FILE_TOO_LARGE"))
    request.max_content_length = limit


def register(app: Flask, max_file_bytes: int) -> None:
    """Called before request_body.register: the upload's own body limit, and no JSON check of it."""
    app.config[MAX_BYTES_CONFIG] = max_file_bytes
    request_body.RAW_BODY_ENDPOINTS.add(UPLOAD_ENDPOINT)
    app.before_request(bound_upload)
