"""/api/v1 assessment data sets: the upload's query, a data set, its rejected rows, the importers."""

from __future__ import annotations

import enum
from datetime import datetime

from pydantic import BaseModel, Field

from copnet.gateway.schemas.common import Strict

ID = Field(min_length=1, max_length=128)


class DataSetKind(enum.StrEnum):
    STUDENT_SCORES = "student_scores"
    AGGREGATE_RESULTS = "aggregate_results"
    CLASS_ENROLLMENTS = "class_enrollments"


class DataSetStatus(enum.StrEnum):
    IMPORTING = "importing"
    READY = "ready"
    FAILED = "failed"
    DELETING = "deleting"


class DataSetPath(Strict):
    id: str = ID


class DataSetUpload(Strict):
    importer: str = Field(min_length=1, max_length=64, description='An importer\'s key, e.g. "caaspp-student-'
                                                                    'scores" (GET /api/v1/assessment-importers).')
    organization_id: str = Field(min_length=1, max_length=63, description="The county office (or district) the "
                                                                           "data belongs to.")
    file_name: str = Field(min_length=1, max_length=128, description="The file's name as the reports will show it.")


class DataSetQuery(Strict):
    organization_id: str = Field("", max_length=63, description="Data sets of this organization and below.")
    kind: DataSetKind | None = None
    page_size: int = Field(0, ge=0, le=1000)
    page_token: str = Field("", description="`next_page_token` of the previous page; empty for the first.")


class ErrorsQuery(Strict):
    page_size: int = Field(0, ge=0, le=1000)
    page_token: str = Field("", description="`next_page_token` of the previous page; empty for the first.")


class DataSet(BaseModel):
    id: str
    importer: str
    kind: DataSetKind
    organization_id: str
    owner_id: str = Field(description="Who imported it.")
    file_name: str
    source_sha256: str = Field(description="SHA-256 of the file as received: the same file again is this data set.")
    size_bytes: int
    created_at: datetime
    updated_at: datetime
    status: DataSetStatus
    rows_read: int
    rows_imported: int
    rows_rejected: int
    bytes_read: int = Field(description="Bytes of the file read so far (progress while importing).")
    failure: str | None = Field(description="Why a failed import failed, naming the file and rule.")
    school_years: list[str]
    windows: list[str]
    already_imported: bool = Field(description="This upload found the same file already imported here.")


class DataSetList(BaseModel):
    items: list[DataSet]
    next_page_token: str


class RowError(BaseModel):
    file: str
    row: int = Field(description="1-based; a CSV header is row 1.")
    field: str | None
    reason: str = Field(description="The rule broken, e.g. SCALE_SCORE_OUT_OF_RANGE.")
    message: str


class RowErrorList(BaseModel):
    items: list[RowError]
    next_page_token: str
    total: int = Field(description="Every rejected row, including those beyond what is kept to list.")


class AssessmentImporter(BaseModel):
    key: str
    title: str
    kind: DataSetKind
    plugin: str
    description: str


class AssessmentImporterList(BaseModel):
    items: list[AssessmentImporter]
