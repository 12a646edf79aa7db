"""/api/v1 sessions: a community's convenings, single or recurring (scheduling). Reading them needs a
token (any signed-in person); writing them a facilitator of the community or a manager over it."""

from __future__ import annotations

from flask import url_for
from flask_openapi3 import APIBlueprint, Tag

from copnet.gateway.auth import BEARER_REQUIRED
from copnet.gateway.backend import scheduling
from copnet.gateway.convert import sessions as convert
from copnet.gateway.openapi import LIST_PROBLEMS, READ_PROBLEMS, WRITE_PROBLEMS, operation_id
from copnet.gateway.schemas.common import IdPath
from copnet.gateway.schemas.sessions import (Cancel, OccurrenceList, OccurrenceQuery, Session,
                                             SessionCreate, SessionList, SessionQuery, SessionUpdate, SessionWritten)
from copnet.scheduling.v1 import scheduling_pb2

blueprint = APIBlueprint("sessions", __name__, url_prefix="/api/v1", operation_id_callback=operation_id,
                         abp_tags=[Tag(name="sessions", description="Convenings of a community, single or "
                                                                    "recurring, and their occurrences.")])


@blueprint.post("/communities/<id>/sessions", responses={201: SessionWritten, **WRITE_PROBLEMS},
                security=BEARER_REQUIRED)
def create_session(path: IdPath, body: SessionCreate):
    """Schedule a session or a recurring series (an RRULE, computed in the community's time zone) inside
    the program year. A room booked at the same time is refused (409 ROOM_DOUBLE_BOOKED); people
    expected in two overlapping sessions are only `warnings`."""
    reply = scheduling().CreateSession(convert.create_session_request(path.id, body))
    created = convert.session_written(reply.session, reply.warnings)
    return created.model_dump(mode="json"), 201, {"Location": url_for(".get_session", id=created.id)}


@blueprint.get("/communities/<id>/sessions", responses={200: SessionList, **LIST_PROBLEMS}, security=BEARER_REQUIRED)
def list_sessions(path: IdPath, query: SessionQuery):
    """The community's sessions in start order, a page at a time (cancelled ones on request)."""
    reply = scheduling().ListSessions(scheduling_pb2.ListSessionsRequest(
        community_id=path.id, page_size=query.page_size, page_token=query.page_token,
        include_cancelled=query.include_cancelled))
    return SessionList(items=[convert.session(s) for s in reply.sessions],
                       next_page_token=reply.next_page_token).model_dump(mode="json")


@blueprint.get("/sessions/<id>", responses={200: Session, **READ_PROBLEMS}, security=BEARER_REQUIRED)
def get_session(path: IdPath):
    """One session (for a series: its first occurrence's times and the rule)."""
    reply = scheduling().GetSession(scheduling_pb2.GetSessionRequest(id=path.id))
    return convert.session(reply.session).model_dump(mode="json")


@blueprint.patch("/sessions/<id>", responses={200: SessionWritten, **WRITE_PROBLEMS}, security=BEARER_REQUIRED)
def update_session(path: IdPath, body: SessionUpdate):
    """Change the fields sent. A new time or rule re-computes the series and keeps each moved or
    cancelled occurrence whose original time is still in it; calendars see a new `sequence`."""
    reply = scheduling().UpdateSession(convert.update_session_request(path.id, body))
    return convert.session_written(reply.session, reply.warnings).model_dump(mode="json")


@blueprint.post("/sessions/<id>/cancel", responses={200: Session, **WRITE_PROBLEMS}, security=BEARER_REQUIRED)
def cancel_session(path: IdPath, body: Cancel):
    """Cancel the session and every occurrence still ahead (calendars show them cancelled)."""
    reply = scheduling().CancelSession(scheduling_pb2.CancelSessionRequest(id=path.id, reason=body.reason))
    return convert.session(reply.session).model_dump(mode="json")


@blueprint.get("/sessions/<id>/occurrences", responses={200: OccurrenceList, **LIST_PROBLEMS},
               security=BEARER_REQUIRED)
def list_session_occurrences(path: IdPath, query: OccurrenceQuery):
    """The session's occurrences in start order, moved ones where they now are."""
    reply = scheduling().ListOccurrences(convert.list_occurrences_request(query, session_id=path.id))
    return occurrence_list(reply)


@blueprint.get("/communities/<id>/occurrences", responses={200: OccurrenceList, **LIST_PROBLEMS},
               security=BEARER_REQUIRED)
def list_community_occurrences(path: IdPath, query: OccurrenceQuery):
    """Every occurrence of the community's sessions overlapping [`start`, `end`), in start order."""
    reply = scheduling().ListOccurrences(convert.list_occurrences_request(query, community_id=path.id))
    return occurrence_list(reply)


@blueprint.get("/people/<id>/occurrences", responses={200: OccurrenceList, **LIST_PROBLEMS},
               security=BEARER_REQUIRED)
def list_person_occurrences(path: IdPath, query: OccurrenceQuery):
    """The occurrences of every community the person belongs to or facilitates (the person, or a
    manager over them), in start order."""
    reply = scheduling().ListOccurrences(convert.list_occurrences_request(query, person_id=path.id))
    return occurrence_list(reply)


def occurrence_list(reply: scheduling_pb2.ListOccurrencesResponse) -> dict:
    return OccurrenceList(items=[convert.occurrence(o) for o in reply.occurrences],
                          next_page_token=reply.next_page_token).model_dump(mode="json")
