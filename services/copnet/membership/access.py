"""Who may do what in membership: roles from the bearer token over an organization's scope, plus
the facts only membership knows (a person's own record, a site administrator's school, a
community's facilitators).

`scope` is always an organization's ancestry plus itself (see Organization.scope): a role held
at any organization in it reaches the target.
"""

from __future__ import annotations

from typing import TypeVar

import mongoengine

from copnet.kernel import auth
from copnet.kernel.auth import Identity, Role
from copnet.kernel.errors import PermissionDenied
from copnet.membership import lookups
from copnet.membership.models import Community, Person, Team

D = TypeVar("D", bound=mongoengine.Document)

# Manage organizations and people in their subtree.
ORG_MANAGERS = {Role.PLATFORM_ADMIN, Role.REGIONAL_LEAD, Role.COUNTY_ADMIN}
# Manage programs, proposals and communities in their region (county admins: their county's).
COMMUNITY_MANAGERS = {Role.PLATFORM_ADMIN, Role.REGIONAL_LEAD, Role.COUNTY_ADMIN}
PROGRAM_MANAGERS = {Role.PLATFORM_ADMIN, Role.REGIONAL_LEAD}
# Who may grant each role (over the organization it is granted at).
GRANTORS = {
    Role.MEMBER: ORG_MANAGERS,
    Role.FACILITATOR: ORG_MANAGERS,
    Role.COUNTY_ADMIN: {Role.PLATFORM_ADMIN, Role.REGIONAL_LEAD},
    Role.REGIONAL_LEAD: {Role.PLATFORM_ADMIN, Role.REGIONAL_LEAD},
    Role.STATE_COORDINATOR: {Role.PLATFORM_ADMIN},
    Role.PLATFORM_ADMIN: {Role.PLATFORM_ADMIN},
    # Student-level data: a county's own admins or the region's leads decide who stewards it.
    Role.DATA_STEWARD: {Role.PLATFORM_ADMIN, Role.REGIONAL_LEAD, Role.COUNTY_ADMIN},
}


def caller(action: str) -> Identity:
    """The authenticated caller; Unauthenticated otherwise."""
    return auth.require_authenticated(action)


def may(roles: set[Role], scope: list[str]) -> bool:
    identity = auth.current_identity()
    return identity is not None and identity.may(roles, scope)


def require(roles: set[Role], scope: list[str], action: str) -> Identity:
    return auth.require(roles, scope, action)


def managed_document(roles: set[Role], document_class: type[D], document_id: str, action: str) -> tuple[Identity, D]:
    """The caller and the document the request is about, which they must hold one of `roles`
    over. Refused in this order: no caller (401) before no such document (404) before out of
    scope (403), so that an anonymous caller learns nothing about which ids exist."""
    caller(action)
    document = lookups.existing(document_class, document_id)
    return require(roles, document.scope, action), document


def orgs_where(identity: Identity, roles: set[Role]) -> list[str] | None:
    """Organizations at which `identity` holds one of `roles`; None means everywhere (platform admin)."""
    found: list[str] = []
    for grant in identity.grants:
        if grant.role not in roles:
            continue
        if grant.role is Role.PLATFORM_ADMIN:
            return None
        found.append(grant.org_id)
    return found


def is_self(identity: Identity | None, person_id: str) -> bool:
    return identity is not None and bool(person_id) and identity.person_id == person_id


def denied(action: str) -> PermissionDenied:
    """The refusal of an action that is someone else's (no role would make it the caller's)."""
    return PermissionDenied(f"{action} is not open to this caller", reason="OUT_OF_SCOPE")


# -- people ---------------------------------------------------------------------------------------
def reads_as_service(identity: Identity | None) -> bool:
    """A copnet service on its own account (a token signed with its own key, no person's roles):
    it reads people, rosters and teams (scheduling's reminders, feeds and attendance) and nothing
    more; every write needs a person's role."""
    return auth.is_service(identity)


def may_read_person(identity: Identity, person: Person) -> bool:
    """The person themself, org managers over any organization they are affiliated at, and services."""
    return (is_self(identity, person.id) or identity.may(ORG_MANAGERS, list(person.scope))
            or reads_as_service(identity))


def people_visible_to(identity: Identity) -> dict | None:
    """A raw filter for the people `identity` may read; None when they may read everyone."""
    managed = orgs_where(identity, ORG_MANAGERS)
    if managed is None:
        return None
    return {"$or": [{"_id": identity.person_id}, {"scope": {"$in": sorted(set(managed))}}]}


# -- communities and their teams -------------------------------------------------------------------
def is_facilitator(identity: Identity | None, community: Community) -> bool:
    return identity is not None and identity.person_id in community.facilitator_ids


def may_run(identity: Identity | None, community: Community) -> bool:
    """The community's facilitators and the managers over its host."""
    return is_facilitator(identity, community) or may(COMMUNITY_MANAGERS, community.scope)


def site_admin_schools(identity: Identity | None) -> list[str]:
    """The schools where the caller's person record holds a `site_admin` affiliation."""
    if identity is None or not identity.person_id:
        return []
    person = Person.objects(id=identity.person_id).only("affiliations").first()
    return [a.organization_id for a in person.affiliations if a.position == "site_admin"] if person else []


def is_site_admin(identity: Identity | None, school_id: str) -> bool:
    return bool(school_id) and school_id in site_admin_schools(identity)


def may_manage_teams(identity: Identity, community: Community, school_id: str) -> bool:
    """The community's runners, and for a school team its school's site administrator."""
    return may_run(identity, community) or is_site_admin(identity, school_id)


def may_read_roster(identity: Identity, community: Community) -> bool:
    """A community's registrations and teams: its runners, and services."""
    return reads_as_service(identity) or may_run(identity, community)


def may_read_team(identity: Identity, team: Team, community: Community) -> bool:
    return (any(m.person_id == identity.person_id for m in team.members) or reads_as_service(identity)
            or may_manage_teams(identity, community, team.school_id))
