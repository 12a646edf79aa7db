"""/api/v1 facilitator proposals (membership): submitted to a program while its call is open,
accepted (creating the community) or declined by a program manager."""

from __future__ import annotations

from flask import url_for
from flask_openapi3 import APIBlueprint, Tag

from copnet.gateway.auth import BEARER_REQUIRED, PROGRAM_MANAGERS, roles_required
from copnet.gateway.backend import membership
from copnet.gateway.convert import communities as convert_communities
from copnet.gateway.convert import proposals as convert
from copnet.gateway.openapi import LIST_PROBLEMS, READ_PROBLEMS, WRITE_PROBLEMS, operation_id
from copnet.gateway.schemas.proposals import (ProgramProposalsPath, Proposal, ProposalAccept, ProposalAccepted,
                                              ProposalCreate, ProposalDecline, ProposalList, ProposalPath,
                                              ProposalQuery)
from copnet.membership.v1 import membership_pb2

blueprint = APIBlueprint("proposals", __name__, url_prefix="/api/v1", operation_id_callback=operation_id,
                         abp_tags=[Tag(name="proposals", description="Facilitator proposals.")])


@blueprint.post("/programs/<id>/proposals", responses={201: Proposal, **WRITE_PROBLEMS}, security=BEARER_REQUIRED)
def submit_proposal(path: ProgramProposalsPath, body: ProposalCreate):
    """Propose to facilitate a community in the program while its call is open (the caller proposes and
    needs a person record)."""
    reply = membership().SubmitProposal(convert.submit_proposal_request(path.id, body))
    proposal = convert.proposal(reply.proposal)
    return proposal.model_dump(mode="json"), 201, {"Location": url_for(".get_proposal", id=proposal.id)}


@blueprint.get("/programs/<id>/proposals", responses={200: ProposalList, **LIST_PROBLEMS},
               security=BEARER_REQUIRED)
def list_proposals(path: ProgramProposalsPath, query: ProposalQuery):
    """The program's proposals (needs a token): all of them for its managers, only the caller's own for
    anyone else."""
    reply = membership().ListProposals(convert.list_proposals_request(path.id, query))
    return ProposalList(items=[convert.proposal(p) for p in reply.proposals],
                        next_page_token=reply.next_page_token).model_dump(mode="json")


@blueprint.get("/proposals/<id>", responses={200: Proposal, **READ_PROBLEMS},
               security=BEARER_REQUIRED)
def get_proposal(path: ProposalPath):
    """One proposal (needs a token): for its proposer and the program's managers."""
    reply = membership().GetProposal(membership_pb2.GetProposalRequest(id=path.id))
    return convert.proposal(reply.proposal).model_dump(mode="json")


@blueprint.post("/proposals/<id>/accept", responses={200: ProposalAccepted, **WRITE_PROBLEMS},
                security=BEARER_REQUIRED,
                openapi_extensions=roles_required(*PROGRAM_MANAGERS))
def accept_proposal(path: ProposalPath, body: ProposalAccept):
    """Accept a submitted proposal, all at once: the community is created (draft, the proposer
    facilitating, the requested capacity), the stipend recorded, and the proposer granted the
    facilitator role at the host."""
    reply = membership().AcceptProposal(convert.accept_proposal_request(path.id, body))
    return ProposalAccepted(proposal=convert.proposal(reply.proposal),
                            community=convert_communities.community_summary(reply.community)).model_dump(mode="json")


@blueprint.post("/proposals/<id>/decline", responses={200: Proposal, **WRITE_PROBLEMS}, security=BEARER_REQUIRED,
                openapi_extensions=roles_required(*PROGRAM_MANAGERS))
def decline_proposal(path: ProposalPath, body: ProposalDecline):
    """Decline a submitted proposal with a note for the proposer."""
    reply = membership().DeclineProposal(membership_pb2.DeclineProposalRequest(id=path.id, note=body.note))
    return convert.proposal(reply.proposal).model_dump(mode="json")
