"""Programs: JSON models <-> membership messages."""

from __future__ import annotations

from copnet.gateway.convert.common import rfc3339, rfc3339_or_null, timestamp_of
from copnet.gateway.schemas import programs as schemas
from copnet.membership.v1 import membership_pb2


def create_program_request(body: schemas.ProgramCreate) -> membership_pb2.CreateProgramRequest:
    return membership_pb2.CreateProgramRequest(program_id=body.id or "", name=body.name,
                                               owner_organization_id=body.owner_organization_id,
                                               program_year=body.program_year, description=body.description)


def update_program_request(program_id: str, body: schemas.ProgramUpdate) -> membership_pb2.UpdateProgramRequest:
    request = membership_pb2.UpdateProgramRequest(id=program_id)
    if body.name is not None:
        request.name = body.name
    if body.description is not None:
        request.description = body.description
    return request


def open_proposal_call_request(program_id: str,
                               body: schemas.ProposalCallOpen) -> membership_pb2.OpenProposalCallRequest:
    return membership_pb2.OpenProposalCallRequest(program_id=program_id, due_time=timestamp_of(body.due_at))


def list_programs_request(query: schemas.ProgramQuery) -> membership_pb2.ListProgramsRequest:
    return membership_pb2.ListProgramsRequest(page_size=query.page_size, page_token=query.page_token,
                                              owner_organization_id=query.owner_organization_id,
                                              program_year=query.program_year)


def program(message: membership_pb2.Program) -> schemas.Program:
    call = None
    if message.HasField("proposal_call"):
        call = schemas.ProposalCall(opened_at=rfc3339(message.proposal_call.open_time),
                                    due_at=rfc3339(message.proposal_call.due_time))
    return schemas.Program(id=message.id, name=message.name, owner_organization_id=message.owner_organization_id,
                           program_year=message.program_year, description=message.description,
                           proposal_call=call, created_at=rfc3339(message.create_time),
                           updated_at=rfc3339_or_null(message, "update_time"))
