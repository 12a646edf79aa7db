"""Milestones: JSON models <-> scheduling messages."""

from __future__ import annotations

from copnet.gateway.convert.common import enum_to_proto, in_zone, or_null, rfc3339, rfc3339_or_null, timestamp_of
from copnet.gateway.schemas import milestones as schemas
from copnet.kernel.enums import to_label
from copnet.scheduling.v1 import scheduling_pb2


def create_milestone_request(program_id: str, body: schemas.MilestoneCreate) -> scheduling_pb2.CreateMilestoneRequest:
    return scheduling_pb2.CreateMilestoneRequest(
        program_id=program_id, kind=enum_to_proto(scheduling_pb2.MilestoneKind, body.kind), title=body.title,
        description=body.description, time=timestamp_of(body.time), time_zone=body.time_zone)


def update_milestone_request(milestone_id: str, body: schemas.MilestoneUpdate) -> scheduling_pb2.UpdateMilestoneRequest:
    request = scheduling_pb2.UpdateMilestoneRequest(id=milestone_id)
    for field in ("title", "description", "time_zone"):
        if getattr(body, field) is not None:
            setattr(request, field, getattr(body, field))
    if body.time is not None:
        request.time.CopyFrom(timestamp_of(body.time))
    return request


def milestone(message: scheduling_pb2.Milestone) -> schemas.Milestone:
    time = rfc3339(message.time)
    return schemas.Milestone(
        id=message.id, program_id=message.program_id, kind=to_label(scheduling_pb2.MilestoneKind, message.kind),
        title=message.title, description=message.description, time=time,
        local_time=in_zone(time, message.time_zone), time_zone=message.time_zone, linked=message.linked,
        timeline_revision=message.timeline_revision, created_at=rfc3339(message.create_time),
        updated_at=rfc3339_or_null(message, "update_time"), updated_by=or_null(message.updated_by))


def milestone_list(reply: scheduling_pb2.ListMilestonesResponse) -> schemas.MilestoneList:
    return schemas.MilestoneList(items=[milestone(m) for m in reply.milestones],
                                 timeline_revision=reply.timeline_revision)
