"""Communities: JSON models <-> membership messages."""

from __future__ import annotations

from copnet.gateway.convert import registrations as convert_registrations
from copnet.gateway.convert.common import (enum_to_proto, grade_bands_from_proto, grade_bands_to_proto, or_null,
                                           rfc3339, rfc3339_or_null, timestamp_of)
from copnet.gateway.schemas import communities as schemas
from copnet.kernel.enums import to_label
from copnet.membership.v1 import membership_pb2


# -- requests -------------------------------------------------------------------------------------
def create_community_request(body: schemas.CommunityCreate) -> membership_pb2.CreateCommunityRequest:
    request = membership_pb2.CreateCommunityRequest(
        community_id=body.id or "", name=body.name, kind=enum_to_proto(membership_pb2.CommunityKind, body.kind),
        description=body.description, host_organization_id=body.host_organization_id,
        program_id=body.program_id or "", focus=body.focus, grade_bands=grade_bands_to_proto(body.grade_bands),
        facilitator_ids=body.facilitator_ids, capacity=body.capacity,
        team_composition=[team_slot_request(slot) for slot in body.team_composition])
    if body.signup_window is not None:
        request.signup_window.CopyFrom(signup_window_request(body.signup_window))
    if body.eligibility is not None:
        request.eligibility.CopyFrom(eligibility_request(body.eligibility))
    return request


def update_community_request(community_id: str, body: schemas.CommunityUpdate) -> membership_pb2.UpdateCommunityRequest:
    request = membership_pb2.UpdateCommunityRequest(id=community_id)
    for field in ("name", "description", "focus", "capacity"):
        if getattr(body, field) is not None:
            setattr(request, field, getattr(body, field))
    if body.signup_window is not None:
        request.signup_window.CopyFrom(signup_window_request(body.signup_window))
    if body.eligibility is not None:
        request.eligibility.CopyFrom(eligibility_request(body.eligibility))
    if body.grade_bands is not None:
        request.set_grade_bands = True
        request.grade_bands.extend(grade_bands_to_proto(body.grade_bands))
    if body.facilitator_ids is not None:
        request.set_facilitator_ids = True
        request.facilitator_ids.extend(body.facilitator_ids)
    if body.team_composition is not None:
        request.set_team_composition = True
        request.team_composition.extend(team_slot_request(slot) for slot in body.team_composition)
    return request


def change_status_request(community_id: str,
                          body: schemas.CommunityStatusChange) -> membership_pb2.ChangeCommunityStatusRequest:
    return membership_pb2.ChangeCommunityStatusRequest(
        id=community_id, status=enum_to_proto(membership_pb2.CommunityStatus, body.status))


def list_communities_request(query: schemas.CommunityQuery) -> membership_pb2.ListCommunitiesRequest:
    return membership_pb2.ListCommunitiesRequest(
        page_size=query.page_size, page_token=query.page_token, host_organization_id=query.host_organization_id,
        program_id=query.program_id, region_id=query.region_id,
        status=enum_to_proto(membership_pb2.CommunityStatus, query.status),
        kind=enum_to_proto(membership_pb2.CommunityKind, query.kind))


def signup_window_request(window: schemas.SignupWindow) -> membership_pb2.SignupWindow:
    message = membership_pb2.SignupWindow(open_time=timestamp_of(window.opens_at),
                                          close_time=timestamp_of(window.closes_at))
    if window.soft_deadline is not None:
        message.soft_deadline.CopyFrom(timestamp_of(window.soft_deadline))
    return message


def eligibility_request(eligibility: schemas.Eligibility) -> membership_pb2.Eligibility:
    return membership_pb2.Eligibility(
        positions=[enum_to_proto(membership_pb2.Position, p) for p in eligibility.positions],
        organization_ids=eligibility.organization_ids)


def team_slot_request(slot: schemas.TeamSlot) -> membership_pb2.TeamSlot:
    return membership_pb2.TeamSlot(position=enum_to_proto(membership_pb2.Position, slot.position), count=slot.count,
                                   grade_bands=grade_bands_to_proto(slot.grade_bands))


# -- responses ------------------------------------------------------------------------------------
def community_summary(message: membership_pb2.Community) -> schemas.CommunitySummary:
    return schemas.CommunitySummary(**_community_fields(message))


def community(message: membership_pb2.Community, calendar_id: str | None, library_id: str | None) -> schemas.Community:
    return schemas.Community(**_community_fields(message), calendar_id=calendar_id, library_id=library_id)


def community_updated(reply: membership_pb2.UpdateCommunityResponse) -> schemas.CommunityUpdated:
    return schemas.CommunityUpdated(**_community_fields(reply.community),
                                    promoted=[convert_registrations.registration(r) for r in reply.promoted])


def _community_fields(message: membership_pb2.Community) -> dict:
    return dict(
        id=message.id, name=message.name, kind=to_label(membership_pb2.CommunityKind, message.kind),
        description=message.description, host_organization_id=message.host_organization_id,
        county_office_id=or_null(message.county_office_id), region_id=or_null(message.region_id),
        program_id=or_null(message.program_id), focus=message.focus,
        grade_bands=grade_bands_from_proto(message.grade_bands), facilitator_ids=list(message.facilitator_ids),
        capacity=message.capacity, signup_window=signup_window(message),
        eligibility=schemas.Eligibility(
            positions=[to_label(membership_pb2.Position, p) for p in message.eligibility.positions],
            organization_ids=list(message.eligibility.organization_ids)),
        status=to_label(membership_pb2.CommunityStatus, message.status),
        team_composition=[schemas.TeamSlot(position=to_label(membership_pb2.Position, slot.position), count=slot.count,
                                           grade_bands=grade_bands_from_proto(slot.grade_bands))
                          for slot in message.team_composition],
        seats=schemas.Seats(capacity=message.capacity, confirmed=message.confirmed_count,
                            waitlisted=message.waitlisted_count,
                            available=max(message.capacity - message.confirmed_count, 0)),
        created_at=rfc3339(message.create_time), updated_at=rfc3339_or_null(message, "update_time"))


def signup_window(message: membership_pb2.Community) -> schemas.SignupWindow | None:
    if not message.HasField("signup_window"):
        return None
    window = message.signup_window
    return schemas.SignupWindow(opens_at=rfc3339(window.open_time), closes_at=rfc3339(window.close_time),
                                soft_deadline=rfc3339_or_null(window, "soft_deadline"))
