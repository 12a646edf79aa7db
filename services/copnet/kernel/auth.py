"""Identity and access: signed bearer tokens, roles held at organizations, subtree scope.

Tokens are Ed25519-signed JWTs (`EdDSA`). Whoever signs holds a private key; every process
verifies with the public keys only (`Verifier`). A key's id (`kid`, `<signer>/<thumbprint>`)
names what it may sign for: `people` signs people's tokens (and never a `service:` subject), the
key of `service:<name>` signs that service's own tokens only. The audience is the instance's
region (`copnet:<region>`), so another instance's tokens are refused; every token has an id
(`jti`) and a lifetime no longer than the instance allows.
"""

from __future__ import annotations

import contextvars
import enum
import time
import uuid
from collections.abc import Container, Mapping
from dataclasses import dataclass, field

import jwt
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from copnet.kernel.errors import PermissionDenied, Unauthenticated

ISSUER = "copnet"
ALGORITHM = "EdDSA"
METADATA_KEY = "authorization"
# The signer of people's tokens (a key id's part before the "/").
PEOPLE_SIGNER = "people"
# A service acting on its own account (not for a caller), e.g. loading configuration at start.
SERVICE_SUBJECT_PREFIX = "service:"
SERVICE_TOKEN_SECONDS = 300
# People's tokens live at most this long unless the instance says otherwise (COPNET_TOKEN_MAX_SECONDS).
DEFAULT_MAX_TOKEN_SECONDS = 12 * 3600
DEFAULT_TOKEN_SECONDS = 8 * 3600
# Clocks of the signer and the verifier may differ by this much.
CLOCK_SKEW_SECONDS = 30


def audience(region: str) -> str:
    """The `aud` of every token of the instance of `region`."""
    return f"copnet:{region}"


class Role(enum.StrEnum):
    MEMBER = "member"
    FACILITATOR = "facilitator"
    COUNTY_ADMIN = "county_admin"
    REGIONAL_LEAD = "regional_lead"
    STATE_COORDINATOR = "state_coordinator"
    # Instance-wide: reaches every organization, with or without an org in the grant.
    PLATFORM_ADMIN = "platform_admin"
    # Imports assessment data and reads student-level rows in its county (reflection); audited.
    DATA_STEWARD = "data_steward"


@dataclass(frozen=True)
class Grant:
    role: Role
    org_id: str


@dataclass(frozen=True)
class Identity:
    person_id: str
    grants: tuple[Grant, ...] = field(default_factory=tuple)
    # The calling service's name, for a token signed with that service's own key; "" for a person.
    service: str = ""
    token_id: str = ""

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


def is_service(identity: Identity | None) -> bool:
    """True for a token signed with a service's own key (see `Verifier`): no person can make one."""
    return identity is not None and bool(identity.service)


class LifetimeTooLong(ValueError):
    """A token asked to live longer than the instance allows."""


class OrganizationRequired(ValueError):
    """A role other than platform_admin is held at an organization, and none was given."""


@dataclass(frozen=True)
class Signer:
    """A private key and its key id (`<signer>/<thumbprint>`): signs tokens for one instance."""

    key: Ed25519PrivateKey
    key_id: str
    region: str
    max_seconds: int = DEFAULT_MAX_TOKEN_SECONDS

    @property
    def signer(self) -> str:
        return self.key_id.rpartition("/")[0]

    def sign(self, subject: str, roles: list[dict], ttl_seconds: int) -> str:
        now = int(time.time())
        claims = {"iss": ISSUER, "aud": audience(self.region), "sub": subject, "iat": now,
                  "exp": now + ttl_seconds, "jti": uuid.uuid4().hex, "roles": roles}
        return jwt.encode(claims, self.key, algorithm=ALGORITHM, headers={"kid": self.key_id})


def issue_token(signer: Signer, person_id: str, role: Role | str, org_id: str = "",
                ttl_seconds: int = DEFAULT_TOKEN_SECONDS) -> str:
    """A person's token holding `role` at `org_id`, signed with the people's issuer key."""
    role = Role(role)
    if signer.signer != PEOPLE_SIGNER:
        raise ValueError(f"people's tokens are signed with the issuer key, not {signer.signer!r}'s")
    if role is not Role.PLATFORM_ADMIN and not org_id:
        raise OrganizationRequired(f"role {role.value} is held at an organization: give its id")
    if person_id.startswith(SERVICE_SUBJECT_PREFIX):
        raise ValueError(f"a person's id cannot start with {SERVICE_SUBJECT_PREFIX!r}")
    if not 0 < ttl_seconds <= signer.max_seconds:
        raise LifetimeTooLong(f"a token lives at most {signer.max_seconds} seconds on this instance "
                              f"(COPNET_TOKEN_MAX_SECONDS); {ttl_seconds} asked")
    return signer.sign(person_id, [{"role": role.value, "org": org_id}], ttl_seconds)


