"""student_rows_pb2 <-> /api/v1 student-level results and their audit log."""

from __future__ import annotations

from copnet.gateway.convert.common import or_null, rfc3339
from copnet.gateway.schemas import student_rows as schemas
from copnet.reflection.v1 import student_rows_pb2


def result_filter(query: schemas.StudentResultFilter) -> student_rows_pb2.StudentResultFilter:
    return student_rows_pb2.StudentResultFilter(test=query.test, school_year=query.school_year,
                                                window=query.window, grade=query.grade, school_id=query.school_id)


def _optional(message, name: str):
    return getattr(message, name) if message.HasField(name) else None


def result(message: student_rows_pb2.StudentResult) -> schemas.StudentResult:
    return schemas.StudentResult(
        pseudonym=message.pseudonym, data_set_id=message.data_set_id, school_id=message.school_id,
        district_id=message.district_id, county_office_id=message.county_office_id, grade=message.grade,
        test=message.test, school_year=message.school_year, window=message.window,
        test_date=or_null(message.test_date), scale_score=message.scale_score,
        achievement_level=message.achievement_level or None,
        distance_from_standard=_optional(message, "distance_from_standard"),
        percentile=_optional(message, "percentile"), proficiency_band=or_null(message.proficiency_band),
        teacher_id=or_null(message.teacher_id), english_learner=message.english_learner,
        disability=message.disability, economically_disadvantaged=message.economically_disadvantaged,
        foster=message.foster, homeless=message.homeless, race_ethnicity=or_null(message.race_ethnicity),
        row=message.row)


def results(reply) -> schemas.StudentResultList:
    return schemas.StudentResultList(items=[result(r) for r in reply.results], next_page_token=reply.next_page_token)


def audit_entry(message: student_rows_pb2.StudentReadAuditEntry) -> schemas.StudentReadAuditEntry:
    return schemas.StudentReadAuditEntry(
        id=message.id, actor_id=message.actor_id, action=message.action, data_set_id=or_null(message.data_set_id),
        organization_id=or_null(message.organization_id), filters=dict(message.filters), rows=message.rows,
        data_set_ids=list(message.data_set_ids), read_at=rfc3339(message.read_time))


def audit(reply: student_rows_pb2.ListStudentReadAuditResponse) -> schemas.StudentReadAuditList:
    return schemas.StudentReadAuditList(items=[audit_entry(e) for e in reply.entries],
                                        next_page_token=reply.next_page_token)
