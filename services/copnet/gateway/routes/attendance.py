"""/api/v1 attendance and participation (scheduling): a facilitator records who came to an occurrence,
in bulk; rates per person and per community follow from the records. Every route needs a token:
records are read by the community's facilitators and managers, and by the person themself."""

from __future__ import annotations

from flask_openapi3 import APIBlueprint, Tag

from copnet.gateway.auth import BEARER_REQUIRED
from copnet.gateway.backend import scheduling
from copnet.gateway.convert import attendance as convert
from copnet.gateway.openapi import LIST_PROBLEMS, UNKNOWN_TARGET_PROBLEMS, WRITE_PROBLEMS, operation_id
from copnet.gateway.schemas.attendance import (AttendanceList, AttendanceQuery, AttendanceRecorded, AttendanceSheet,
                                               CommunityParticipation, PersonParticipation)
from copnet.gateway.schemas.common import IdPath
from copnet.scheduling.v1 import scheduling_pb2

blueprint = APIBlueprint("attendance", __name__, url_prefix="/api/v1", operation_id_callback=operation_id,
                         abp_tags=[Tag(name="attendance",
                                       description="Attendance, participation and professional-learning hours.")])


@blueprint.put("/occurrences/<id>/attendance", responses={200: AttendanceRecorded, **WRITE_PROBLEMS},
               security=BEARER_REQUIRED)
def record_attendance(path: IdPath, body: AttendanceSheet):
    """Record attendance at one occurrence (its facilitators and the community's managers): present,
    late (with the minutes attended), absent or excused, for members and facilitators of the
    community. Every entry is checked before any is written; an entry replaces that person's record."""
    reply = scheduling().RecordAttendance(convert.record_attendance_request(path.id, body))
    return AttendanceRecorded(items=[convert.record(r) for r in reply.records]).model_dump(mode="json")


@blueprint.get("/occurrences/<id>/attendance", responses={200: AttendanceList, **LIST_PROBLEMS},
               security=BEARER_REQUIRED)
def list_occurrence_attendance(path: IdPath, query: AttendanceQuery):
    """The records of one occurrence."""
    return attendance_list(convert.list_attendance_request(query, occurrence_id=path.id))


@blueprint.get("/communities/<id>/attendance", responses={200: AttendanceList, **LIST_PROBLEMS},
               security=BEARER_REQUIRED)
def list_community_attendance(path: IdPath, query: AttendanceQuery):
    """Every record of the community's occurrences (its facilitators and managers)."""
    return attendance_list(convert.list_attendance_request(query, community_id=path.id))


@blueprint.get("/people/<id>/attendance", responses={200: AttendanceList, **LIST_PROBLEMS}, security=BEARER_REQUIRED)
def list_person_attendance(path: IdPath, query: AttendanceQuery):
    """A person's records in every community (the person, or a manager over them)."""
    return attendance_list(convert.list_attendance_request(query, person_id=path.id))


@blueprint.get("/communities/<id>/participation",
               responses={200: CommunityParticipation, **UNKNOWN_TARGET_PROBLEMS},
               security=BEARER_REQUIRED)
def get_community_participation(path: IdPath):
    """Participation of each confirmed member and facilitator over the occurrences held so far."""
    reply = scheduling().GetCommunityParticipation(
        scheduling_pb2.GetCommunityParticipationRequest(community_id=path.id))
    return convert.community_participation(reply).model_dump(mode="json")


@blueprint.get("/people/<id>/participation", responses={200: PersonParticipation, **UNKNOWN_TARGET_PROBLEMS},
               security=BEARER_REQUIRED)
def get_person_participation(path: IdPath):
    """A person's participation in each community they belong to or facilitate."""
    reply = scheduling().GetPersonParticipation(scheduling_pb2.GetPersonParticipationRequest(person_id=path.id))
    return convert.person_participation(reply).model_dump(mode="json")


def attendance_list(request: scheduling_pb2.ListAttendanceRequest) -> dict:
    reply = scheduling().ListAttendance(request)
    return AttendanceList(items=[convert.record(r) for r in reply.records],
                          next_page_token=reply.next_page_token).model_dump(mode="json")
