"""Student-level rows of ReflectionService: a teacher's own students, a data steward's county, and
the audit log of every such read.

Who reads rows: the students' own teachers (the row names them, or a READY class-enrollments data
set puts the student in their class that school year) and data stewards over the data's
organization (platform admins too). Facilitators, coordinators, county admins and other teachers
read none. Every read writes its audit entry before it answers: a read whose entry cannot be
written fails and shows nothing.
"""

from __future__ import annotations

import bson

from copnet.kernel import auth, db
from copnet.kernel.auth import Role
from copnet.kernel.errors import FailedPrecondition, InvalidArgument, NotFound
from copnet.kernel.pagination import decode_token, encode_token, page_size
from copnet.kernel.timestamps import timestamp
from copnet.reflection.datasets import store
from copnet.reflection.datasets.models import READY, STUDENT_SCORES, DataSet
from copnet.reflection.datasets.organizations import Membership
import copnet.reflection.student_rows.reading as reading
from copnet.reflection.student_rows.models import (
    MY_STUDENTS,
    STEWARD_READ,
    StudentReadAudit,
)
from copnet.reflection.v1 import student_rows_pb2

ROW_READERS = {Role.DATA_STEWARD, Role.PLATFORM_ADMIN}
AUDIT_READERS = {Role.COUNTY_ADMIN, Role.PLATFORM_ADMIN}
ID_MAX = reading.ID_MAX


def bounded_id(value: str, field: str) -> str:
    if len(value) > ID_MAX:
        raise InvalidArgument.for_field(field, f"must be at most {ID_MAX} characters", reason="TOO_LONG")
    return value


def offset_of(token: str, query: dict) -> int:
    after = decode_token(token, query)
    if after is None:
        return 0
    try:
        offset = int(after)
    except ValueError:
        raise InvalidArgument.for_field("page_token", "is not a token this service issued") from None
    if not 0 <= offset <= reading.MAX_OFFSET:
        raise InvalidArgument.for_field("page_token", "is not a token this service issued")
    return offset


def audit_entry(uow: db.UnitOfWork, entry: StudentReadAudit) -> None:
    uow.insert(entry)


def audit_message(entry: StudentReadAudit) -> student_rows_pb2.StudentReadAuditEntry:
    return student_rows_pb2.StudentReadAuditEntry(
        id=entry.id, actor_id=entry.actor_id, action=entry.action, data_set_id=entry.data_set_id,
        organization_id=entry.organization_id, filters={k: str(v) for k, v in (entry.filters or {}).items()},
        rows=entry.rows, data_set_ids=list(entry.data_set_ids or ()), read_time=timestamp(entry.read_at))


