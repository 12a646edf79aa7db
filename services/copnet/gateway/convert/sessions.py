"""Sessions and occurrences: JSON models <-> scheduling messages."""

from __future__ import annotations

import json

from copnet.gateway.convert.common import (enum_to_proto, fields_of, in_zone, or_null, rfc3339, rfc3339_or_null,
                                           timestamp_of)
from copnet.gateway.schemas import sessions as schemas
from copnet.kernel.enums import to_label
from copnet.scheduling.v1 import scheduling_pb2

# Fields a PATCH may clear by sending null (proto `optional string`s, set to "").
CLEARABLE_TEXT = ("recurrence", "meeting_url", "team_id")


# -- requests -------------------------------------------------------------------------------------
def create_session_request(community_id: str, body: schemas.SessionCreate) -> scheduling_pb2.CreateSessionRequest:
    request = scheduling_pb2.CreateSessionRequest(
        session_id=body.id or "", community_id=community_id, session_type=body.session_type, title=body.title,
        agenda=body.agenda, facilitator_ids=body.facilitator_ids, start_time=timestamp_of(body.start_time),
        recurrence=body.recurrence, modality=enum_to_proto(scheduling_pb2.Modality, body.modality),
        meeting_url=body.meeting_url, audience=enum_to_proto(scheduling_pb2.Audience, body.audience),
        team_id=body.team_id, capacity=body.capacity, fields_json=json.dumps(body.fields) if body.fields else "")
    if body.end_time is not None:
        request.end_time.CopyFrom(timestamp_of(body.end_time))
    if body.venue is not None:
        request.venue.CopyFrom(venue_request(body.venue))
    return request


def update_session_request(session_id: str, body: schemas.SessionUpdate) -> scheduling_pb2.UpdateSessionRequest:
    request = scheduling_pb2.UpdateSessionRequest(id=session_id)
    sent = body.model_fields_set
    for field in ("title", "agenda", "capacity"):
        if getattr(body, field) is not None:
            setattr(request, field, getattr(body, field))
    for field in CLEARABLE_TEXT:
        if field in sent:
            setattr(request, field, getattr(body, field) or "")
    for field in ("start_time", "end_time"):
        if getattr(body, field) is not None:
            getattr(request, field).CopyFrom(timestamp_of(getattr(body, field)))
    if body.facilitator_ids is not None:
        request.set_facilitator_ids = True
        request.facilitator_ids.extend(body.facilitator_ids)
    if body.modality is not None:
        request.modality = enum_to_proto(scheduling_pb2.Modality, body.modality)
    if body.audience is not None:
        request.audience = enum_to_proto(scheduling_pb2.Audience, body.audience)
    if body.venue is not None:
        request.venue.CopyFrom(venue_request(body.venue))
    elif "venue" in sent:
        request.clear_venue = True
    if body.fields is not None:
        request.fields_json = json.dumps(body.fields)
    return request


def move_occurrence_request(occurrence_id: str, body: schemas.OccurrenceMove) -> scheduling_pb2.MoveOccurrenceRequest:
    request = scheduling_pb2.MoveOccurrenceRequest(id=occurrence_id, start_time=timestamp_of(body.start_time))
    if body.end_time is not None:
        request.end_time.CopyFrom(timestamp_of(body.end_time))
    if body.venue is not None:
        request.venue.CopyFrom(venue_request(body.venue))
    return request


def list_occurrences_request(query: schemas.OccurrenceQuery, **owner: str) -> scheduling_pb2.ListOccurrencesRequest:
    """`owner` is exactly one of community_id, session_id and person_id."""
    request = scheduling_pb2.ListOccurrencesRequest(page_size=query.page_size, page_token=query.page_token,
                                                    include_cancelled=query.include_cancelled, **owner)
    if query.start is not None:
        request.start_time.CopyFrom(timestamp_of(query.start))
    if query.end is not None:
        request.end_time.CopyFrom(timestamp_of(query.end))
    return request


