"""Teams inside a community: a school team registering as a unit (all seats or none), and teams of
people already registered (e.g. cross-district). A person is on at most one team per community:
their live registration's team_id says which, set by a conditional update so two teams cannot
both take them."""

from __future__ import annotations

import bson
from pymongo.errors import DuplicateKeyError

from copnet.kernel import db
from copnet.kernel.auth import Identity
from copnet.kernel.errors import (
    AlreadyExists,
    FailedPrecondition,
    InvalidArgument,
    NotFound,
)
from copnet.kernel.inputs import chosen_or_new_id, required_label, required_text
from copnet.kernel.pagination import page_of
from copnet.kernel.service import ServiceContext
from copnet.membership import access, eligibility, events, lookups, seats
from copnet.membership.access import (
    COMMUNITY_MANAGERS,
    denied,
    is_site_admin,
    may_manage_teams,
    may_read_team,
    site_admin_schools,
)
from copnet.membership.lookups import reread
from copnet.membership.messages import registration_message, team_message
from copnet.membership.models import Community, Organization, Person, Registration, Team, TeamMember
from copnet.membership.signup_rules import (
    active_key,
    already_registered,
    check_eligible,
    check_not_registered,
    check_plugins_allow,
    check_signup_open,
)
from copnet.membership.v1 import membership_pb2

# A team is a handful of people; this only bounds the composition search.
MAX_TEAM_SIZE = 50


