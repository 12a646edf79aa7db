"""Facilitator proposals: JSON models <-> membership messages."""

from __future__ import annotations

from copnet.gateway.convert.common import enum_to_proto, or_null, rfc3339, rfc3339_or_null
from copnet.gateway.schemas import proposals as schemas
from copnet.kernel.enums import to_label
from copnet.membership.v1 import membership_pb2


def submit_proposal_request(program_id: str, body: schemas.ProposalCreate) -> membership_pb2.SubmitProposalRequest:
    return membership_pb2.SubmitProposalRequest(
        program_id=program_id, title=body.title, focus=body.focus, audience=body.audience, plan=body.plan,
        requested_capacity=body.requested_capacity, kind=enum_to_proto(membership_pb2.CommunityKind, body.kind),
        host_organization_id=body.host_organization_id)


def list_proposals_request(program_id: str, query: schemas.ProposalQuery) -> membership_pb2.ListProposalsRequest:
    return membership_pb2.ListProposalsRequest(page_size=query.page_size, page_token=query.page_token,
                                               program_id=program_id,
                                               status=enum_to_proto(membership_pb2.ProposalStatus, query.status))


def accept_proposal_request(proposal_id: str, body: schemas.ProposalAccept) -> membership_pb2.AcceptProposalRequest:
    return membership_pb2.AcceptProposalRequest(id=proposal_id, stipend_cents=body.stipend_cents,
                                                stipend_currency=body.stipend_currency or "",
                                                community_id=body.community_id or "")


def proposal(message: membership_pb2.Proposal) -> schemas.Proposal:
    return schemas.Proposal(
        id=message.id, program_id=message.program_id, proposer_id=message.proposer_id, title=message.title,
        focus=message.focus, audience=message.audience, plan=message.plan,
        requested_capacity=message.requested_capacity, kind=to_label(membership_pb2.CommunityKind, message.kind),
        host_organization_id=message.host_organization_id,
        status=to_label(membership_pb2.ProposalStatus, message.status), community_id=or_null(message.community_id),
        stipend_cents=message.stipend_cents, stipend_currency=or_null(message.stipend_currency),
        decision_note=or_null(message.decision_note), decided_by=or_null(message.decided_by),
        created_at=rfc3339(message.create_time), decided_at=rfc3339_or_null(message, "decision_time"))
