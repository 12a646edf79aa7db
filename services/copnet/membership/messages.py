"""membership's documents as the API's messages (`copnet.membership.v1`), which its events carry too.

Pure: a document in, a message out; nothing here reads the database.
"""

from __future__ import annotations

import datetime as dt
from typing import TypeVar

from google.protobuf.message import Message

from copnet.kernel.enums import from_label
from copnet.kernel.timestamps import timestamp
from copnet.membership.models import Community, Organization, Person, Program, Proposal, Registration, Team, TeamSlot
from copnet.membership.v1 import membership_pb2

M = TypeVar("M", bound=Message)


def with_times(message: M, **times: dt.datetime | None) -> M:
    """`message` with each of its timestamp fields in `times` that has a value: one that is None
    ("never": not updated, not decided) stays unset, which is how proto3 says so."""
    for field, value in times.items():
        if value is not None:
            getattr(message, field).CopyFrom(timestamp(value))
    return message


def organization_message(org: Organization) -> membership_pb2.Organization:
    message = membership_pb2.Organization(
        id=org.id,
        name=org.name,
        kind=from_label(membership_pb2.OrganizationKind, org.kind),
        parent_id=org.parent_id or "",
        ancestor_ids=list(org.ancestor_ids),
        code=org.code or "",
        time_zone=org.time_zone,
        create_time=timestamp(org.created_at),
        region_id=org.region_id or "",
        network_ids=list(org.network_ids),
        parent_history=[
            membership_pb2.ParentChange(
                parent_id=change.parent_id,
                from_time=timestamp(change.from_time),
                until_time=timestamp(change.until_time),
                moved_by=change.moved_by,
            )
            for change in org.parent_history
        ],
    )
    return with_times(message, update_time=org.updated_at)


def person_message(person: Person) -> membership_pb2.Person:
    message = membership_pb2.Person(
        id=person.id,
        name=person.name,
        email=person.email,
        grade_bands=[from_label(membership_pb2.GradeBand, band) for band in person.grade_bands],
        affiliations=[
            membership_pb2.Affiliation(
                organization_id=a.organization_id, position=from_label(membership_pb2.Position, a.position)
            )
            for a in person.affiliations
        ],
        roles=[
            membership_pb2.RoleGrant(
                role=from_label(membership_pb2.Role, grant.role),
                organization_id=grant.organization_id,
                granted_by=grant.granted_by,
                grant_time=timestamp(grant.granted_at),
            )
            for grant in person.roles
        ],
        create_time=timestamp(person.created_at),
    )
    return with_times(message, update_time=person.updated_at)


def program_message(program: Program) -> membership_pb2.Program:
    message = membership_pb2.Program(
        id=program.id,
        name=program.name,
        owner_organization_id=program.owner_organization_id,
        program_year=program.program_year,
        description=program.description,
        create_time=timestamp(program.created_at),
    )
    if program.proposal_call is not None:
        message.proposal_call.CopyFrom(
            membership_pb2.ProposalCall(
                open_time=timestamp(program.proposal_call.opened_at), due_time=timestamp(program.proposal_call.due_at)
            )
        )
    return with_times(message, update_time=program.updated_at)


def proposal_message(proposal: Proposal) -> membership_pb2.Proposal:
    message = membership_pb2.Proposal(
        id=proposal.id,
        program_id=proposal.program_id,
        proposer_id=proposal.proposer_id,
        title=proposal.title,
        focus=proposal.focus,
        audience=proposal.audience,
        plan=proposal.plan,
        requested_capacity=proposal.requested_capacity,
        kind=from_label(membership_pb2.CommunityKind, proposal.kind),
        host_organization_id=proposal.host_organization_id,
        status=from_label(membership_pb2.ProposalStatus, proposal.status),
        community_id=proposal.community_id,
        stipend_cents=proposal.stipend_cents,
        stipend_currency=proposal.stipend_currency,
        decision_note=proposal.decision_note,
        decided_by=proposal.decided_by,
        create_time=timestamp(proposal.created_at),
    )
    return with_times(message, decision_time=proposal.decided_at)


def community_message(community: Community) -> membership_pb2.Community:
    message = membership_pb2.Community(
        id=community.id,
        name=community.name,
        kind=from_label(membership_pb2.CommunityKind, community.kind),
        description=community.description,
        host_organization_id=community.host_organization_id,
        county_office_id=community.county_office_id,
        create_time=timestamp(community.created_at),
        program_id=community.program_id,
        focus=community.focus,
        grade_bands=[from_label(membership_pb2.GradeBand, band) for band in community.grade_bands],
        facilitator_ids=list(community.facilitator_ids),
        capacity=community.capacity,
        status=from_label(membership_pb2.CommunityStatus, community.status),
        team_composition=[team_slot_message(slot) for slot in community.team_composition],
        confirmed_count=community.confirmed_count,
        waitlisted_count=community.waitlisted_count,
        region_id=community.region_id,
    )
    if community.signup_window is not None:
        window = community.signup_window
        with_times(message.signup_window, open_time=window.opens_at, close_time=window.closes_at,
                   soft_deadline=window.soft_deadline)
    if community.eligibility is not None:
        message.eligibility.CopyFrom(
            membership_pb2.Eligibility(
                positions=[from_label(membership_pb2.Position, p) for p in community.eligibility.positions],
                organization_ids=list(community.eligibility.organization_ids),
            )
        )
    return with_times(message, update_time=community.updated_at)


def team_slot_message(slot: TeamSlot) -> membership_pb2.TeamSlot:
    return membership_pb2.TeamSlot(
        position=from_label(membership_pb2.Position, slot.position),
        count=slot.count,
        grade_bands=[from_label(membership_pb2.GradeBand, band) for band in slot.grade_bands],
    )


def registration_message(registration: Registration, waitlist_position: int = 0) -> membership_pb2.Registration:
    """`waitlist_position` is the 1-based place on the waiting list (0 unless waitlisted): it is
    not stored but counted when read (see seats.waitlist_position)."""
    message = membership_pb2.Registration(
        id=registration.id,
        community_id=registration.community_id,
        person_id=registration.person_id,
        status=from_label(membership_pb2.RegistrationStatus, registration.status),
        waitlist_position=waitlist_position,
        team_id=registration.team_id or "",
        registered_by=registration.registered_by,
        create_time=timestamp(registration.created_at),
        cancelled_by=registration.cancelled_by or "",
        sequence=registration.sequence,
    )
    return with_times(
        message,
        promote_time=registration.promoted_at,
        cancel_time=registration.cancelled_at,
        commitment_acknowledge_time=registration.commitment_acknowledged_at,
        onboarding_complete_time=registration.onboarding_completed_at,
    )


def team_message(team: Team) -> membership_pb2.Team:
    message = membership_pb2.Team(
        id=team.id,
        community_id=team.community_id,
        kind=from_label(membership_pb2.TeamKind, team.kind),
        name=team.name,
        school_id=team.school_id or "",
        created_by=team.created_by,
        create_time=timestamp(team.created_at),
        members=[
            membership_pb2.TeamMember(person_id=m.person_id, role=from_label(membership_pb2.TeamRole, m.role))
            for m in team.members
        ],
    )
    return with_times(message, update_time=team.updated_at)
