"""Who may do what in scheduling: roles from the bearer token over an organization's scope, plus
what membership knows (a community's facilitators). A service token holds no role: no other
service acts on scheduling on its own account.

- a program's timeline: platform admins and regional leads over the program's owner;
- a community's sessions and attendance: its facilitators, and platform admins, regional leads
  and county admins over the community's host;
- a person's participation and hours: the person, and the managers above them; their feed token:
  the person only.
"""

from __future__ import annotations

from copnet.kernel import auth
from copnet.kernel.auth import Identity, Role
from copnet.kernel.errors import PermissionDenied
from copnet.scheduling.directory import CommunityFacts, ProgramFacts

PROGRAM_MANAGERS = {Role.PLATFORM_ADMIN, Role.REGIONAL_LEAD}
COMMUNITY_MANAGERS = {Role.PLATFORM_ADMIN, Role.REGIONAL_LEAD, Role.COUNTY_ADMIN}
PEOPLE_MANAGERS = {Role.PLATFORM_ADMIN, Role.REGIONAL_LEAD, Role.COUNTY_ADMIN}


def caller(action: str) -> Identity:
    """The authenticated caller; Unauthenticated otherwise."""
    return auth.require_authenticated(action)


def require_program_manager(program: ProgramFacts, action: str) -> Identity:
    caller(action)
    return auth.require(PROGRAM_MANAGERS, list(program.scope), action)


def may_manage_community(identity: Identity, community: CommunityFacts) -> bool:
    return identity.person_id in community.facilitator_ids or identity.may(COMMUNITY_MANAGERS, list(community.scope))


def require_community_manager(community: CommunityFacts, action: str) -> Identity:
    """The community's facilitators and the managers over its host."""
    identity = caller(action)
    if not may_manage_community(identity, community):
        raise PermissionDenied(f"{action} needs a facilitator of community {community.id!r} or a manager over it",
                               reason="OUT_OF_SCOPE")
    return identity


def require_self(person_id: str, action: str) -> Identity:
    """The person themself (a personal credential: nobody acts for them, whatever their role)."""
    identity = caller(action)
    if identity.person_id != person_id or auth.is_service(identity):
        raise PermissionDenied(f"{action} is for the person themself only", reason="SELF_ONLY")
    return identity


def require_self_or_manager(person_id: str, person_scope, action: str) -> Identity:
    """The person themself, or a manager over one of their organizations. `person_scope` is a
    callable giving that scope, asked only when the caller is someone else."""
    identity = caller(action)
    if identity.person_id == person_id:
        return identity
    if identity.may(PEOPLE_MANAGERS, list(person_scope())):
        return identity
    raise PermissionDenied(f"{action} is for the person themself or a manager over them", reason="OUT_OF_SCOPE")
