"""A session's extra fields, checked against its session type's JSON Schema (Draft 2020-12).

A plugin declares the fields its type carries; a key it did not declare is refused even when its
schema forgets `additionalProperties: false`, so a typo never lands silently in a calendar. Pure.
"""

from __future__ import annotations

import json

import jsonschema
from jsonschema.exceptions import SchemaError

from copnet.kernel.errors import InvalidArgument

FIELD = "fields"
MAX_JSON_LENGTH = 20000


def parsed_fields(fields_json: str) -> dict:
    """The JSON object in `fields_json` ({} when empty); INVALID_JSON otherwise."""
    if not fields_json.strip():
        return {}
    if len(fields_json) > MAX_JSON_LENGTH:
        raise InvalidArgument.for_field(FIELD, f"must be at most {MAX_JSON_LENGTH} characters of JSON",
                                        reason="INVALID_JSON")
    try:
        value = json.loads(fields_json)
    except ValueError as error:
        raise InvalidArgument.for_field(FIELD, f"is not valid JSON: {error}", reason="INVALID_JSON") from None
    if not isinstance(value, dict):
        raise InvalidArgument.for_field(FIELD, "must be a JSON object", reason="INVALID_JSON")
    return value


def closed_schema(schema: dict) -> dict:
    """The schema as an object schema closed to undeclared keys, unless it says otherwise."""
    closed = dict(schema or {})
    closed.setdefault("type", "object")
    closed.setdefault("additionalProperties", False)
    return closed


def validate_fields(fields: dict, schema: dict, session_type: str) -> dict:
    """`fields` when they satisfy the type's schema; otherwise the first problem as a field error
    on `fields.<path>` (UNDECLARED_FIELD or INVALID_FIELD_VALUE)."""
    closed = closed_schema(schema)
    declared = closed.get("properties", {}) or {}
    if closed.get("additionalProperties") is False and not closed.get("patternProperties"):
        for key in fields:
            if key not in declared:
                raise InvalidArgument.for_field(f"{FIELD}.{key}", f"is not a field of session type {session_type!r}",
                                                reason="UNDECLARED_FIELD")
    try:
        validator = jsonschema.Draft202012Validator(closed)
        errors = sorted(validator.iter_errors(fields), key=lambda e: (list(e.absolute_path), e.message))
    except SchemaError as error:
        # The plugin's schema is broken: the plugin's fault, not the caller's, but nothing we can check.
        raise InvalidArgument.for_field(FIELD, f"session type {session_type!r} has an invalid schema: "
                                               f"{error.message}", reason="INVALID_FIELD_VALUE") from None
    if not errors:
        return fields
    error = errors[0]
    path = ".".join(str(part) for part in [FIELD, *error.absolute_path])
    given = error.instance if isinstance(error.instance, dict) else {}
    if error.validator == "additionalProperties":
        extra = [key for key in given if key not in (error.schema.get("properties") or {})]
        if extra:
            raise InvalidArgument.for_field(f"{path}.{extra[0]}", "is not a declared field", reason="UNDECLARED_FIELD")
    if error.validator == "required":
        missing = [key for key in error.validator_value if key not in given]
        if missing:
            path = f"{path}.{missing[0]}"
    raise InvalidArgument.for_field(path, error.message, reason="INVALID_FIELD_VALUE")
