"""Identity and access: signed bearer tokens, roles held at organizations, subtree scope."""

from __future__ import annotations

import contextvars
import enum
import time
from dataclasses import dataclass, field

import jwt

from copnet.kernel.errors import PermissionDenied, Unauthenticated

ISSUER = "copnet"
AUDIENCE = "copnet"
ALGORITHM = "HS256"
METADATA_KEY = "authorization"


class Role(enum.StrEnum):
    MEMBER = "member"
    FACILITATOR = "facilitator"
    COUNTY_ADMIN = "county_admin"
    REGIONAL_LEAD = "regional_lead"
    STATE_COORDINATOR = "state_coordinator"
    # Instance-wide: reaches every organization, with or without an org in the grant.
    PLATFORM_ADMIN = "platform_admin"


@dataclass(frozen=True)
class Grant:
    role: Role
    org_id: str


@dataclass(frozen=True)
class Identity:
    person_id: str
    grants: tuple[Grant, ...] = field(default_factory=tuple)

    def may(self, roles: set[Role], scope: list[str]) -> bool:
        """True when one of `roles` is held at an organization in `scope`.

        `scope` is the target organization's ancestry plus itself: a role held at an
        organization reaches that organization's whole subtree.
        """
        for grant in self.grants:
            if grant.role not in roles:
                continue
            if grant.role is Role.PLATFORM_ADMIN or grant.org_id in scope:
                return True
        return False


_current: contextvars.ContextVar[Identity | None] = contextvars.ContextVar("copnet_identity", default=None)


def current_identity() -> Identity | None:
    return _current.get()


def set_identity(identity: Identity | None) -> contextvars.Token:
    return _current.set(identity)


def reset_identity(token: contextvars.Token) -> None:
    _current.reset(token)


def require_authenticated(action: str) -> Identity:
    identity = current_identity()
    if identity is None:
        raise Unauthenticated(f"{action} needs a bearer token", reason="TOKEN_REQUIRED")
    return identity


def require(roles: set[Role], scope: list[str], action: str) -> Identity:
    """The caller's identity if it holds one of `roles` over `scope`; raises otherwise."""
    identity = require_authenticated(action)
    if not identity.may(roles, scope):
        wanted = ", ".join(sorted(r.value for r in roles))
        raise PermissionDenied(f"{action} needs one of [{wanted}] at this organization or above",
                               reason="OUT_OF_SCOPE")
    return identity


def issue_token(secret: str, person_id: str, role: Role | str, org_id: str = "",
                ttl_seconds: int = 8 * 3600) -> str:
    role = Role(role)
    if role is not Role.PLATFORM_ADMIN and not org_id:
        raise ValueError(f"role {role.value} is held at an organization: give its id")
    now = int(time.time())
    claims = {
        "iss": ISSUER, "aud": AUDIENCE, "sub": person_id, "iat": now, "exp": now + ttl_seconds,
        "roles": [{"role": role.value, "org": org_id}],
    }
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


# A service acting on its own account (not for a caller), e.g. loading configuration at start.
SERVICE_SUBJECT_PREFIX = "service:"
SERVICE_TOKEN_SECONDS = 300


def service_token(secret: str, service: str) -> str:
    """A short-lived platform_admin token whose subject says which service is calling."""
    return issue_token(secret, f"{SERVICE_SUBJECT_PREFIX}{service}", Role.PLATFORM_ADMIN,
                       ttl_seconds=SERVICE_TOKEN_SECONDS)


def is_service(identity: Identity | None) -> bool:
    """True for a token made by `service_token` (only the instance secret can sign one)."""
    return (identity is not None and identity.person_id.startswith(SERVICE_SUBJECT_PREFIX)
            and any(grant.role is Role.PLATFORM_ADMIN for grant in identity.grants))


def verify_token(secret: str, token: str) -> Identity:
    try:
        claims = jwt.decode(token, secret, algorithms=[ALGORITHM], audience=AUDIENCE, issuer=ISSUER,
                            options={"require": ["exp", "iat", "sub"]})
    except jwt.ExpiredSignatureError:
        raise Unauthenticated("bearer token has expired", reason="TOKEN_EXPIRED") from None
    except jwt.InvalidTokenError as exc:
        raise Unauthenticated(f"bearer token is invalid: {exc}", reason="TOKEN_INVALID") from None
    try:
        grants = tuple(Grant(Role(g["role"]), str(g.get("org", ""))) for g in claims.get("roles", []))
    except (KeyError, TypeError, ValueError):
        raise Unauthenticated("bearer token has a malformed roles claim", reason="TOKEN_INVALID") from None
    return Identity(person_id=str(claims["sub"]), grants=grants)


def bearer_from_header(value: str | None) -> str | None:
    """The token in an `Authorization: Bearer ...` value; None when absent."""
    if not value:
        return None
    scheme, _, token = value.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthenticated("Authorization must be 'Bearer <token>'", reason="TOKEN_INVALID")
    return token.strip()
