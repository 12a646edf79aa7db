"""People: JSON models <-> membership messages."""

from __future__ import annotations

from copnet.gateway.convert.common import (
    enum_from_proto,
    enum_to_proto,
    grade_bands_from_proto,
    grade_bands_to_proto,
    or_null,
    rfc3339,
    rfc3339_or_null,
)
from copnet.gateway.schemas import people as schemas
from copnet.membership.v1 import membership_pb2


def affiliations_to_proto(affiliations: list[schemas.AffiliationBody]) -> list[membership_pb2.Affiliation]:
    return [membership_pb2.Affiliation(organization_id=a.organization_id,
                                       position=enum_to_proto(membership_pb2.Position, a.position))
            for a in affiliations]


def create_person_request(body: schemas.PersonCreate) -> membership_pb2.CreatePersonRequest:
    return membership_pb2.CreatePersonRequest(person_id=body.id or "", name=body.name, email=body.email,
                                              grade_bands=grade_bands_to_proto(body.grade_bands),
                                              affiliations=affiliations_to_proto(body.affiliations))


def list_people_request(query: schemas.PeopleQuery) -> membership_pb2.ListPeopleRequest:
    return membership_pb2.ListPeopleRequest(page_size=query.page_size, page_token=query.page_token, query=query.query,
                                            organization_id=query.organization_id,
                                            position=enum_to_proto(membership_pb2.Position, query.position))


def update_person_request(person_id: str, body: schemas.PersonUpdate) -> membership_pb2.UpdatePersonRequest:
    request = membership_pb2.UpdatePersonRequest(id=person_id)
    if body.name is not None:
        request.name = body.name
    if body.email is not None:
        request.email = body.email
    if body.grade_bands is not None:
        request.set_grade_bands = True
        request.grade_bands.extend(grade_bands_to_proto(body.grade_bands))
    if body.affiliations is not None:
        request.set_affiliations = True
        request.affiliations.extend(affiliations_to_proto(body.affiliations))
    return request


def grant_role_request(person_id: str, body: schemas.RoleGrantBody) -> membership_pb2.GrantRoleRequest:
    return membership_pb2.GrantRoleRequest(person_id=person_id, role=enum_to_proto(membership_pb2.Role, body.role),
                                           organization_id=body.organization_id or "")


def revoke_role_request(person_id: str, query: schemas.RoleGrantQuery) -> membership_pb2.RevokeRoleRequest:
    return membership_pb2.RevokeRoleRequest(person_id=person_id, role=enum_to_proto(membership_pb2.Role, query.role),
                                            organization_id=query.organization_id)


def person(message: membership_pb2.Person) -> schemas.Person:
    return schemas.Person(
        id=message.id, name=message.name, email=message.email,
        grade_bands=grade_bands_from_proto(message.grade_bands),
        affiliations=[schemas.Affiliation(organization_id=a.organization_id,
                                          position=enum_from_proto(membership_pb2.Position, a.position))
                      for a in message.affiliations],
        roles=[schemas.RoleGrant(role=enum_from_proto(membership_pb2.Role, grant.role),
                                 organization_id=or_null(grant.organization_id), granted_by=or_null(grant.granted_by),
                                 granted_at=rfc3339(grant.grant_time))
               for grant in message.roles],
        created_at=rfc3339(message.create_time), updated_at=rfc3339_or_null(message, "update_time"))
