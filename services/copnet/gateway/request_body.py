"""Request bodies must be one JSON object (or absent), of bounded nesting; anything else is refused
before validation.

flask-openapi3 parses bodies with `get_json(silent=True)`, which turns malformed JSON into a
missing body (a misleading 422); checking first gives the caller an honest 400, 415 or 422. The
body is parsed once, here, and Flask keeps the result for validation.

Parsing is bounded before it starts: the size by the route's limit (413, `MAX_CONTENT_LENGTH`),
the nesting by `MAX_JSON_DEPTH` (422 JSON_TOO_DEEP), counted on the raw bytes. Without that bound a
body nested a thousand deep exhausts Python's recursion (a 500), and settings nested a few dozen
deep exceed what a protobuf `Struct` can carry to the service. The parser is pydantic-core's
(strict RFC 8259: no NaN, no lone surrogate in a string, which no service could store).
"""

from __future__ import annotations

import re
from itertools import accumulate
from typing import Any

from flask import Flask, Request, abort, request
from flask.json.provider import DefaultJSONProvider
from pydantic_core import from_json

from copnet.gateway.problems import problem

BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})
# Endpoints whose body is a file streamed by the route itself (an assessment upload), never JSON.
RAW_BODY_ENDPOINTS: set[str] = set()
JSON_TYPE_NAMES = {list: "an array", str: "a string", int: "a number", float: "a number", bool: "a boolean",
                   type(None): "null"}
# Objects and arrays inside one another, the body itself counting as one: far more than any
# request of this API needs (plugin settings, session fields), well inside what a protobuf Struct
# carries (about 30 object levels).
MAX_JSON_DEPTH = 16
# A JSON string (with its escapes), and everything that is not an opening or closing bracket.
JSON_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")
DEPTH_STEP = {ord("["): 1, ord("{"): 1, ord("]"): -1, ord("}"): -1}


class JsonTooDeep(ValueError):
    pass


def nesting_depth(data: bytes) -> int:
    """How deep objects and arrays nest in `data`, counted without parsing it (strings skipped)."""
    brackets = JSON_STRING.sub(b"", data).translate(None, NOT_BRACKETS)
    return max(accumulate(DEPTH_STEP[b] for b in brackets), default=0)


def parse_json(data: bytes | str) -> Any:
    raw = data.encode("utf-8", "surrogatepass") if isinstance(data, str) else data
    if nesting_depth(raw) > MAX_JSON_DEPTH:
        raise JsonTooDeep(f"objects and arrays nest more than {MAX_JSON_DEPTH} deep")
    return from_json(raw, allow_inf_nan=False)


class BoundedJSONProvider(DefaultJSONProvider):
    """Flask's JSON, reading with `parse_json` (so `request.get_json()` everywhere is bounded)."""

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        return parse_json(s)


class JsonRequest(Request):
    def on_json_loading_failed(self, e: ValueError | None) -> Any:
        if isinstance(e, JsonTooDeep):
            abort(problem(422, f"the body is refused: {e}", reason="JSON_TOO_DEEP"))
        abort(problem(400, f"the body is not valid JSON: {e}", reason="MALFORMED_JSON"))


def require_json_object() -> None:
    if request.routing_exception is not None or request.method not in BODY_METHODS:
        return
    if request.url_rule is not None and request.url_rule.endpoint in RAW_BODY_ENDPOINTS:
        return
    if not request.content_type and not request.get_data(cache=True):
        return  # no body at all: an action like POST .../cancel; a route that needs one answers 422
    if not request.is_json:
        abort(problem(415, "send the body as Content-Type: application/json", reason="UNSUPPORTED_MEDIA_TYPE"))
    body = request.get_json()  # parsed once: validation reads the same result
    if not isinstance(body, dict):
        abort(problem(400, f"the body must be a JSON object, not {JSON_TYPE_NAMES.get(type(body), 'that')}",
                      reason="BODY_NOT_OBJECT"))


def register(app: Flask) -> None:
    app.json = BoundedJSONProvider(app)
    app.request_class = JsonRequest
    app.before_request(require_json_object)
