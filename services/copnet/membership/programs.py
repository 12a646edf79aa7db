"""Programs: a program year (e.g. "2026-27 Statewide Math CoP") owned by a region or the state,
and its call for facilitator proposals."""

from __future__ import annotations

import datetime as dt
import re

from pymongo.errors import DuplicateKeyError

from copnet.kernel import db
from copnet.kernel.errors import FailedPrecondition, FieldViolation, InvalidArgument
from copnet.kernel.inputs import chosen_or_new_id, optional_text, required_instant, required_text
from copnet.kernel.pagination import page_of
from copnet.kernel.service import ServiceContext
from copnet.membership import access, events, lookups
from copnet.membership.access import PROGRAM_MANAGERS
from copnet.membership.messages import program_message
from copnet.membership.models import Organization, Program, ProposalCall
from copnet.membership.v1 import membership_pb2

PROGRAM_OWNER_KINDS = ("region", "state")
PROGRAM_YEAR_PATTERN = re.compile(r"^(\d{4})-(\d{2})$")


def valid_program_year(value: str, field: str = "program_year") -> str:
    """A school year written "2026-27": a year and the last two digits of the next one."""
    value = value.strip()
    match = PROGRAM_YEAR_PATTERN.match(value)
    if match is None or (int(match[1]) + 1) % 100 != int(match[2]):
        raise InvalidArgument.for_field(field, 'must be a school year like "2026-27" (two consecutive years)',
                                        reason="INVALID_PROGRAM_YEAR")
    return value


def proposal_call_is_open(program: Program, now: dt.datetime) -> bool:
    """Opened (a timeline may open it in the future) and not yet due."""
    call = program.proposal_call
    return call is not None and call.opened_at <= now < call.due_at


def require_call_not_managed(program: Program) -> None:
    """Once the program's timeline has a proposals-due milestone, the call is dated there."""
    if program.proposal_call_managed:
        message = (f"program {program.id!r}'s call for proposals is dated by its timeline (proposals due "
                   f"{program.timeline.proposals_due_at.isoformat()}); move the proposals-due milestone instead")
        raise FailedPrecondition(message, reason="MANAGED_BY_TIMELINE", metadata={"field": "due_time"},
                                 fields=[FieldViolation("due_time", message)])


def program_owner(owner_id: str) -> Organization:
    owner = lookups.referenced_organization(owner_id, "owner_organization_id")
    if owner.kind not in PROGRAM_OWNER_KINDS:
        raise InvalidArgument.for_field("owner_organization_id",
                                        f"a program is owned by a region or the state, not a {owner.kind}",
                                        reason="INVALID_OWNER_KIND")
    return owner


class ProgramsApi:
    ctx: ServiceContext

    # -- programs ------------------------------------------------------------------------------
    def CreateProgram(
        self, request: membership_pb2.CreateProgramRequest, _context
    ) -> membership_pb2.CreateProgramResponse:
        access.caller("creating a program")
        name = required_text(request.name, "name")
        program_id = chosen_or_new_id(request.program_id, "program_id")
        program_year = valid_program_year(request.program_year)
        description = optional_text(request.description, "description", 5000)
        owner = program_owner(request.owner_organization_id)
        identity = access.require(PROGRAM_MANAGERS, owner.scope, "creating a program")
        program = Program(
            id=program_id,
            name=name,
            owner_organization_id=owner.id,
            scope=owner.scope,
            program_year=program_year,
            description=description,
            created_at=db.utcnow(),
        )

        def work(uow: db.UnitOfWork) -> None:
            uow.insert(program)
            uow.emit(events.program_changed(self.ctx, "created", program, identity.person_id))

        try:
            self.ctx.transaction(work)
        except DuplicateKeyError:
            raise lookups.duplicate_id(Program, program_id, "program_id") from None
        return membership_pb2.CreateProgramResponse(program=program_message(program))

    def GetProgram(self, request: membership_pb2.GetProgramRequest, _context) -> membership_pb2.GetProgramResponse:
        return membership_pb2.GetProgramResponse(program=program_message(lookups.existing(Program, request.id)))

    def ListPrograms(
        self, request: membership_pb2.ListProgramsRequest, _context
    ) -> membership_pb2.ListProgramsResponse:
        query: dict = {}
        if request.owner_organization_id:
            query["owner_organization_id"] = request.owner_organization_id
        if request.program_year:
            query["program_year"] = valid_program_year(request.program_year)
        found, token = page_of(Program, query, request.page_size, request.page_token)
        return membership_pb2.ListProgramsResponse(programs=[program_message(p) for p in found], next_page_token=token)

    def UpdateProgram(
        self, request: membership_pb2.UpdateProgramRequest, _context
    ) -> membership_pb2.UpdateProgramResponse:
        identity, program = access.managed_document(PROGRAM_MANAGERS, Program, request.id, "updating a program")
        changes: dict = {}
        if request.HasField("name"):
            changes["name"] = required_text(request.name, "name")
        if request.HasField("description"):
            changes["description"] = optional_text(request.description, "description", 5000)
        if not changes:
            return membership_pb2.UpdateProgramResponse(program=program_message(program))
        updated = self.ctx.transaction(
            lambda uow: self._program_changed(uow, program.id, changes, "updated", identity.person_id)
        )
        return membership_pb2.UpdateProgramResponse(program=program_message(updated))

    def OpenProposalCall(
        self, request: membership_pb2.OpenProposalCallRequest, _context
    ) -> membership_pb2.OpenProposalCallResponse:
        identity, program = access.managed_document(
            PROGRAM_MANAGERS, Program, request.program_id, "opening a call for proposals"
        )
        require_call_not_managed(program)
        due_at = required_instant(request, "due_time")
        if due_at <= db.utcnow():
            raise InvalidArgument.for_field("due_time", "must be in the future", reason="DUE_TIME_NOT_IN_FUTURE")

        def work(uow: db.UnitOfWork) -> Program:
            current = lookups.reread(uow, Program, program.id)
            require_call_not_managed(current)
            now = db.utcnow()
            # An open call keeps when it opened and is only re-dated; a lapsed one opens anew.
            opened_at = current.proposal_call.opened_at if proposal_call_is_open(current, now) else now
            call = ProposalCall(opened_at=opened_at, due_at=due_at)
            return self._program_changed(
                uow, program.id, {"proposal_call": call.to_mongo()}, "proposal_call_opened", identity.person_id
            )

        return membership_pb2.OpenProposalCallResponse(program=program_message(self.ctx.transaction(work)))

    # -- helpers -------------------------------------------------------------------------------
    def _program_changed(
        self, uow: db.UnitOfWork, program_id: str, changes: dict, verb: str, changed_by: str
    ) -> Program:
        lookups.reread(uow, Program, program_id)
        uow.update_one(Program, {"_id": program_id}, {"$set": {**changes, "updated_at": db.utcnow()}})
        program = lookups.reread(uow, Program, program_id)
        uow.emit(events.program_changed(self.ctx, verb, program, changed_by))
        return program
