"""Facilitator proposals: submitted while a program's call is open, then accepted (which creates
the community, draft, with the proposer as its facilitator) or declined by a program manager."""

from __future__ import annotations

import re

from pymongo.errors import DuplicateKeyError

from copnet.kernel import db
from copnet.kernel.errors import FailedPrecondition, InvalidArgument
from copnet.kernel.inputs import chosen_or_new_id, optional_label, optional_text, required_label, required_text
from copnet.kernel.pagination import page_of
from copnet.kernel.service import ServiceContext
from copnet.membership import access, community_rules, events, lookups
from copnet.membership.access import PROGRAM_MANAGERS
from copnet.membership.messages import community_message, proposal_message
from copnet.membership.models import Community, Person, Program, Proposal, RoleGrant
from copnet.membership.programs import proposal_call_is_open
from copnet.membership.v1 import membership_pb2

CURRENCY_PATTERN = re.compile(r"^[A-Z]{3}$")
DEFAULT_CURRENCY = "USD"


def valid_currency(value: str, field: str = "stipend_currency") -> str:
    if not value:
        return DEFAULT_CURRENCY
    if not CURRENCY_PATTERN.match(value):
        raise InvalidArgument.for_field(field, "must be an ISO 4217 code: three upper-case letters, e.g. USD",
                                        reason="INVALID_CURRENCY")
    return value


def valid_stipend(cents: int, field: str = "stipend_cents") -> int:
    if cents < 0:
        raise InvalidArgument.for_field(field, "must not be negative", reason="INVALID_STIPEND")
    return cents


def require_open_call(program: Program) -> None:
    now = db.utcnow()
    if proposal_call_is_open(program, now):
        return
    if program.proposal_call is None:
        raise FailedPrecondition(f"program {program.id!r} has no call for proposals", reason="NO_PROPOSAL_CALL")
    if now < program.proposal_call.opened_at:
        raise FailedPrecondition(f"program {program.id!r}'s call for proposals opens at "
                                 f"{program.proposal_call.opened_at.isoformat()}", reason="PROPOSALS_NOT_YET_OPEN")
    raise FailedPrecondition(f"program {program.id!r}'s call for proposals closed at "
                             f"{program.proposal_call.due_at.isoformat()}", reason="PROPOSALS_CLOSED")


def require_undecided(proposal: Proposal) -> None:
    if proposal.status != "submitted":
        raise FailedPrecondition(f"proposal {proposal.id!r} is already {proposal.status}",
                                 reason="PROPOSAL_ALREADY_DECIDED")


