"""Every error the gateway returns, as RFC 9457 `application/problem+json`.

One mapping from gRPC status codes to HTTP statuses (`STATUS_FOR_CODE`), one for pydantic
validation errors, one for werkzeug's HTTP errors, and a last resort for anything unexpected.
"""

from __future__ import annotations

import http
import json
import logging

import grpc
from flask import Flask, Response, has_request_context, request
from pydantic import ValidationError
from werkzeug.exceptions import HTTPException

from copnet.gateway.backend import ServiceCallFailed
from copnet.gateway.convert import json_field
from copnet.gateway.schemas import FieldError, Problem
from copnet.kernel.clients import request_field_names
from copnet.kernel.errors import PermissionDenied, RpcErrorDetails, Unauthenticated, details_of

log = logging.getLogger(__name__)

MEDIA_TYPE = "application/problem+json"
TYPE_PREFIX = "urn:copnet:problem:"
WWW_AUTHENTICATE = 'Bearer realm="copnet"'

STATUS_FOR_CODE = {
    grpc.StatusCode.INVALID_ARGUMENT: 422,
    grpc.StatusCode.UNAUTHENTICATED: 401,
    grpc.StatusCode.PERMISSION_DENIED: 403,
    grpc.StatusCode.NOT_FOUND: 404,
    grpc.StatusCode.ALREADY_EXISTS: 409,
    grpc.StatusCode.FAILED_PRECONDITION: 409,
    grpc.StatusCode.RESOURCE_EXHAUSTED: 429,
    grpc.StatusCode.UNAVAILABLE: 503,
    grpc.StatusCode.DEADLINE_EXCEEDED: 504,
}
# A caller refused for having too many calls in flight (or a service whose queue is full) may
# send the request again shortly (RFC 9110 Retry-After, in seconds).
RETRY_AFTER_SECONDS = "1"
# Statuses whose service message would reveal internals (addresses, stack details): replaced.
OPAQUE_STATUSES = {500, 503, 504}


def problem_type(reason: str | None) -> str:
    return TYPE_PREFIX + reason.lower().replace("_", "-") if reason else "about:blank"


def problem_title(status: int, reason: str | None) -> str:
    # RFC 9457: with about:blank the title is the status phrase; otherwise one title per type.
    return reason.replace("_", " ").capitalize() if reason else http.HTTPStatus(status).phrase


def problem(status: int, detail: str, *, reason: str | None = None, errors: list[FieldError] | None = None,
            headers: dict[str, str] | None = None) -> Response:
    body = Problem(type=problem_type(reason), title=problem_title(status, reason), status=status, detail=detail,
                   reason=reason, errors=errors or None)
    response = Response(json.dumps(body.model_dump(exclude_none=True)), status=status, mimetype=MEDIA_TYPE)
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def unauthorized(detail: str, reason: str | None) -> Response:
    # RFC 6750: a presented token that is bad is `invalid_token`; no token at all gets no error code.
    challenge = WWW_AUTHENTICATE if reason == "TOKEN_REQUIRED" else f'{WWW_AUTHENTICATE}, error="invalid_token"'
    return problem(401, detail, reason=reason, headers={"WWW-Authenticate": challenge})


# -- the individual mappings ----------------------------------------------------------------------
def from_validation_error(error: ValidationError) -> Response:
    """422 naming each invalid field (registered as flask-openapi3's validation_error_callback)."""
    errors = [FieldError(field=".".join(str(part) for part in item["loc"]), message=item["msg"])
              for item in error.errors(include_url=False)]
    names = ", ".join(sorted({e.field or "body" for e in errors}))
    return problem(422, f"invalid request: {names}", reason="VALIDATION_FAILED", errors=errors)


def from_service_call(failure: ServiceCallFailed) -> Response:
    try:
        details = details_of(failure.error)
    except ValueError:  # rich status inconsistent with the call's own: trust the call
        details = RpcErrorDetails(failure.error.code(), failure.error.details() or "", None, [])
    status = STATUS_FOR_CODE.get(details.code, 500)
    if status == 401:
        return unauthorized(details.message, details.reason)
    if status == 429:
        return too_many_requests(failure.service, details)
    if status in OPAQUE_STATUSES:
        log.warning("%s.%s failed: %s %s", failure.service, failure.method, details.code.name, details.message)
        detail = {503: f"the {failure.service} service is unavailable; try again shortly",
                  504: f"the {failure.service} service did not answer in time"}.get(
            status, "the request failed inside copnet; the error has been logged")
        return problem(status, detail, reason=details.code.name if status != 500 else None)
    sent = sent_field_names()
    own = request_field_names(failure.service, failure.method)
    errors = [FieldError(field=json_field(f.field, sent, own), message=f.description) for f in details.fields]
    return problem(status, details.message, reason=details.reason, errors=errors)


def too_many_requests(service: str, details: RpcErrorDetails) -> Response:
    """429: the service's own refusal (TOO_MANY_CONCURRENT_CALLS) says why; gRPC's (its queue is
    full, no reason) is named by its code, its text replaced."""
    if details.reason:
        return problem(429, details.message, reason=details.reason, headers={"Retry-After": RETRY_AFTER_SECONDS})
    return problem(429, f"the {service} service is busy; try again shortly", reason="RESOURCE_EXHAUSTED",
                   headers={"Retry-After": RETRY_AFTER_SECONDS})


def sent_field_names() -> set[str]:
    """The body and query names of the current request (what a field error should be named after)."""
    if not has_request_context():
        return set()
    body = request.get_json(silent=True)
    return {*(body if isinstance(body, dict) else ()), *request.args}


def from_http_exception(error: HTTPException) -> Response:
    if error.response is not None:  # already a full response (flask-openapi3's validation abort)
        return error.response
    status = error.code or 500
    headers = {}
    if status == 405 and getattr(error, "valid_methods", None):
        headers["Allow"] = ", ".join(error.valid_methods)
    return problem(status, error.description or http.HTTPStatus(status).description, headers=headers)


def from_unexpected(error: Exception) -> Response:
    log.exception("unexpected error in the gateway")
    return problem(500, "the request failed inside the gateway; the error has been logged")


def register(app: Flask) -> None:
    app.register_error_handler(Unauthenticated, lambda error: unauthorized(error.message, error.reason))
    app.register_error_handler(PermissionDenied, lambda error: problem(403, error.message, reason=error.reason))
    app.register_error_handler(ServiceCallFailed, from_service_call)
    app.register_error_handler(HTTPException, from_http_exception)
    app.register_error_handler(Exception, from_unexpected)