class TeamsApi:
    ctx: ServiceContext

    def _team_updated(self, uow: db.UnitOfWork, team_id: str, identity: Identity, community: Community) -> Team:
        """Re-read `team_id` as written in this unit of work and emit team.updated with it."""
        team = reread(uow, Team, team_id)
        uow.emit(events.team_changed(self.ctx, "updated", team, identity.person_id, community.scope))
        return team

    # -- a school team signing up as a unit ------------------------------------------------------
    def RegisterTeam(
        self, request: membership_pb2.RegisterTeamRequest, _context
    ) -> membership_pb2.RegisterTeamResponse:
        identity = access.caller("registering a team")
        community = lookups.requested(Community, request.community_id, "community_id")
        school = existing_school(request.school_id)
        if not (is_site_admin(identity, school.id) or access.may(COMMUNITY_MANAGERS, community.scope)):
            raise denied(f"registering a team of {school.id!r} (its site administrator or a community manager)")
        name = required_text(request.team_name, "team_name")
        team_id = chosen_or_new_id(request.team_id, "team_id")
        members = team_members(request.members)
        check_signup_open(community, db.utcnow())
        people = [school_member(m.person_id, school.id, f"members[{i}].person_id") for i, m in enumerate(members)]
        for i, person in enumerate(people):
            check_eligible(person, community, f"members[{i}].person_id")
            if Registration.objects(active_key=active_key(community.id, person.id)).first() is not None:
                raise already_registered(community.id, person.id)
        check_composition(people, community, school.id)
        # Local rules from plugins, per member, before queueing (never inside the transaction).
        for i, person in enumerate(people):
            check_plugins_allow(self.ctx, person, community, team_id, f"members[{i}].person_id")

        def work(uow: db.UnitOfWork) -> tuple[Team, list[Registration], int]:
            # Every rule again on what this transaction reads, before the ledger is touched.
            now = db.utcnow()
            current = reread(uow, Community, community.id)
            waitlist_open = check_signup_open(current, now)
            for i, person in enumerate(people):
                check_eligible(person, current, f"members[{i}].person_id")
                check_not_registered(uow, current.id, person.id)
            check_composition(people, current, school.id)
            placement = seats.place(uow, current, len(people), now, waitlist_open=waitlist_open)
            team = uow.insert(
                Team(
                    id=team_id,
                    community_id=current.id,
                    kind="school",
                    name=name,
                    school_id=school.id,
                    members=members,
                    created_by=identity.person_id,
                    created_at=now,
                )
            )
            uow.emit(events.team_changed(self.ctx, "created", team, identity.person_id, current.scope))
            registrations = []
            for offset, person in enumerate(people):
                registration = uow.insert(
                    Registration(
                        id=str(bson.ObjectId()),
                        community_id=current.id,
                        person_id=person.id,
                        active_key=active_key(current.id, person.id),
                        status=placement.status,
                        waitlist_ticket=placement.ticket,
                        sequence=placement.first_sequence + offset,
                        team_id=team.id,
                        registered_by=identity.person_id,
                        created_at=now,
                    )
                )
                uow.emit(
                    events.registration_changed(
                        self.ctx,
                        "created",
                        registration,
                        identity.person_id,
                        placement.waitlist_position,
                        current.scope,
                    )
                )
                registrations.append(registration)
            return team, registrations, placement.waitlist_position

        try:
            team, registrations, position = seats.ledger_transaction(self.ctx, community.id, work)
        except DuplicateKeyError as error:
            if "active_key" in str(error):
                raise AlreadyExists(
                    f"a member is already registered for {community.id!r}", reason="ALREADY_REGISTERED"
                ) from None
            raise lookups.duplicate_id(Team, team_id, "team_id") from None
        return membership_pb2.RegisterTeamResponse(
            team=team_message(team), registrations=[registration_message(r, position) for r in registrations]
        )

    # -- teams of registered people ------------------------------------------------------------
    def CreateTeam(self, request: membership_pb2.CreateTeamRequest, _context) -> membership_pb2.CreateTeamResponse:
        identity = access.caller("creating a team")
        community = lookups.requested(Community, request.community_id, "community_id")
        kind = required_label(membership_pb2.TeamKind, request.kind, "kind")
        school_id = ""
        if kind == "school":
            school_id = existing_school(request.school_id).id
        elif request.school_id:
            raise InvalidArgument.for_field("school_id", "is only for a school team")
        if not may_manage_teams(identity, community, school_id):
            raise denied(
                "creating a team (the community's facilitators and managers, or the school's site administrator)"
            )
        name = required_text(request.name, "name")
        team_id = chosen_or_new_id(request.team_id, "team_id")
        members = team_members(request.members, required=False)
        if school_id:
            for i, member in enumerate(members):
                school_member(member.person_id, school_id, f"members[{i}].person_id")

        def work(uow: db.UnitOfWork) -> Team:
            now = db.utcnow()
            team = uow.insert(
                Team(
                    id=team_id,
                    community_id=community.id,
                    kind=kind,
                    name=name,
                    school_id=school_id,
                    members=members,
                    created_by=identity.person_id,
                    created_at=now,
                )
            )
            for i, member in enumerate(members):
                join_team(uow, community.id, team.id, member.person_id, f"members[{i}].person_id")
            uow.emit(events.team_changed(self.ctx, "created", team, identity.person_id, community.scope))
            return team

        try:
            team = self.ctx.transaction(work)
        except DuplicateKeyError:
            raise lookups.duplicate_id(Team, team_id, "team_id") from None
        return membership_pb2.CreateTeamResponse(team=team_message(team))

    def GetTeam(self, request: membership_pb2.GetTeamRequest, _context) -> membership_pb2.GetTeamResponse:
        identity = access.caller("reading a team")
        team = lookups.existing(Team, request.id)
        if not may_read_team(identity, team, lookups.existing(Community, team.community_id)):
            raise denied(
                "reading this team (its members, the community's facilitators and managers, or the "
                "school's site administrator)"
            )
        return membership_pb2.GetTeamResponse(team=team_message(team))

    def ListTeams(self, request: membership_pb2.ListTeamsRequest, _context) -> membership_pb2.ListTeamsResponse:
        identity = access.caller("listing teams")
        community = lookups.requested(Community, request.community_id, "community_id")
        query: dict = {"community_id": community.id}
        if not access.may_read_roster(identity, community):
            # Others see the teams they may read: their own, and their school's as its site administrator.
            schools = site_admin_schools(identity)
            query["__raw__"] = {"$or": [{"members.person_id": identity.person_id}, {"school_id": {"$in": schools}}]}
        found, token = page_of(Team, query, request.page_size, request.page_token)
        return membership_pb2.ListTeamsResponse(teams=[team_message(t) for t in found], next_page_token=token)

    def AddTeamMember(
        self, request: membership_pb2.AddTeamMemberRequest, _context
    ) -> membership_pb2.AddTeamMemberResponse:
        identity, team, community = managed_team(request.team_id, "adding a team member")
        [member] = team_members([request.member], field="member")
        if team.school_id:
            school_member(member.person_id, team.school_id, "member.person_id")

        def work(uow: db.UnitOfWork) -> Team:
            added = uow.update_one(
                Team,
                {"_id": team.id, "members.person_id": {"$ne": member.person_id}},
                {"$push": {"members": member.to_mongo()}, "$set": {"updated_at": db.utcnow()}},
            )
            if not added.matched_count:
                raise AlreadyExists(f"{member.person_id} is already on team {team.id!r}", reason="ALREADY_ON_A_TEAM")
            join_team(uow, community.id, team.id, member.person_id, "member.person_id")
            return self._team_updated(uow, team.id, identity, community)

        return membership_pb2.AddTeamMemberResponse(team=team_message(self.ctx.transaction(work)))

    def RemoveTeamMember(
        self, request: membership_pb2.RemoveTeamMemberRequest, _context
    ) -> membership_pb2.RemoveTeamMemberResponse:
        identity, team, community = managed_team(request.team_id, "removing a team member")

        def work(uow: db.UnitOfWork) -> Team:
            removed = uow.update_one(
                Team,
                {"_id": team.id, "members.person_id": request.person_id},
                {"$pull": {"members": {"person_id": request.person_id}}, "$set": {"updated_at": db.utcnow()}},
            )
            if not removed.matched_count:
                raise NotFound(f"{request.person_id!r} is not on team {team.id!r}")
            uow.update_one(
                Registration,
                {"active_key": active_key(community.id, request.person_id), "team_id": team.id},
                {"$set": {"team_id": ""}},
            )
            return self._team_updated(uow, team.id, identity, community)

        return membership_pb2.RemoveTeamMemberResponse(team=team_message(self.ctx.transaction(work)))


