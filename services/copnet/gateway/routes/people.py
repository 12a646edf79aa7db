"""/api/v1/people: people, their affiliations and roles (membership). Every route needs a token:
people are not public, and a caller only ever sees themself and the people in their scope."""

from __future__ import annotations

from flask import url_for
from flask_openapi3 import APIBlueprint, Tag

from copnet.gateway.auth import BEARER_REQUIRED
from copnet.gateway.backend import membership
from copnet.gateway.convert import people as convert
from copnet.gateway.openapi import DELETE_PROBLEMS, READ_PROBLEMS, WRITE_PROBLEMS, operation_id, problem_responses
from copnet.gateway.schemas.people import (
    PeopleQuery,
    Person,
    PersonCreate,
    PersonList,
    PersonPath,
    PersonUpdate,
    RoleGrantBody,
    RoleGrantQuery,
)
from copnet.membership.v1 import membership_pb2

blueprint = APIBlueprint("people", __name__, url_prefix="/api/v1/people", operation_id_callback=operation_id,
                         abp_tags=[Tag(name="people", description="People, their affiliations and roles.")])
# A DELETE has no body to be malformed, too large or of the wrong type.


@blueprint.post("", responses={201: Person, **problem_responses(400, 403, 409, 413, 415, 422, 503, 504)},
                security=BEARER_REQUIRED)
def create_person(body: PersonCreate):
    """Create a person affiliated at one or more organizations (a manager over each of them)."""
    reply = membership().CreatePerson(convert.create_person_request(body))
    created = convert.person(reply.person)
    return created.model_dump(mode="json"), 201, {"Location": url_for(".get_person", id=created.id)}


@blueprint.get("", responses={200: PersonList, **problem_responses(422, 503, 504)}, security=BEARER_REQUIRED)
def list_people(query: PeopleQuery):
    """People the caller may see (themself, everyone affiliated in their scope), in id order."""
    reply = membership().ListPeople(convert.list_people_request(query))
    return PersonList(items=[convert.person(p) for p in reply.people],
                      next_page_token=reply.next_page_token).model_dump(mode="json")


@blueprint.get("/<id>", responses={200: Person, **READ_PROBLEMS}, security=BEARER_REQUIRED)
def get_person(path: PersonPath):
    """One person: the person themself, or a manager over one of their affiliations."""
    reply = membership().GetPerson(membership_pb2.GetPersonRequest(id=path.id))
    return convert.person(reply.person).model_dump(mode="json")


@blueprint.patch("/<id>", responses={200: Person, **WRITE_PROBLEMS}, security=BEARER_REQUIRED)
def update_person(path: PersonPath, body: PersonUpdate):
    """Change a person: themself (name, email, grade bands) or a manager (everything, affiliations too)."""
    reply = membership().UpdatePerson(convert.update_person_request(path.id, body))
    return convert.person(reply.person).model_dump(mode="json")


@blueprint.post("/<id>/roles", responses={200: Person, **WRITE_PROBLEMS}, security=BEARER_REQUIRED)
def grant_role(path: PersonPath, body: RoleGrantBody):
    """Grant a role at an organization (idempotent); who may grant depends on the role."""
    reply = membership().GrantRole(convert.grant_role_request(path.id, body))
    return convert.person(reply.person).model_dump(mode="json")


@blueprint.delete("/<id>/roles", responses={200: Person, **DELETE_PROBLEMS}, security=BEARER_REQUIRED)
def revoke_role(path: PersonPath, query: RoleGrantQuery):
    """Revoke a role held at an organization (404 ROLE_NOT_GRANTED when it is not held there)."""
    reply = membership().RevokeRole(convert.revoke_role_request(path.id, query))
    return convert.person(reply.person).model_dump(mode="json")