class ProposalsApi:
    ctx: ServiceContext

    # -- proposals -----------------------------------------------------------------------------
    def SubmitProposal(
        self, request: membership_pb2.SubmitProposalRequest, _context
    ) -> membership_pb2.SubmitProposalResponse:
        identity = access.caller("submitting a proposal")
        program = lookups.existing(Program, request.program_id)
        if Person.objects(id=identity.person_id).only("id").first() is None:
            raise FailedPrecondition(
                f"submitting a proposal needs a person record for the caller ({identity.person_id!r})",
                reason="UNKNOWN_PERSON",
            )
        require_open_call(program)
        title = required_text(request.title, "title")
        focus = optional_text(request.focus, "focus", 500)
        audience = optional_text(request.audience, "audience", 500)
        plan = optional_text(request.plan, "plan", 10000)
        requested_capacity = community_rules.valid_capacity(
            request.requested_capacity, "requested_capacity", allow_unset=False
        )
        kind = required_label(membership_pb2.CommunityKind, request.kind, "kind")
        host = lookups.referenced_organization(request.host_organization_id, "host_organization_id")
        community_rules.program_hosting(program.id, host)
        proposal = Proposal(
            id=chosen_or_new_id("", "id"),
            program_id=program.id,
            scope=program.scope,
            proposer_id=identity.person_id,
            title=title,
            focus=focus,
            audience=audience,
            plan=plan,
            requested_capacity=requested_capacity,
            kind=kind,
            host_organization_id=host.id,
            created_at=db.utcnow(),
        )

        def work(uow: db.UnitOfWork) -> None:
            # The call may have been re-dated since it was checked above.
            require_open_call(lookups.reread(uow, Program, program.id))
            uow.insert(proposal)
            uow.emit(events.proposal_changed(self.ctx, "created", proposal, identity.person_id))

        self.ctx.transaction(work)
        return membership_pb2.SubmitProposalResponse(proposal=proposal_message(proposal))

    def GetProposal(self, request: membership_pb2.GetProposalRequest, _context) -> membership_pb2.GetProposalResponse:
        identity = access.caller("reading a proposal")
        proposal = lookups.existing(Proposal, request.id)
        if not access.is_self(identity, proposal.proposer_id):
            access.require(PROGRAM_MANAGERS, proposal.scope, "reading someone else's proposal")
        return membership_pb2.GetProposalResponse(proposal=proposal_message(proposal))

    def ListProposals(
        self, request: membership_pb2.ListProposalsRequest, _context
    ) -> membership_pb2.ListProposalsResponse:
        identity = access.caller("listing proposals")
        program = lookups.existing(Program, request.program_id)
        query: dict = {"program_id": program.id}
        # Managers see every proposal to the program; anyone else only their own.
        if not access.may(PROGRAM_MANAGERS, program.scope):
            query["proposer_id"] = identity.person_id
        status = optional_label(membership_pb2.ProposalStatus, request.status, "status")
        if status:
            query["status"] = status
        found, token = page_of(Proposal, query, request.page_size, request.page_token)
        return membership_pb2.ListProposalsResponse(
            proposals=[proposal_message(p) for p in found], next_page_token=token
        )

    def AcceptProposal(
        self, request: membership_pb2.AcceptProposalRequest, _context
    ) -> membership_pb2.AcceptProposalResponse:
        identity, proposal = access.managed_document(PROGRAM_MANAGERS, Proposal, request.id, "accepting a proposal")
        stipend_cents = valid_stipend(request.stipend_cents)
        currency = valid_currency(request.stipend_currency)
        community_id = chosen_or_new_id(request.community_id, "community_id")
        require_undecided(proposal)
        host = lookups.referenced_organization(proposal.host_organization_id, "host_organization_id")
        community = community_rules.new_community(
            community_id,
            host,
            name=proposal.title,
            kind=proposal.kind,
            focus=proposal.focus,
            program_id=proposal.program_id,
            facilitator_ids=[proposal.proposer_id],
            capacity=proposal.requested_capacity,
        )

        def work(uow: db.UnitOfWork):
            current = lookups.reread(uow, Proposal, proposal.id)
            require_undecided(current)
            community_rules.join_program(uow, community, None)
            uow.insert(community)
            uow.emit(events.community_created(self.ctx, community, identity.person_id))
            decided = self._proposal_decided(
                uow,
                current.id,
                identity.person_id,
                status="accepted",
                community_id=community.id,
                stipend_cents=stipend_cents,
                stipend_currency=currency,
            )
            self._grant_proposer_facilitator(uow, current.proposer_id, host.id, identity.person_id)
            return decided

        try:
            accepted = self.ctx.transaction(work)
        except DuplicateKeyError:
            raise lookups.duplicate_id(Community, community_id, "community_id") from None
        return membership_pb2.AcceptProposalResponse(
            proposal=proposal_message(accepted), community=community_message(community)
        )

    def DeclineProposal(
        self, request: membership_pb2.DeclineProposalRequest, _context
    ) -> membership_pb2.DeclineProposalResponse:
        identity, proposal = access.managed_document(PROGRAM_MANAGERS, Proposal, request.id, "declining a proposal")
        note = optional_text(request.note, "note", 2000)
        require_undecided(proposal)

        def work(uow: db.UnitOfWork) -> Proposal:
            require_undecided(lookups.reread(uow, Proposal, proposal.id))
            return self._proposal_decided(uow, proposal.id, identity.person_id, status="declined", decision_note=note)

        return membership_pb2.DeclineProposalResponse(proposal=proposal_message(self.ctx.transaction(work)))

    # -- helpers -------------------------------------------------------------------------------
    def _proposal_decided(self, uow: db.UnitOfWork, proposal_id: str, decided_by: str, **decision) -> Proposal:
        uow.update_one(
            Proposal,
            {"_id": proposal_id, "status": "submitted"},
            {"$set": {**decision, "decided_by": decided_by, "decided_at": db.utcnow()}},
        )
        decided = lookups.reread(uow, Proposal, proposal_id)
        uow.emit(events.proposal_changed(self.ctx, decision["status"], decided, decided_by))
        return decided

    def _grant_proposer_facilitator(
        self, uow: db.UnitOfWork, person_id: str, organization_id: str, granted_by: str
    ) -> None:
        """The proposer facilitates at the host from now on (unless they already do)."""
        person = uow.find_one(Person, {"_id": person_id})
        if person is None:
            raise FailedPrecondition(
                f"the proposer {person_id!r} no longer has a person record", reason="UNKNOWN_PERSON"
            )
        if any(g.role == "facilitator" and g.organization_id == organization_id for g in person.roles):
            return
        grant = RoleGrant(
            role="facilitator", organization_id=organization_id, granted_by=granted_by, granted_at=db.utcnow()
        )
        uow.update_one(
            Person, {"_id": person_id}, {"$push": {"roles": grant.to_mongo()}, "$set": {"updated_at": db.utcnow()}}
        )
        granted = lookups.reread(uow, Person, person_id)
        uow.emit(events.person_changed(self.ctx, "role_granted", granted, granted_by))
