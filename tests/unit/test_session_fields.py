"""A session's extra fields against its type's JSON Schema (pure)."""

from __future__ import annotations

import pytest
from copnet.kernel.errors import InvalidArgument
from copnet.scheduling.session_fields import (
    closed_schema,
    parsed_fields,
    validate_fields,
)
from copnet_plugins.equity_sessions import BUILT_IN_SESSION_TYPES

TASKS = next(t for t in BUILT_IN_SESSION_TYPES if t.key == "equity_culturally_responsive_tasks")


def problem(call, *args) -> tuple[str, str]:
    with pytest.raises(InvalidArgument) as raised:
        call(*args)
    return raised.value.fields[0].field, raised.value.reason


@pytest.mark.parametrize("text", ["", "   "])
def test_no_fields_is_an_empty_object(text):
    assert parsed_fields(text) == {}


@pytest.mark.parametrize("text", ["{nope", "[1]", '"text"', "42", "null"])
def test_anything_but_a_json_object_is_invalid_json(text):
    assert problem(parsed_fields, text) == ("fields", "INVALID_JSON")


def test_a_plugins_declared_fields_pass():
    fields = {"task_to_bring": "a fractions task", "grade_bands": ["3-5", "6-8"], "standards": ["5.NF.A.1"]}
    assert validate_fields(fields, TASKS.fields, TASKS.key) == fields


@pytest.mark.parametrize(("fields", "where", "reason"), [
    ({"task_to_bring": "x", "snacks": "yes"}, "fields.snacks", "UNDECLARED_FIELD"),
    ({"grade_bands": ["3-5"]}, "fields.task_to_bring", "INVALID_FIELD_VALUE"),
    ({"task_to_bring": 7}, "fields.task_to_bring", "INVALID_FIELD_VALUE"),
    ({"task_to_bring": "x", "grade_bands": ["3-5", "13"]}, "fields.grade_bands.1", "INVALID_FIELD_VALUE"),
    ({"task_to_bring": "x", "grade_bands": ["3-5", "3-5"]}, "fields.grade_bands", "INVALID_FIELD_VALUE"),
])
def test_a_plugins_schema_refuses_what_it_does_not_declare_or_allow(fields, where, reason):
    assert problem(validate_fields, fields, TASKS.fields, TASKS.key) == (where, reason)


def test_a_schema_that_forgets_additional_properties_is_still_closed():
    schema = {"type": "object", "properties": {"room_setup": {"type": "string"}}}
    assert validate_fields({"room_setup": "tables of four"}, schema, "t") == {"room_setup": "tables of four"}
    assert problem(validate_fields, {"roomsetup": "x"}, schema, "t") == ("fields.roomsetup", "UNDECLARED_FIELD")
    assert closed_schema({})["additionalProperties"] is False


def test_a_type_without_fields_takes_none_and_an_open_schema_takes_any():
    assert problem(validate_fields, {"anything": 1}, {}, "regular_convening") == ("fields.anything",
                                                                                "UNDECLARED_FIELD")
    assert validate_fields({}, {}, "regular_convening") == {}
    open_schema = {"type": "object", "additionalProperties": True}
    assert validate_fields({"anything": 1}, open_schema, "t") == {"anything": 1}


def test_nested_undeclared_keys_are_named_with_their_path():
    schema = {"type": "object", "properties": {"room": {"type": "object", "properties": {"name": {"type": "string"}},
                                                        "additionalProperties": False}}}
    assert problem(validate_fields, {"room": {"name": "A", "floor": 2}}, schema, "t") == ("fields.room.floor",
                                                                                        "UNDECLARED_FIELD")
