"""/api/v1: data reflection's participation and retention (the reflection service). Every count is
small-cell suppressed by the service; anyone holding a role over the organization reads them."""

from __future__ import annotations

from flask_openapi3 import APIBlueprint, Tag

from copnet.gateway.auth import BEARER_REQUIRED
from copnet.gateway.backend import reflection
from copnet.gateway.convert import participation as convert
from copnet.gateway.openapi import LIST_PROBLEMS, operation_id
from copnet.gateway.schemas.participation import (
    CommunityParticipationQuery,
    ParticipationPath,
    ParticipationQuery,
    ParticipationSummary,
    RetentionQuery,
    RetentionSummary,
)
from copnet.reflection.v1 import participation_pb2

blueprint = APIBlueprint("participation", __name__, url_prefix="/api/v1", operation_id_callback=operation_id,
                         abp_tags=[Tag(name="participation", description="Data reflection: participation and "
                                                                         "retention, suppressed.")])


@blueprint.get("/orgs/<id>/participation", responses={200: ParticipationSummary, **LIST_PROBLEMS},
               security=BEARER_REQUIRED)
def get_org_participation(path: ParticipationPath, query: ParticipationQuery):
    """Teachers reached, schools and districts reached, attendance rate and professional-learning
    hours of an organization for a program year (and of its children with include_children). Small
    counts, and those that would give them away, are withheld. Anyone holding a role over the
    organization."""
    reply = reflection().GetParticipation(participation_pb2.GetParticipationRequest(
        organization_id=path.id, program_year=query.program_year, include_children=query.include_children))
    return convert.participation(reply).model_dump(mode="json")


@blueprint.get("/communities/<id>/participation-summary", responses={200: ParticipationSummary, **LIST_PROBLEMS},
               security=BEARER_REQUIRED)
def get_community_participation_summary(path: ParticipationPath, query: CommunityParticipationQuery):
    """A community's suppressed participation figures for its program year (the per-person view is
    /communities/{id}/participation). Anyone over its host, its facilitators and participants."""
    reply = reflection().GetParticipation(participation_pb2.GetParticipationRequest(
        community_id=path.id, program_year=query.program_year))
    return convert.participation(reply).model_dump(mode="json")


@blueprint.get("/orgs/<id>/retention", responses={200: RetentionSummary, **LIST_PROBLEMS},
               security=BEARER_REQUIRED)
def get_org_retention(path: ParticipationPath, query: RetentionQuery):
    """Of a program year's participants placed under the organization, how many still teach at a
    school as described after the next year began (retained, not retained, not yet known), with the
    rate; small counts withheld."""
    reply = reflection().GetRetention(participation_pb2.GetRetentionRequest(
        organization_id=path.id, program_year=query.program_year))
    return convert.retention(reply).model_dump(mode="json")


@blueprint.get("/communities/<id>/retention", responses={200: RetentionSummary, **LIST_PROBLEMS},
               security=BEARER_REQUIRED)
def get_community_retention(path: ParticipationPath, query: RetentionQuery):
    """Retention of a community's participants (see /orgs/{id}/retention)."""
    reply = reflection().GetRetention(participation_pb2.GetRetentionRequest(
        community_id=path.id, program_year=query.program_year))
    return convert.retention(reply).model_dump(mode="json")