def venue_request(venue: schemas.Venue) -> scheduling_pb2.Venue:
    return scheduling_pb2.Venue(name=venue.name, address=venue.address)


# -- responses ------------------------------------------------------------------------------------
def session(message: scheduling_pb2.Session) -> schemas.Session:
    return schemas.Session(**_session_fields(message))


def session_written(message: scheduling_pb2.Session, warnings) -> schemas.SessionWritten:
    return schemas.SessionWritten(**_session_fields(message), warnings=[warning(w) for w in warnings])


def _session_fields(message: scheduling_pb2.Session) -> dict:
    start, end = rfc3339(message.start_time), rfc3339(message.end_time)
    return dict(
        id=message.id, community_id=message.community_id, program_id=or_null(message.program_id),
        session_type=message.session_type, title=message.title, agenda=message.agenda,
        facilitator_ids=list(message.facilitator_ids), start_time=start, end_time=end,
        local_start=in_zone(start, message.time_zone), local_end=in_zone(end, message.time_zone),
        time_zone=message.time_zone, recurrence=or_null(message.recurrence),
        modality=to_label(scheduling_pb2.Modality, message.modality), venue=venue(message),
        meeting_url=or_null(message.meeting_url), audience=to_label(scheduling_pb2.Audience, message.audience),
        team_id=or_null(message.team_id), capacity=message.capacity, fields=fields_of(message.fields_json),
        status=to_label(scheduling_pb2.SessionStatus, message.status), sequence=message.sequence,
        occurrence_count=message.occurrence_count, cancel_reason=or_null(message.cancel_reason),
        created_by=message.created_by, created_at=rfc3339(message.create_time),
        updated_at=rfc3339_or_null(message, "update_time"))


def occurrence(message: scheduling_pb2.Occurrence) -> schemas.Occurrence:
    return schemas.Occurrence(**_occurrence_fields(message))


def occurrence_written(message: scheduling_pb2.Occurrence, warnings) -> schemas.OccurrenceWritten:
    return schemas.OccurrenceWritten(**_occurrence_fields(message), warnings=[warning(w) for w in warnings])


def _occurrence_fields(message: scheduling_pb2.Occurrence) -> dict:
    start, end = rfc3339(message.start_time), rfc3339(message.end_time)
    return dict(
        id=message.id, session_id=message.session_id, community_id=message.community_id,
        original_start_time=rfc3339(message.original_start_time), start_time=start, end_time=end,
        local_start=in_zone(start, message.time_zone), local_end=in_zone(end, message.time_zone),
        time_zone=message.time_zone, status=to_label(scheduling_pb2.OccurrenceStatus, message.status),
        title=message.title, session_type=message.session_type,
        modality=to_label(scheduling_pb2.Modality, message.modality), venue=venue(message),
        meeting_url=or_null(message.meeting_url), facilitator_ids=list(message.facilitator_ids),
        audience=to_label(scheduling_pb2.Audience, message.audience), team_id=or_null(message.team_id),
        cancel_reason=or_null(message.cancel_reason), sequence=message.sequence)


def warning(message: scheduling_pb2.ConflictWarning) -> schemas.ConflictWarning:
    return schemas.ConflictWarning(
        kind=to_label(scheduling_pb2.ConflictWarning.Kind, message.kind), person_id=message.person_id,
        occurrence_id=message.occurrence_id, other_occurrence_id=message.other_occurrence_id,
        other_session_id=message.other_session_id, other_community_id=message.other_community_id,
        other_start_time=rfc3339(message.other_start_time), other_end_time=rfc3339(message.other_end_time),
        message=message.message)


def venue(message) -> schemas.Venue | None:
    if not message.HasField("venue") or not (message.venue.name or message.venue.address):
        return None
    return schemas.Venue(name=message.venue.name, address=message.venue.address)

