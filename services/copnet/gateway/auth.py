"""Who is calling: the bearer token is verified here, then forwarded; services decide scope.

Verifying in the gateway too means a bad or expired token is refused (401) on every route
without a round trip, and a request without the token its operation needs never reaches a service.
What the gateway can know before the body or query matter is checked here too, so a caller who may
not call an operation at all is refused the same way whatever they send:

- an operation that declares `security` (every write, and the reads that need a person) answers
  401 TOKEN_REQUIRED without a token;
- an operation that declares `x-copnet-roles` answers 403 ROLE_REQUIRED to a token that holds none
  of those roles anywhere (the service then checks the organization: a regional lead of another
  region is refused there).
"""

from __future__ import annotations

import re

from flask import Flask, current_app, g, request

from copnet.kernel.auth import Identity, Role, Verifier, bearer_from_header
from copnet.kernel.errors import PermissionDenied, Unauthenticated

WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
SECURITY_SCHEME = "bearer"
# What routes that need a token declare in the OpenAPI document.
BEARER_REQUIRED = [{SECURITY_SCHEME: []}]
SECURITY_SCHEMES = {SECURITY_SCHEME: {"type": "http", "scheme": "bearer", "bearerFormat": "JWT",
                                      "description": "A copnet token: `Authorization: Bearer <jwt>`."}}
# The OpenAPI extension naming the roles an operation needs somewhere (see `roles_required`).
ROLES_EXTENSION = "x-copnet-roles"
ACCESS_EXTENSION = "copnet.access"
FLASK_PARAMETER = re.compile(r"<(?:[^:<>]+:)?([^<>]+)>")

# Who may call an operation at all, as the services' access rules say (membership's and
# scheduling's `access`, the plugins service); the service then checks the organization. The
# authorization matrix test asks every one of them in scope, so a set narrower than the service's fails it.
PLATFORM_ADMINS = (Role.PLATFORM_ADMIN,)
PROGRAM_MANAGERS = (Role.PLATFORM_ADMIN, Role.REGIONAL_LEAD)
ORG_MANAGERS = (*PROGRAM_MANAGERS, Role.COUNTY_ADMIN)
CONFIG_EDITORS = PROGRAM_MANAGERS
ROSTER_IMPORTERS = ORG_MANAGERS
DASHBOARD_READERS = (*ORG_MANAGERS, Role.STATE_COORDINATOR)


def roles_required(*roles: Role) -> dict:
    """`openapi_extensions` for an operation only these roles may call (at some organization)."""
    return {ROLES_EXTENSION: sorted(role.value for role in roles)}


class Access:
    """What each operation of the document needs, by (endpoint, method): read once from the document."""

    def __init__(self, app: Flask):
        self.bearer: set[tuple[str, str]] = set()
        self.roles: dict[tuple[str, str], frozenset[Role]] = {}
        for rule in app.url_map.iter_rules():
            path_item = app.paths.get(FLASK_PARAMETER.sub(r"{\1}", rule.rule))
            for method in rule.methods or ():
                operation = getattr(path_item, method.lower(), None) if path_item is not None else None
                if operation is None:
                    continue
                if operation.security:
                    self.bearer.add((rule.endpoint, method))
                declared = (operation.model_extra or {}).get(ROLES_EXTENSION)
                if declared:
                    self.roles[(rule.endpoint, method)] = frozenset(Role(name) for name in declared)


def access() -> Access:
    found = current_app.extensions.get(ACCESS_EXTENSION)
    if found is None:  # built at the first request, once every blueprint is registered
        found = current_app.extensions[ACCESS_EXTENSION] = Access(current_app)
    return found


def authenticate(verifier: Verifier) -> None:
    """Sets g.bearer_token and g.identity (None for an anonymous read); raises Unauthenticated or
    PermissionDenied otherwise."""
    if request.routing_exception is not None:
        return  # an unknown route or method is a 404/405 whoever asks
    token = bearer_from_header(request.headers.get("Authorization"))
    identity = verifier.verify(token) if token is not None else None
    operation = (request.url_rule.endpoint, request.method)
    if identity is None and (request.method in WRITE_METHODS or operation in access().bearer):
        raise Unauthenticated(f"{request.method} {request.path} needs a bearer token", reason="TOKEN_REQUIRED")
    needed = access().roles.get(operation)
    if needed and not holds_any(identity, needed):
        wanted = ", ".join(sorted(role.value for role in needed))
        raise PermissionDenied(f"{request.method} {request.path} needs one of [{wanted}] (at some organization)",
                               reason="ROLE_REQUIRED")
    g.bearer_token = token
    g.identity = identity


def holds_any(identity: Identity | None, roles: frozenset[Role]) -> bool:
    return identity is not None and any(grant.role in roles for grant in identity.grants)


def register(app: Flask, verifier: Verifier) -> None:
    app.before_request(lambda: authenticate(verifier))
