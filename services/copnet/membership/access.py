"""Who may do what in membership: roles from the bearer token over an organization's scope, plus
the facts only membership knows (a person's own record, a site administrator's school, a
community's facilitators).

`scope` is always an organization's ancestry plus itself (see Organization.scope): a role held
at any organization in it reaches the target.
"""

from __future__ import annotations

from copnet.kernel import auth
from copnet.kernel.auth import Identity, Role

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
}


def caller(action: str) -> Identity:
    """The authenticated caller; Unauthenticated otherwise."""
    return auth.require_authenticated(action)


def may(roles: set[Role], scope: list[str]) -> bool:
    identity = auth.current_identity()
    return identity is not None and identity.may(roles, scope)


def require(roles: set[Role], scope: list[str], action: str) -> Identity:
    return auth.require(roles, scope, action)


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