def service_token(signer: Signer) -> str:
    """A short-lived token of the service whose key `signer` holds: subject `service:<name>`, no roles."""
    if not signer.signer.startswith(SERVICE_SUBJECT_PREFIX):
        raise ValueError("a service token is signed with the service's own key")
    return signer.sign(signer.signer, [], SERVICE_TOKEN_SECONDS)


class Verifier:
    """Checks tokens with the instance's public keys (kid -> key), its region and lifetime cap,
    and refuses the token ids in `revoked` (a service's `RevocationList`; the gateway leaves that
    to the services it forwards every token to)."""

    def __init__(self, public_keys: Mapping[str, Ed25519PublicKey], region: str,
                 max_seconds: int = DEFAULT_MAX_TOKEN_SECONDS, revoked: Container[str] = frozenset()):
        self.public_keys = dict(public_keys)
        self.audience = audience(region)
        self.max_seconds = max_seconds
        self.revoked = revoked

    def verify(self, token: str) -> Identity:
        try:
            kid = jwt.get_unverified_header(token).get("kid")
        except jwt.InvalidTokenError as exc:
            raise invalid(f"bearer token is invalid: {exc}") from None
        key = self.public_keys.get(kid) if isinstance(kid, str) else None
        if key is None:
            raise invalid("bearer token is signed with a key this instance does not know")
        try:
            claims = jwt.decode(token, key, algorithms=[ALGORITHM], audience=self.audience, issuer=ISSUER,
                                leeway=CLOCK_SKEW_SECONDS, options={"require": ["exp", "iat", "sub", "jti"]})
        except jwt.ExpiredSignatureError:
            raise Unauthenticated("bearer token has expired", reason="TOKEN_EXPIRED") from None
        except jwt.InvalidAudienceError:
            raise invalid(f"bearer token is for another instance (this one is {self.audience})") from None
        except jwt.InvalidTokenError as exc:
            raise invalid(f"bearer token is invalid: {exc}") from None
        if str(claims["jti"]) in self.revoked:
            raise Unauthenticated("bearer token has been revoked", reason="TOKEN_REVOKED")
        signer = kid.rpartition("/")[0]
        subject = str(claims["sub"])
        lifetime = claims["exp"] - claims["iat"]
        if signer.startswith(SERVICE_SUBJECT_PREFIX):
            # A service's key signs for that service only, and never a person's roles.
            if subject != signer or claims.get("roles"):
                raise invalid("bearer token claims what its key may not sign")
            if lifetime > SERVICE_TOKEN_SECONDS:
                raise invalid("bearer token lives longer than a service token may")
            return Identity(person_id=subject, service=subject.removeprefix(SERVICE_SUBJECT_PREFIX),
                            token_id=str(claims["jti"]))
        if signer != PEOPLE_SIGNER or subject.startswith(SERVICE_SUBJECT_PREFIX):
            raise invalid("bearer token claims what its key may not sign")
        if lifetime > self.max_seconds:
            raise invalid(f"bearer token lives longer than this instance allows ({self.max_seconds} s)")
        try:
            grants = tuple(Grant(Role(g["role"]), str(g.get("org", ""))) for g in claims.get("roles", []))
        except (KeyError, TypeError, ValueError, AttributeError):
            raise invalid("bearer token has a malformed roles claim") from None
        return Identity(person_id=subject, grants=grants, token_id=str(claims["jti"]))


def invalid(message: str) -> Unauthenticated:
    return Unauthenticated(message, reason="TOKEN_INVALID")


def bearer_from_header(value: str | None) -> str | None:
    """The token in an `Authorization: Bearer ...` value; None when absent."""
    if not value:
        return None
    scheme, _, token = value.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthenticated("Authorization must be 'Bearer <token>'", reason="TOKEN_INVALID")
    return token.strip()
