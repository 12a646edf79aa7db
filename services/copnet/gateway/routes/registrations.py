"""/api/v1 (registrations): sign-ups, the waiting list, commitments and onboarding (membership).
Every route needs a token: a registration is read by the person, the community's facilitators
and its managers only."""

from __future__ import annotations

from flask import url_for
from flask_openapi3 import APIBlueprint, Tag

from copnet.gateway.auth import BEARER_REQUIRED
from copnet.gateway.backend import membership
from copnet.gateway.convert import registrations as convert
from copnet.gateway.openapi import LIST_PROBLEMS, READ_PROBLEMS, WRITE_PROBLEMS, operation_id
from copnet.gateway.schemas.common import NoBody
from copnet.gateway.schemas.registrations import (
    Cancellation,
    CommunityPath,
    PersonPath,
    Registration,
    RegistrationCreate,
    RegistrationList,
    RegistrationPath,
    RegistrationQuery,
    TeamRegistration,
    TeamRegistrationCreate,
)
from copnet.membership.v1 import membership_pb2

blueprint = APIBlueprint("registrations", __name__, url_prefix="/api/v1", operation_id_callback=operation_id,
                         abp_tags=[Tag(name="registrations",
                                       description="Sign-ups: seats, waiting lists, commitments, onboarding.")])


@blueprint.post("/communities/<id>/registrations", responses={201: Registration, **WRITE_PROBLEMS},
                security=BEARER_REQUIRED)
def register(path: CommunityPath, body: RegistrationCreate):
    """Sign up (yourself, or anyone as a community manager): confirmed while seats remain, otherwise
    waitlisted with a position (after the soft deadline a full community refuses). Never overbooks."""
    reply = membership().Register(convert.register_request(path.id, body))
    created = convert.registration(reply.registration)
    return created.model_dump(mode="json"), 201, {"Location": url_for(".get_registration", id=created.id)}


@blueprint.get("/communities/<id>/registrations", responses={200: RegistrationList, **LIST_PROBLEMS},
               security=BEARER_REQUIRED)
def list_community_registrations(path: CommunityPath, query: RegistrationQuery):
    """The community's roster in arrival order (its facilitators and managers)."""
    reply = membership().ListRegistrations(convert.list_request(query, community_id=path.id))
    return RegistrationList(items=[convert.registration(r) for r in reply.registrations],
                            next_page_token=reply.next_page_token).model_dump(mode="json")


@blueprint.get("/people/<id>/registrations", responses={200: RegistrationList, **LIST_PROBLEMS},
               security=BEARER_REQUIRED)
def list_person_registrations(path: PersonPath, query: RegistrationQuery):
    """A person's own registrations, in every community (the person, or a manager over them)."""
    reply = membership().ListRegistrations(convert.list_request(query, person_id=path.id))
    return RegistrationList(items=[convert.registration(r) for r in reply.registrations],
                            next_page_token=reply.next_page_token).model_dump(mode="json")


@blueprint.get("/registrations/<id>", responses={200: Registration, **READ_PROBLEMS},
               security=BEARER_REQUIRED)
def get_registration(path: RegistrationPath):
    """One registration, with its place on the waiting list now (the person, facilitators, managers)."""
    reply = membership().GetRegistration(membership_pb2.GetRegistrationRequest(id=path.id))
    return convert.registration(reply.registration).model_dump(mode="json")


@blueprint.post("/registrations/<id>/cancel", responses={200: Cancellation, **WRITE_PROBLEMS},
                security=BEARER_REQUIRED)
def cancel_registration(path: RegistrationPath, body: NoBody):
    """Cancel (the person or a manager): the freed seat goes to the head of the waiting list, once."""
    reply = membership().CancelRegistration(membership_pb2.CancelRegistrationRequest(id=path.id))
    return Cancellation(registration=convert.registration(reply.registration),
                        promoted=[convert.registration(r) for r in reply.promoted]).model_dump(mode="json")


@blueprint.post("/registrations/<id>/commitment", responses={200: Registration, **WRITE_PROBLEMS},
                security=BEARER_REQUIRED)
def acknowledge_commitment(path: RegistrationPath, body: NoBody):
    """The person acknowledges they will attend every meeting of the cycle (idempotent)."""
    reply = membership().AcknowledgeCommitment(membership_pb2.AcknowledgeCommitmentRequest(id=path.id))
    return convert.registration(reply.registration).model_dump(mode="json")


@blueprint.post("/registrations/<id>/onboarding", responses={200: Registration, **WRITE_PROBLEMS},
                security=BEARER_REQUIRED)
def record_onboarding(path: RegistrationPath, body: NoBody):
    """Record that the person completed onboarding (facilitators and managers; idempotent)."""
    reply = membership().RecordOnboarding(membership_pb2.RecordOnboardingRequest(id=path.id))
    return convert.registration(reply.registration).model_dump(mode="json")


@blueprint.post("/communities/<id>/team-registrations", responses={201: TeamRegistration, **WRITE_PROBLEMS},
                security=BEARER_REQUIRED)
def register_team(path: CommunityPath, body: TeamRegistrationCreate):
    """Register a school team as a unit (its site administrator or a community manager): the members
    must fill the community's team composition; all get seats, or all wait in one place, or none."""
    reply = membership().RegisterTeam(convert.register_team_request(path.id, body))
    created = convert.team_registration(reply)
    return created.model_dump(mode="json"), 201, {"Location": url_for("teams.get_team", id=reply.team.id)}
