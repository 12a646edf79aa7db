"""/api/v1/programs: program years and their calls for facilitator proposals (membership)."""

from __future__ import annotations

from flask import url_for
from flask_openapi3 import APIBlueprint, Tag

from copnet.gateway.auth import BEARER_REQUIRED, PROGRAM_MANAGERS, roles_required
from copnet.gateway.backend import membership
from copnet.gateway.convert import programs as convert
from copnet.gateway.openapi import WRITE_PROBLEMS, operation_id, problem_responses
from copnet.gateway.schemas.programs import (Program, ProgramCreate, ProgramList, ProgramPath, ProgramQuery,
                                             ProgramUpdate, ProposalCallOpen)
from copnet.membership.v1 import membership_pb2

blueprint = APIBlueprint("programs", __name__, url_prefix="/api/v1/programs", operation_id_callback=operation_id,
                         abp_tags=[Tag(name="programs",
                                       description="Program years and their calls for facilitator proposals.")])


@blueprint.post("", responses={201: Program, **problem_responses(400, 403, 409, 413, 415, 422, 503, 504)},
                security=BEARER_REQUIRED,
                openapi_extensions=roles_required(*PROGRAM_MANAGERS))
def create_program(body: ProgramCreate):
    """Create a program owned by a region or the state (regional leads over the owner, platform admins)."""
    reply = membership().CreateProgram(convert.create_program_request(body))
    program = convert.program(reply.program)
    return program.model_dump(mode="json"), 201, {"Location": url_for(".get_program", id=program.id)}


@blueprint.get("", responses={200: ProgramList, **problem_responses(422, 503, 504)})
def list_programs(query: ProgramQuery):
    """Programs in id order, a page at a time; filter by owner or program year. Public."""
    reply = membership().ListPrograms(convert.list_programs_request(query))
    return ProgramList(items=[convert.program(p) for p in reply.programs],
                       next_page_token=reply.next_page_token).model_dump(mode="json")


@blueprint.get("/<id>", responses={200: Program, **problem_responses(404, 503, 504)})
def get_program(path: ProgramPath):
    """One program, with its call for proposals (null until opened). Public."""
    reply = membership().GetProgram(membership_pb2.GetProgramRequest(id=path.id))
    return convert.program(reply.program).model_dump(mode="json")


@blueprint.patch("/<id>", responses={200: Program, **WRITE_PROBLEMS}, security=BEARER_REQUIRED,
                 openapi_extensions=roles_required(*PROGRAM_MANAGERS))
def update_program(path: ProgramPath, body: ProgramUpdate):
    """Change a program's name or description."""
    reply = membership().UpdateProgram(convert.update_program_request(path.id, body))
    return convert.program(reply.program).model_dump(mode="json")


@blueprint.put("/<id>/proposal-call", responses={200: Program, **WRITE_PROBLEMS}, security=BEARER_REQUIRED,
               openapi_extensions=roles_required(*PROGRAM_MANAGERS))
def open_proposal_call(path: ProgramPath, body: ProposalCallOpen):
    """Open the program's call for facilitator proposals until `due_at`, or re-date the open call."""
    reply = membership().OpenProposalCall(convert.open_proposal_call_request(path.id, body))
    return convert.program(reply.program).model_dump(mode="json")
