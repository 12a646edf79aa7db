"""/api/v1: data reflection's inquiry cycles (the reflection service). Members of a community (a
team's members for a team's cycle), its facilitators and managers work on its cycles; everyone
else in scope reads counts of cycles only."""

from __future__ import annotations

from flask import url_for
from flask_openapi3 import APIBlueprint, Tag

from copnet.gateway.auth import BEARER_REQUIRED
from copnet.gateway.backend import reflection
from copnet.gateway.convert import cycles as convert
from copnet.gateway.openapi import (
    LIST_PROBLEMS,
    WRITE_PROBLEMS,
    operation_id,
    problem_responses,
)
from copnet.gateway.schemas.common import IdPath
from copnet.gateway.schemas.cycles import (
    CycleAdvance,
    CycleAdvanced,
    CycleCounts,
    CycleCountsQuery,
    CycleEvidenceInput,
    DataPreparation,
    EvidenceAdded,
    InquiryCycle,
    InquiryCycleCreate,
    InquiryCycleList,
    InquiryCycleQuery,
    InquiryCycleUpdate,
)
from copnet.reflection.v1 import cycles_pb2

blueprint = APIBlueprint("cycles", __name__, url_prefix="/api/v1", operation_id_callback=operation_id,
                         abp_tags=[Tag(name="cycles", description="Data reflection: cycles of inquiry (set goals, "
                                                                  "plan, act, assess, reflect & adjust).")])
# A read by id: an id no cycle or session has is 404, a malformed one 422; a session of another type 409.
READ_PROBLEMS = problem_responses(403, 404, 409, 422, 503, 504)


@blueprint.get("/communities/<id>/inquiry-cycles", responses={200: InquiryCycleList, **LIST_PROBLEMS},
               security=BEARER_REQUIRED)
def list_inquiry_cycles(path: IdPath, query: InquiryCycleQuery):
    """The community's cycles (or, with team_id, one of its teams'), oldest first, a page at a time.
    Members, facilitators and the community's managers."""
    reply = reflection().ListInquiryCycles(cycles_pb2.ListInquiryCyclesRequest(
        community_id=path.id, team_id=query.team_id, page_size=query.page_size, page_token=query.page_token))
    return InquiryCycleList(items=[convert.cycle(c) for c in reply.cycles],
                            next_page_token=reply.next_page_token).model_dump(mode="json")


@blueprint.post("/communities/<id>/inquiry-cycles", responses={201: InquiryCycle, **WRITE_PROBLEMS},
                security=BEARER_REQUIRED)
def create_inquiry_cycle(path: IdPath, body: InquiryCycleCreate):
    """Start a cycle in set_goals, optionally with its goal (the baseline is read from the published
    measures now)."""
    made = convert.cycle(reflection().CreateInquiryCycle(convert.create_request(path.id, body)).cycle)
    return made.model_dump(mode="json"), 201, {"Location": url_for(".get_inquiry_cycle", id=made.id)}


@blueprint.get("/inquiry-cycles/<id>", responses={200: InquiryCycle, **READ_PROBLEMS}, security=BEARER_REQUIRED)
def get_inquiry_cycle(path: IdPath):
    """One cycle with its goal, plan, evidence, frozen snapshot and reflection."""
    reply = reflection().GetInquiryCycle(cycles_pb2.GetInquiryCycleRequest(id=path.id))
    return convert.cycle(reply.cycle).model_dump(mode="json")


@blueprint.patch("/inquiry-cycles/<id>", responses={200: InquiryCycle, **WRITE_PROBLEMS}, security=BEARER_REQUIRED)
def update_inquiry_cycle(path: IdPath, body: InquiryCycleUpdate):
    """Change the parts sent: title, goal (set_goals and plan), plan (up to act: a plan sent replaces
    the list of actions), reflection (assess and reflect)."""
    reply = reflection().UpdateInquiryCycle(convert.update_request(path.id, body))
    return convert.cycle(reply.cycle).model_dump(mode="json")


@blueprint.post("/inquiry-cycles/<id>/evidence", responses={201: EvidenceAdded, **WRITE_PROBLEMS},
                security=BEARER_REQUIRED)
def add_cycle_evidence(path: IdPath, body: CycleEvidenceInput):
    """A note, a link or a resource of the community's library, while the cycle acts or assesses
    (at most 200 per cycle)."""
    reply = reflection().AddCycleEvidence(convert.evidence_request(path.id, body))
    return EvidenceAdded(evidence=convert.evidence(reply.evidence),
                         cycle=convert.cycle(reply.cycle)).model_dump(mode="json"), 201


@blueprint.post("/inquiry-cycles/<id>/advance", responses={200: CycleAdvanced, **WRITE_PROBLEMS},
                security=BEARER_REQUIRED)
def advance_inquiry_cycle(path: IdPath, body: CycleAdvance):
    """Move to the next stage (entering assess freezes the snapshot of the goal's measures and says
    whether the goal was met), or abandon; closing may start the next cycle with the goal carried
    forward."""
    reply = reflection().AdvanceInquiryCycle(convert.advance_request(path.id, body))
    return CycleAdvanced(cycle=convert.cycle(reply.cycle),
                         next_cycle=convert.cycle(reply.next_cycle) if reply.HasField("next_cycle") else None
                         ).model_dump(mode="json")


@blueprint.get("/orgs/<id>/inquiry-cycle-counts", responses={200: CycleCounts, **LIST_PROBLEMS},
               security=BEARER_REQUIRED)
def get_cycle_counts(path: IdPath, query: CycleCountsQuery):
    """Cycles of the communities hosted at or below the organization: run, at each stage, goals met
    and not met. Anyone holding a role over the organization (counts of cycles only)."""
    reply = reflection().GetCycleCounts(cycles_pb2.GetCycleCountsRequest(organization_id=path.id,
                                                                         program_year=query.program_year))
    return convert.counts(reply.counts).model_dump(mode="json")


@blueprint.get("/sessions/<id>/data-preparation", responses={200: DataPreparation, **READ_PROBLEMS},
               security=BEARER_REQUIRED)
def get_session_data_preparation(path: IdPath):
    """A data-reflection session's measure filter and the community's published (suppressed)
    measures over its host organization. Never a student: each teacher reads their own students at
    /api/v1/me/student-results."""
    reply = reflection().GetSessionDataPreparation(cycles_pb2.GetSessionDataPreparationRequest(session_id=path.id))
    return convert.preparation(reply).model_dump(mode="json")
