"""How the OpenAPI document is generated: flask-openapi3 plus the gateway's conventions
(problem+json error responses, a Location header on every 201, function names as operation ids)."""

from __future__ import annotations

import http

from flask_openapi3 import OpenAPI

from copnet.gateway.problems import MEDIA_TYPE

PROBLEM_REF = "#/components/schemas/Problem"

# Why each error status happens, shown in the document next to the status.
ERROR_DESCRIPTIONS = {
    400: "Malformed JSON, or a body that is not a JSON object.",
    401: "No bearer token where the operation declares one (every write), or a token that is invalid or "
         "expired (`WWW-Authenticate: Bearer`).",
    403: "The token's roles do not reach this organization (gRPC PERMISSION_DENIED), or it holds none of "
         "the operation's `x-copnet-roles` at any organization (`ROLE_REQUIRED`, before the body is read).",
    404: "No such resource (gRPC NOT_FOUND).",
    409: "Already exists, or the current state forbids it (gRPC ALREADY_EXISTS / FAILED_PRECONDITION).",
    413: "The body is larger than 1 MiB.",
    414: "The URL (path and query) is longer than 4096 bytes.",
    415: "The body was not sent as `application/json`.",
    422: "A field is missing, of the wrong type, unknown or out of range: `errors` names each one "
         "(validation here, or gRPC INVALID_ARGUMENT from the service); or the body nests objects and "
         "arrays more than 16 deep (`JSON_TOO_DEEP`).",
    429: "Too many of this caller's requests in flight at once, or the service's queue is full "
         "(gRPC RESOURCE_EXHAUSTED): send it again after `Retry-After` seconds.",
    500: "Anything unexpected; details are logged, never returned.",
    503: "A service is unavailable (gRPC UNAVAILABLE).",
    504: "A service did not answer before its deadline (gRPC DEADLINE_EXCEEDED).",
}
# What any route can answer: a bad token is refused everywhere, and so is a URL too long; too
# many calls at once and failures can happen everywhere.
ALWAYS = (401, 414, 429, 500)


def problem_responses(*statuses: int) -> dict[int, dict]:
    """OpenAPI responses for these error statuses (and ALWAYS ones), each a problem+json body."""
    responses = {}
    for status in sorted({*statuses, *ALWAYS}):
        response = {"description": f"{http.HTTPStatus(status).phrase}. {ERROR_DESCRIPTIONS[status]}",
                    "content": {MEDIA_TYPE: {"schema": {"$ref": PROBLEM_REF}}}}
        if status == 401:
            response["headers"] = {"WWW-Authenticate": {"schema": {"type": "string"},
                                                        "description": "`Bearer realm=\"copnet\"`"}}
        if status == 429:
            response["headers"] = {"Retry-After": {"schema": {"type": "string"},
                                                   "description": "Seconds to wait before sending it again."}}
        responses[status] = response
    return responses


# The problems each kind of operation can answer, named once for every route.
# A write to an existing resource: a bad or oversized body (400, 413, 415, 422), not allowed (403),
# not there (404), in conflict with its state (409), a service down or slow (503, 504).
WRITE_PROBLEMS = problem_responses(400, 403, 404, 409, 413, 415, 422, 503, 504)
# One resource read by id, and a filtered list (its query can be invalid).
READ_PROBLEMS = problem_responses(403, 404, 503, 504)
LIST_PROBLEMS = problem_responses(403, 404, 422, 503, 504)
# A removal: no body, but the resource's state can forbid it.
DELETE_PROBLEMS = problem_responses(403, 404, 409, 422, 503, 504)
# A read computed about a community, person or program of the path (participation, hours, a
# timeline): the service answers one it does not know with 422 UNKNOWN_COMMUNITY / UNKNOWN_PERSON /
# UNKNOWN_PROGRAM.
UNKNOWN_TARGET_PROBLEMS = problem_responses(403, 404, 422, 503, 504)


def operation_id(*, name: str, path: str, method: str) -> str:
    """The view function's name (`create_organization`): stable, and unique across the API."""
    return name


class GatewayOpenAPI(OpenAPI):
    def generate_spec_json(self):
        super().generate_spec_json()
        for path_item in self.spec_json["paths"].values():
            for operation in path_item.values():
                responses = operation["responses"]
                # flask-openapi3 adds a plain-JSON 422 to every operation that declares none; ours
                # declare 422 (as problem+json) exactly where there is input to validate.
                if "application/json" in responses.get("422", {}).get("content", {}):
                    del responses["422"]
                if "201" in responses:
                    responses["201"].setdefault("headers", {})["Location"] = {
                        "schema": {"type": "string"}, "description": "URL of the created resource."}
