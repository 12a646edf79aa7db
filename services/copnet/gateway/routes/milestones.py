"""/api/v1 program timelines: the milestones of a program year (scheduling). Linked milestones
(call opens, proposals due, sign-up opens, soft deadline, sign-up closes) are applied by membership
to the program's proposal call and its communities' sign-up windows. Every route needs a token."""

from __future__ import annotations

from flask import url_for
from flask_openapi3 import APIBlueprint, Tag

from copnet.gateway.auth import BEARER_REQUIRED, PROGRAM_MANAGERS, roles_required
from copnet.gateway.backend import scheduling
from copnet.gateway.convert import milestones as convert
from copnet.gateway.openapi import (READ_PROBLEMS, UNKNOWN_TARGET_PROBLEMS, WRITE_PROBLEMS, operation_id,
                                   problem_responses)
from copnet.gateway.schemas.milestones import (Deleted, Milestone, MilestoneCreate, MilestoneList, MilestonePath,
                                               MilestoneUpdate, ProgramPath)
from copnet.scheduling.v1 import scheduling_pb2

blueprint = APIBlueprint("milestones", __name__, url_prefix="/api/v1", operation_id_callback=operation_id,
                         abp_tags=[Tag(name="timelines", description="Program timelines: milestones.")])


@blueprint.post("/programs/<id>/milestones", responses={201: Milestone, **WRITE_PROBLEMS}, security=BEARER_REQUIRED,
                openapi_extensions=roles_required(*PROGRAM_MANAGERS))
def create_milestone(path: ProgramPath, body: MilestoneCreate):
    """Add a milestone to the program's timeline (platform admins, regional leads over the program's owner).
    A linked kind exists at most once per program (409 MILESTONE_KIND_EXISTS) and keeps the order
    call opens < proposals due, sign-up opens < soft deadline <= sign-up closes (422 MILESTONE_ORDER)."""
    reply = scheduling().CreateMilestone(convert.create_milestone_request(path.id, body))
    created = convert.milestone(reply.milestone)
    return created.model_dump(mode="json"), 201, {"Location": url_for(".get_milestone", id=created.id)}


@blueprint.get("/programs/<id>/milestones", responses={200: MilestoneList, **UNKNOWN_TARGET_PROBLEMS},
               security=BEARER_REQUIRED)
def list_milestones(path: ProgramPath):
    """The program's timeline in time order, with its revision (any signed-in person)."""
    reply = scheduling().ListMilestones(scheduling_pb2.ListMilestonesRequest(program_id=path.id))
    return convert.milestone_list(reply).model_dump(mode="json")


@blueprint.get("/milestones/<id>", responses={200: Milestone, **READ_PROBLEMS}, security=BEARER_REQUIRED)
def get_milestone(path: MilestonePath):
    """One milestone (any signed-in person)."""
    reply = scheduling().GetMilestone(scheduling_pb2.GetMilestoneRequest(id=path.id))
    return convert.milestone(reply.milestone).model_dump(mode="json")


@blueprint.patch("/milestones/<id>", responses={200: Milestone, **WRITE_PROBLEMS}, security=BEARER_REQUIRED,
                 openapi_extensions=roles_required(*PROGRAM_MANAGERS))
def update_milestone(path: MilestonePath, body: MilestoneUpdate):
    """Change the fields sent. A linked milestone's new time reaches membership's dates (the
    proposal call, every sign-up window of the program) by event."""
    reply = scheduling().UpdateMilestone(convert.update_milestone_request(path.id, body))
    return convert.milestone(reply.milestone).model_dump(mode="json")


@blueprint.delete("/milestones/<id>", responses={200: Deleted, **problem_responses(403, 404, 409, 503, 504)},
                  security=BEARER_REQUIRED,
                  openapi_extensions=roles_required(*PROGRAM_MANAGERS))
def delete_milestone(path: MilestonePath):
    """Remove a milestone; a linked one cannot be removed (409 MILESTONE_LINKED): membership's dates depend on
    it, so move it instead."""
    scheduling().DeleteMilestone(scheduling_pb2.DeleteMilestoneRequest(id=path.id))
    return Deleted(id=path.id).model_dump(mode="json")