# -- rules ----------------------------------------------------------------------------------------
def managed_team(team_id: str, action: str) -> tuple[Identity, Team, Community]:
    """The caller, the team and its community, when the caller may change the team's members (the
    community's runners, or for a school team its school's site administrator)."""
    identity = access.caller(action)
    team = lookups.existing(Team, team_id)
    community = lookups.existing(Community, team.community_id)
    if not may_manage_teams(identity, community, team.school_id):
        raise denied("changing this team")
    return identity, team, community


def join_team(uow: db.UnitOfWork, community_id: str, team_id: str, person_id: str, field: str) -> None:
    """Put a registered person on a team; conditional on their having none, so two teams cannot both."""
    registration = uow.find_one(Registration, {"active_key": active_key(community_id, person_id)})
    if registration is None:
        raise InvalidArgument.for_field(
            field, f"{person_id} holds no registration in {community_id!r}", reason="NOT_REGISTERED"
        )
    if registration.team_id:
        raise FailedPrecondition(
            f"{person_id} is already on team {registration.team_id!r} in {community_id!r}",
            reason="ALREADY_ON_A_TEAM",
            metadata={"field": field},
        )
    uow.update_one(Registration, {"_id": registration.id, "team_id": ""}, {"$set": {"team_id": team_id}})


def team_members(specs, *, required: bool = True, field: str = "members") -> list[TeamMember]:
    if required and not specs:
        raise InvalidArgument.for_field(field, "at least one member is required")
    if len(specs) > MAX_TEAM_SIZE:
        raise InvalidArgument.for_field(field, f"at most {MAX_TEAM_SIZE} members")
    members, seen = [], set()
    for i, spec in enumerate(specs):
        path = field if field == "member" else f"{field}[{i}]"
        if not spec.person_id:
            raise InvalidArgument.for_field(f"{path}.person_id", "is required")
        if spec.person_id in seen:
            raise InvalidArgument.for_field(
                f"{path}.person_id", f"{spec.person_id} is listed twice", reason="DUPLICATE_MEMBER"
            )
        seen.add(spec.person_id)
        members.append(
            TeamMember(
                person_id=spec.person_id, role=required_label(membership_pb2.TeamRole, spec.role, f"{path}.role")
            )
        )
    return members


def existing_school(school_id: str) -> Organization:
    school = lookups.referenced_organization(school_id, "school_id")
    if school.kind != "school":
        raise InvalidArgument.for_field(
            "school_id", f"{school_id!r} is a {school.kind}, not a school", reason="NOT_A_SCHOOL"
        )
    return school


def school_member(person_id: str, school_id: str, field: str) -> Person:
    person = Person.objects(id=person_id).first()
    if person is None:
        raise InvalidArgument.for_field(field, f"no person {person_id!r}", reason="UNKNOWN_PERSON")
    if not any(a.organization_id == school_id for a in person.affiliations):
        raise InvalidArgument.for_field(
            field, f"{person_id} is not affiliated with {school_id!r}", reason="NOT_AT_SCHOOL"
        )
    return person


def check_composition(people: list[Person], community: Community, school_id: str) -> None:
    outcome = eligibility.assign_slots(people, list(community.team_composition), school_id)
    if isinstance(outcome, eligibility.CompositionFailure):
        raise InvalidArgument.for_field("members", outcome.message, reason="TEAM_COMPOSITION_INVALID")