class StudentRowsRpcs:
    ctx = None  # the ServiceContext, set by ReflectionServicer

    def _read_and_audit(self, *, action: str, files, narrowing: reading.Narrowing, chosen: reading.Filter,
                        request, query: dict, scope: list[str], data_set_id: str = "", organization_id: str = ""):
        identity = auth.current_identity()
        size = reading.page_size_of(request.page_size)
        offset = offset_of(request.page_token, query)
        page = reading.read(files, narrowing, chosen, size, offset)
        read_from = sorted({row.data_set_id for row in page.rows})
        ready = {d.id: d for d in store.ready_data_sets(STUDENT_SCORES)}
        touched = set(scope)
        for data_set in read_from:
            touched.update(ready[data_set].scope if data_set in ready else ())
        filters = chosen.as_dict() | ({"teacher_id": narrowing.teacher_id}
                                      if action == STEWARD_READ and narrowing.teacher_id else {})
        if request.page_token:
            filters["page_offset"] = str(offset)
        entry = StudentReadAudit(id=str(bson.ObjectId()), actor_id=identity.person_id, action=action,
                                 data_set_id=data_set_id, organization_id=organization_id, filters=filters,
                                 rows=len(page.rows), data_set_ids=read_from, scope=sorted(touched),
                                 read_at=db.utcnow())
        # Written before anything is answered: if it cannot be, the read fails and shows nothing.
        self.ctx.transaction(lambda uow: audit_entry(uow, entry))
        token = encode_token(str(page.next_offset), query) if page.next_offset is not None else ""
        return page.rows, token

    def ListMyStudentResults(self, request: student_rows_pb2.ListMyStudentResultsRequest,
                             _context) -> student_rows_pb2.ListMyStudentResultsResponse:
        identity = auth.require_authenticated("reading your students' results")
        if not identity.person_id:
            raise FailedPrecondition("only a person has students", reason="PERSON_REQUIRED")
        chosen = reading.filter_of(request.filter)
        narrowing = reading.Narrowing(teacher_id=identity.person_id, enrollments=tuple(store.enrollment_files()))
        rows, token = self._read_and_audit(action=MY_STUDENTS, files=store.student_files(), narrowing=narrowing,
                                           chosen=chosen, request=request, scope=[],
                                           query={"me": identity.person_id, **chosen.as_dict()})
        return student_rows_pb2.ListMyStudentResultsResponse(results=rows, next_page_token=token)

    def ListStudentResults(self, request: student_rows_pb2.ListStudentResultsRequest,
                           _context) -> student_rows_pb2.ListStudentResultsResponse:
        identity = auth.require_authenticated("reading student-level results")
        data_set_id = bounded_id(request.data_set_id, "data_set_id")
        organization_id = bounded_id(request.organization_id, "organization_id")
        teacher_id = bounded_id(request.teacher_id, "teacher_id")
        chosen = reading.filter_of(request.filter)
        if not (data_set_id or organization_id):
            raise InvalidArgument.for_field("data_set_id", "name a data set or an organization (organization_id)",
                                            reason="SCOPE_REQUIRED")
        scope: list[str] = []
        if data_set_id:
            doc = DataSet.objects(id=data_set_id).only("id", "scope", "status", "kind", "organization_id").first()
            # Out of reach reads as absent: nothing is learnt of another county's data sets.
            if doc is None or not identity.may(ROW_READERS, list(doc.scope or ())):
                auth.require(ROW_READERS, list(doc.scope or ()) if doc is not None else [],
                             "reading student-level rows (a data steward over the data's organization)")
                raise NotFound(f"no data set {data_set_id!r}", reason="DATA_SET_NOT_FOUND",
                               metadata={"id": data_set_id})
            if doc.kind != STUDENT_SCORES:
                raise FailedPrecondition(f"data set {data_set_id!r} holds {doc.kind}, not student rows",
                                         reason="NOT_STUDENT_SCORES")
            if doc.status != READY:
                raise FailedPrecondition(f"data set {data_set_id!r} is {doc.status}, not ready",
                                         reason="DATA_SET_NOT_READY")
            files = store.student_files([doc.id])
            scope = list(doc.scope or ())
        if organization_id:
            organization = Membership(self.ctx).organization(organization_id, "organization_id")
            auth.require(ROW_READERS, organization.scope,
                         "reading student-level rows (a data steward over the organization)")
            scope = sorted(set(scope) | set(organization.scope))
            if not data_set_id:
                # Data sets at, above or below the organization can hold its rows.
                lineage = set(organization.scope)
                files = [store.data_set_dir(d.id) / store.STUDENTS for d in store.ready_data_sets(STUDENT_SCORES)
                         if organization.id in d.scope or d.organization_id in lineage]
        narrowing = reading.Narrowing(teacher_id=teacher_id, organization_id=organization_id, data_set_id=data_set_id)
        query = {"data_set_id": data_set_id, "organization_id": organization_id, "teacher_id": teacher_id,
                 **chosen.as_dict()}
        rows, token = self._read_and_audit(action=STEWARD_READ, files=files, narrowing=narrowing, chosen=chosen,
                                           request=request, query=query, scope=scope, data_set_id=data_set_id,
                                           organization_id=organization_id)
        return student_rows_pb2.ListStudentResultsResponse(results=rows, next_page_token=token)

    def ListStudentReadAudit(self, request: student_rows_pb2.ListStudentReadAuditRequest,
                             _context) -> student_rows_pb2.ListStudentReadAuditResponse:
        auth.require_authenticated("reading the audit of student-level reads")
        organization_id = bounded_id(request.organization_id, "organization_id")
        actor_id = bounded_id(request.actor_id, "actor_id")
        organization = Membership(self.ctx).organization(organization_id, "organization_id")
        auth.require(AUDIT_READERS, organization.scope,
                     "reading who read student-level rows (a county admin over the organization)")
        query = {"scope": organization.id} | ({"actor_id": actor_id} if actor_id else {})
        size = page_size(request.page_size)
        after = decode_token(request.page_token, query)
        filters = dict(query) | ({"id__lt": after} if after else {})
        found = list(StudentReadAudit.objects(**filters).order_by("-id").limit(size + 1))
        token = encode_token(found[size - 1].id, query) if len(found) > size else ""
        return student_rows_pb2.ListStudentReadAuditResponse(entries=[audit_message(e) for e in found[:size]],
                                                             next_page_token=token)
