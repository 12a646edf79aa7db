"""/api/v1/occurrences: one meeting of a session, and its exceptions: move or cancel one
occurrence without touching the others, or restore it to where the series puts it (scheduling)."""

from __future__ import annotations

from flask_openapi3 import APIBlueprint, Tag

from copnet.gateway.auth import BEARER_REQUIRED
from copnet.gateway.backend import scheduling
from copnet.gateway.convert import sessions as convert
from copnet.gateway.openapi import READ_PROBLEMS, WRITE_PROBLEMS, operation_id
from copnet.gateway.schemas.common import IdPath, NoBody
from copnet.gateway.schemas.sessions import Cancel, Occurrence, OccurrenceMove, OccurrenceWritten
from copnet.scheduling.v1 import scheduling_pb2

blueprint = APIBlueprint("occurrences", __name__, url_prefix="/api/v1/occurrences",
                         operation_id_callback=operation_id,
                         abp_tags=[Tag(name="sessions", description="Convenings of a community, single or "
                                                                    "recurring, and their occurrences.")])


@blueprint.get("/<id>", responses={200: Occurrence, **READ_PROBLEMS},
               security=BEARER_REQUIRED)
def get_occurrence(path: IdPath):
    """One occurrence ("<session id>:<original start in UTC>")."""
    reply = scheduling().GetOccurrence(scheduling_pb2.GetOccurrenceRequest(id=path.id))
    return convert.occurrence(reply.occurrence).model_dump(mode="json")


@blueprint.post("/<id>/move", responses={200: OccurrenceWritten, **WRITE_PROBLEMS}, security=BEARER_REQUIRED)
def move_occurrence(path: IdPath, body: OccurrenceMove):
    """Move this occurrence only (status `moved`; its id stays). A room booked then is refused (409)."""
    reply = scheduling().MoveOccurrence(convert.move_occurrence_request(path.id, body))
    return convert.occurrence_written(reply.occurrence, reply.warnings).model_dump(mode="json")


@blueprint.post("/<id>/cancel", responses={200: Occurrence, **WRITE_PROBLEMS}, security=BEARER_REQUIRED)
def cancel_occurrence(path: IdPath, body: Cancel):
    """Cancel this occurrence only; the rest of the series stays."""
    reply = scheduling().CancelOccurrence(scheduling_pb2.CancelOccurrenceRequest(id=path.id, reason=body.reason))
    return convert.occurrence(reply.occurrence).model_dump(mode="json")


@blueprint.post("/<id>/restore", responses={200: OccurrenceWritten, **WRITE_PROBLEMS}, security=BEARER_REQUIRED)
def restore_occurrence(path: IdPath, body: NoBody):
    """Undo a move or a cancellation: the occurrence is back where the series puts it."""
    reply = scheduling().RestoreOccurrence(scheduling_pb2.RestoreOccurrenceRequest(id=path.id))
    return convert.occurrence_written(reply.occurrence, reply.warnings).model_dump(mode="json")
