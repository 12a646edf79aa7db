"""/api/v1: student-level results (pseudonymous) and the audit log of their reads (the reflection
service). Only the students' own teachers (/me/student-results) and data stewards over the data
read rows; every read is audited before it answers; county admins read the audit."""

from __future__ import annotations

from flask_openapi3 import APIBlueprint, Tag

from copnet.gateway.auth import BEARER_REQUIRED, roles_required
from copnet.gateway.backend import reflection
from copnet.gateway.convert import student_rows as convert
from copnet.gateway.openapi import LIST_PROBLEMS, operation_id, problem_responses
from copnet.gateway.schemas.student_rows import (
    AuditQuery,
    MyStudentResultsQuery,
    OrgStudentResultsQuery,
    StudentReadAuditList,
    StudentResultList,
    StudentResultsQuery,
    StudentRowsPath,
)
from copnet.kernel.auth import Role
from copnet.reflection.v1 import student_rows_pb2

ROW_READERS = (Role.DATA_STEWARD, Role.PLATFORM_ADMIN)
AUDIT_READERS = (Role.COUNTY_ADMIN, Role.PLATFORM_ADMIN)
ROW_PROBLEMS = problem_responses(403, 404, 409, 422, 503, 504)

blueprint = APIBlueprint("student_rows", __name__, url_prefix="/api/v1", operation_id_callback=operation_id,
                         abp_tags=[Tag(name="student-results", description="Data reflection: pseudonymous "
                                                                           "student-level results, audited.")])


@blueprint.get("/me/student-results", responses={200: StudentResultList, **LIST_PROBLEMS},
               security=BEARER_REQUIRED)
def list_my_student_results(query: MyStudentResultsQuery):
    """Your own students' results: rows naming you as their teacher, or of students in your class
    that school year (class enrollments). Pseudonymous (no name exists); no one else sees them
    here. Each read is recorded in the audit log county admins read."""
    reply = reflection().ListMyStudentResults(student_rows_pb2.ListMyStudentResultsRequest(
        filter=convert.result_filter(query), page_size=query.page_size, page_token=query.page_token))
    return convert.results(reply).model_dump(mode="json")


@blueprint.get("/data-sets/<id>/student-results", responses={200: StudentResultList, **ROW_PROBLEMS},
               security=BEARER_REQUIRED, openapi_extensions=roles_required(*ROW_READERS))
def list_data_set_student_results(path: StudentRowsPath, query: StudentResultsQuery):
    """A ready student-score data set's rows (a data_steward over its organization, or a
    platform_admin); audited."""
    reply = reflection().ListStudentResults(student_rows_pb2.ListStudentResultsRequest(
        data_set_id=path.id, filter=convert.result_filter(query), teacher_id=query.teacher_id,
        page_size=query.page_size, page_token=query.page_token))
    return convert.results(reply).model_dump(mode="json")


@blueprint.get("/orgs/<id>/student-results", responses={200: StudentResultList, **ROW_PROBLEMS},
               security=BEARER_REQUIRED, openapi_extensions=roles_required(*ROW_READERS))
def list_org_student_results(path: StudentRowsPath, query: OrgStudentResultsQuery):
    """Every ready data set's rows of students at an organization (school, district, county
    office), a data_steward over it or a platform_admin; audited."""
    reply = reflection().ListStudentResults(student_rows_pb2.ListStudentResultsRequest(
        organization_id=path.id, filter=convert.result_filter(query), teacher_id=query.teacher_id,
        page_size=query.page_size, page_token=query.page_token))
    return convert.results(reply).model_dump(mode="json")


@blueprint.get("/orgs/<id>/student-read-audit", responses={200: StudentReadAuditList, **LIST_PROBLEMS},
               security=BEARER_REQUIRED, openapi_extensions=roles_required(*AUDIT_READERS))
def list_student_read_audit(path: StudentRowsPath, query: AuditQuery):
    """Who read student-level rows of this organization's data, when, with which filters and how
    many rows, newest first (a county_admin over it, or a platform_admin)."""
    reply = reflection().ListStudentReadAudit(student_rows_pb2.ListStudentReadAuditRequest(
        organization_id=path.id, actor_id=query.actor_id, page_size=query.page_size, page_token=query.page_token))
    return convert.audit(reply).model_dump(mode="json")
