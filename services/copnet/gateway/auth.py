"""Who is calling: the bearer token is verified here, then forwarded; services decide scope.

Verifying in the gateway too means a bad or expired token is refused (401) on every route
without a round trip, and a write without any token never reaches a service.
"""

from __future__ import annotations

from flask import Flask, g, request

from copnet.kernel.auth import Verifier, bearer_from_header
from copnet.kernel.errors import Unauthenticated

WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
SECURITY_SCHEME = "bearer"
# What write routes declare in the OpenAPI document.
BEARER_REQUIRED = [{SECURITY_SCHEME: []}]
SECURITY_SCHEMES = {SECURITY_SCHEME: {"type": "http", "scheme": "bearer", "bearerFormat": "JWT",
                                      "description": "A copnet token: `Authorization: Bearer <jwt>`."}}


def authenticate(verifier: Verifier) -> None:
    """Sets g.bearer_token (None for an anonymous read); raises Unauthenticated otherwise."""
    if request.routing_exception is not None:
        return  # an unknown route or method is a 404/405 whoever asks
    token = bearer_from_header(request.headers.get("Authorization"))
    if token is not None:
        verifier.verify(token)
    elif request.method in WRITE_METHODS:
        raise Unauthenticated(f"{request.method} {request.path} needs a bearer token", reason="TOKEN_REQUIRED")
    g.bearer_token = token


def register(app: Flask, verifier: Verifier) -> None:
    app.before_request(lambda: authenticate(verifier))
