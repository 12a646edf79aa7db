"""Request bodies must be one JSON object (or absent); anything else is refused before validation.

flask-openapi3 parses bodies with `get_json(silent=True)`, which turns malformed JSON into a
missing body (a misleading 422); checking first gives the caller an honest 400 or 415.
"""

from __future__ import annotations

import json

from flask import Flask, abort, request

from copnet.gateway.problems import problem

BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})
JSON_TYPE_NAMES = {list: "an array", str: "a string", int: "a number", float: "a number", bool: "a boolean",
                   type(None): "null"}


def require_json_object() -> None:
    if request.routing_exception is not None or request.method not in BODY_METHODS:
        return
    if not request.content_type and not request.get_data(cache=True):
        return  # no body at all: an action like POST .../cancel; a route that needs one answers 422
    if not request.is_json:
        abort(problem(415, "send the body as Content-Type: application/json", reason="UNSUPPORTED_MEDIA_TYPE"))
    try:
        body = json.loads(request.get_data(cache=True))
    except ValueError as error:  # includes UnicodeDecodeError
        abort(problem(400, f"the body is not valid JSON: {error}", reason="MALFORMED_JSON"))
    if not isinstance(body, dict):
        abort(problem(400, f"the body must be a JSON object, not {JSON_TYPE_NAMES.get(type(body), 'that')}",
                      reason="BODY_NOT_OBJECT"))


def register(app: Flask) -> None:
    app.before_request(require_json_object)
