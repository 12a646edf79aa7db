"""The events membership's changes announce: `copnet.membership.<entity>.<verb>`, each carrying the
entity as it is after the change (a person: only their id) and who changed it (payloads in
`copnet.events.v1`).

Each function builds the event; the caller emits it in the unit of work that makes the change.
`scope` is the organization scope the event belongs to: plugins reacting to it are those enabled
there, so an event without one reaches no plugin.
"""

from __future__ import annotations

from collections.abc import Sequence

from copnet.events.v1 import events_pb2
from copnet.kernel.events import CloudEvent
from copnet.kernel.service import ServiceContext
from copnet.membership.messages import (
    community_message,
    organization_message,
    program_message,
    proposal_message,
    registration_message,
    team_message,
)
from copnet.membership.models import Community, Organization, Person, Program, Proposal, Registration, Team


def organization_created(ctx: ServiceContext, org: Organization) -> CloudEvent:
    return ctx.event("copnet.membership.organization.created", org.id, events_pb2.OrganizationCreated(
        organization_id=org.id, name=org.name, kind=org.kind, parent_id=org.parent_id,
        ancestor_ids=org.ancestor_ids))


def organization_changed(ctx: ServiceContext, verb: str, org: Organization, changed_by: str) -> CloudEvent:
    return ctx.event(f"copnet.membership.organization.{verb}", org.id, events_pb2.OrganizationChanged(
        organization=organization_message(org), changed_by=changed_by))


def person_changed(ctx: ServiceContext, verb: str, person: Person, changed_by: str) -> CloudEvent:
    # Ids only, unlike the other entities: a person's e-mail, name and roles would rest on the
    # stream for 30 days, readable by whoever reads the stream (readers ask membership instead).
    return ctx.event(f"copnet.membership.person.{verb}", person.id, events_pb2.PersonChanged(
        person_id=person.id, changed_by=changed_by))


def program_changed(ctx: ServiceContext, verb: str, program: Program, changed_by: str) -> CloudEvent:
    return ctx.event(f"copnet.membership.program.{verb}", program.id, events_pb2.ProgramChanged(
        program=program_message(program), changed_by=changed_by), scope=program.scope)


def proposal_changed(ctx: ServiceContext, verb: str, proposal: Proposal, changed_by: str) -> CloudEvent:
    return ctx.event(f"copnet.membership.proposal.{verb}", proposal.id, events_pb2.ProposalChanged(
        proposal=proposal_message(proposal), changed_by=changed_by), scope=proposal.scope)


def community_created(ctx: ServiceContext, community: Community, created_by: str) -> CloudEvent:
    # The flat fields are what scheduling, resources and reflection already consume.
    return ctx.event("copnet.membership.community.created", community.id, events_pb2.CommunityCreated(
        community_id=community.id, name=community.name, kind=community.kind,
        host_organization_id=community.host_organization_id, county_office_id=community.county_office_id,
        community=community_message(community), created_by=created_by), scope=community.scope)


def community_changed(ctx: ServiceContext, verb: str, community: Community, changed_by: str,
                      previous_status: str = "") -> CloudEvent:
    return ctx.event(f"copnet.membership.community.{verb}", community.id, events_pb2.CommunityChanged(
        community=community_message(community), changed_by=changed_by, previous_status=previous_status),
        scope=community.scope)


def registration_changed(ctx: ServiceContext, verb: str, registration: Registration, changed_by: str,
                         position: int = 0, scope: Sequence[str] = ()) -> CloudEvent:
    """`position`: the registration's place on the waiting list; `scope`: its community's."""
    return ctx.event(f"copnet.membership.registration.{verb}", registration.id, events_pb2.RegistrationChanged(
        registration=registration_message(registration, position), changed_by=changed_by), scope=scope)


def promotions(ctx: ServiceContext, promoted: Sequence[Registration], changed_by: str,
               scope: Sequence[str]) -> list[CloudEvent]:
    """registration.promoted for each registration a freed seat moved up from the waiting list."""
    return [registration_changed(ctx, "promoted", registration, changed_by, scope=scope) for registration in promoted]


def team_changed(ctx: ServiceContext, verb: str, team: Team, changed_by: str,
                 scope: Sequence[str] = ()) -> CloudEvent:
    """`scope`: the team's community's."""
    return ctx.event(f"copnet.membership.team.{verb}", team.id, events_pb2.TeamChanged(
        team=team_message(team), changed_by=changed_by), scope=scope)
