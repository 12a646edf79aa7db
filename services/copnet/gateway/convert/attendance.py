"""Attendance, participation and learning hours: JSON models <-> scheduling messages."""

from __future__ import annotations

from copnet.gateway.convert.common import enum_to_proto, in_zone, or_null, rfc3339
from copnet.gateway.schemas import attendance as schemas
from copnet.kernel.enums import to_label
from copnet.scheduling.v1 import scheduling_pb2


def record_attendance_request(occurrence_id: str,
                              body: schemas.AttendanceSheet) -> scheduling_pb2.RecordAttendanceRequest:
    request = scheduling_pb2.RecordAttendanceRequest(occurrence_id=occurrence_id)
    for entry in body.entries:
        message = request.entries.add(person_id=entry.person_id, note=entry.note,
                                      status=enum_to_proto(scheduling_pb2.AttendanceStatus, entry.status))
        if entry.attended_minutes is not None:
            message.attended_minutes = entry.attended_minutes
    return request


def list_attendance_request(query: schemas.AttendanceQuery, **owner: str) -> scheduling_pb2.ListAttendanceRequest:
    """`owner` is exactly one of occurrence_id, community_id and person_id."""
    return scheduling_pb2.ListAttendanceRequest(page_size=query.page_size, page_token=query.page_token, **owner)


def record(message: scheduling_pb2.AttendanceRecord) -> schemas.AttendanceRecord:
    return schemas.AttendanceRecord(
        occurrence_id=message.occurrence_id, session_id=message.session_id, community_id=message.community_id,
        program_id=or_null(message.program_id), person_id=message.person_id,
        status=to_label(scheduling_pb2.AttendanceStatus, message.status), attended_minutes=message.attended_minutes,
        note=message.note, recorded_by=message.recorded_by, recorded_at=rfc3339(message.record_time))


def participation(message: scheduling_pb2.Participation) -> schemas.Participation:
    return schemas.Participation(
        person_id=or_null(message.person_id), community_id=or_null(message.community_id), expected=message.expected,
        attended=message.attended, late=message.late, absent=message.absent, excused=message.excused,
        unrecorded=message.unrecorded, rate=message.rate, attended_minutes=message.attended_minutes)


def community_participation(reply: scheduling_pb2.GetCommunityParticipationResponse) -> schemas.CommunityParticipation:
    return schemas.CommunityParticipation(community_id=reply.community_id,
                                          people=[participation(p) for p in reply.people],
                                          total=participation(reply.total), occurrences_held=reply.occurrences_held)


def person_participation(reply: scheduling_pb2.GetPersonParticipationResponse) -> schemas.PersonParticipation:
    return schemas.PersonParticipation(person_id=reply.person_id,
                                       communities=[participation(p) for p in reply.communities],
                                       total=participation(reply.total))


def learning_hours(reply: scheduling_pb2.GetLearningHoursResponse) -> schemas.LearningHours:
    return schemas.LearningHours(
        person_id=reply.person_id, person_name=reply.person_name, program_id=reply.program_id,
        program_name=reply.program_name, program_year=reply.program_year, issuer_name=reply.issuer_name,
        total_minutes=reply.total_minutes, total_hours=reply.total_hours, lines=[line(n) for n in reply.lines],
        issued_at=rfc3339(reply.issue_time))


def line(message: scheduling_pb2.LearningHoursLine) -> schemas.LearningHoursLine:
    start, end = rfc3339(message.start_time), rfc3339(message.end_time)
    return schemas.LearningHoursLine(
        occurrence_id=message.occurrence_id, session_id=message.session_id, community_id=message.community_id,
        community_name=message.community_name, title=message.title, session_type=message.session_type,
        start_time=start, end_time=end, local_start=in_zone(start, message.time_zone),
        local_end=in_zone(end, message.time_zone), time_zone=message.time_zone,
        status=to_label(scheduling_pb2.AttendanceStatus, message.status), attended_minutes=message.attended_minutes)
