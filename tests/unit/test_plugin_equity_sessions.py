"""equity-sessions: built-in session types, hidden ones, a region's own, and their validation."""

import pytest

from copnet import SessionType
from copnet.kernel.errors import InvalidArgument
from copnet.testing import scope
from copnet_plugins import core_session_types, equity_sessions

NORTH = scope("es-north")
SOUTH = scope("es-south")
BUILT_IN = ["equity_culturally_responsive_tasks", "equity_grouping_and_tracking", "equity_student_voice_belonging",
            "equity_multilingual_learners"]
FAMILY_NIGHT = {
    "key": "family_math_night", "title": "Family math night", "default_duration_minutes": 90,
    "description": "Families and students do math together.",
    "fields": {"type": "object", "properties": {"languages": {"type": "array", "items": {"type": "string"}}}},
    "preparation_prompts": ["Which languages do your families speak at home?"],
    "reflection_prompts": ["What did families tell us about how they do math at home?"],
}


@pytest.fixture
def testbed(plugin_testbed):
    plugin_testbed.load("equity-sessions")
    return plugin_testbed


def test_built_in_types_are_valid_session_types_with_prompts_and_object_schemas():
    for item in equity_sessions.BUILT_IN_SESSION_TYPES:
        again = SessionType.model_validate(item.model_dump())
        assert again == item
        assert item.fields["type"] == "object" and item.fields["additionalProperties"] is False
        assert set(item.fields.get("required", [])) <= set(item.fields["properties"])
        assert len(item.preparation_prompts) >= 3 and len(item.reflection_prompts) >= 3
        assert item.description
    assert [item.key for item in equity_sessions.BUILT_IN_SESSION_TYPES] == BUILT_IN


def test_the_grade_band_fields_offer_copnets_grade_bands():
    from copnet import GRADE_BANDS

    assert GRADE_BANDS == ("K-2", "3-5", "6-8", "9-12")
    bands = [item.fields["properties"]["grade_bands"] for item in equity_sessions.BUILT_IN_SESSION_TYPES
             if "grade_bands" in item.fields["properties"]]
    assert bands and all(field["items"]["enum"] == list(GRADE_BANDS) for field in bands)


def test_built_in_keys_do_not_clash_with_the_core_types():
    core = {item["key"] for item in core_session_types.CORE_SESSION_TYPES}
    assert not core & set(BUILT_IN)


def test_a_region_with_the_plugin_enabled_gets_the_equity_types_and_another_region_does_not(testbed):
    testbed.configure("es-north", {})
    assert [t.key for t in testbed.session_types(NORTH)] == BUILT_IN
    assert testbed.session_types(SOUTH) == []


def test_a_region_hides_built_ins_and_adds_its_own(testbed):
    testbed.configure("es-north", {"hidden": ["equity_grouping_and_tracking"], "extra_session_types": [FAMILY_NIGHT]})
    offered = testbed.session_types(NORTH)
    assert [t.key for t in offered] == [
        "equity_culturally_responsive_tasks", "equity_student_voice_belonging", "equity_multilingual_learners",
        "family_math_night"]
    assert offered[-1].preparation_prompts == FAMILY_NIGHT["preparation_prompts"]


def test_returned_types_are_copies_a_caller_cannot_change_the_built_ins():
    first = equity_sessions.session_types(None)
    first[0].preparation_prompts.append("changed")
    assert "changed" not in equity_sessions.session_types(None)[0].preparation_prompts


@pytest.mark.parametrize(("settings", "field", "words"), [
    ({"hidden": ["regular_convening"]}, "settings.hidden", "not a built-in equity session type"),
    ({"extra_session_types": [dict(FAMILY_NIGHT, key="equity_grouping_and_tracking")]},
     "settings.extra_session_types", "already a built-in"),
    ({"extra_session_types": [dict(FAMILY_NIGHT, key="kick_off")]}, "settings.extra_session_types",
     "already a built-in"),
    ({"extra_session_types": [FAMILY_NIGHT, FAMILY_NIGHT]}, "settings.extra_session_types", "appears twice"),
    ({"extra_session_types": [dict(FAMILY_NIGHT, key="Family Night")]}, "settings.extra_session_types", ""),
    ({"extra_session_types": [dict(FAMILY_NIGHT, default_duration_minutes=0)]}, "settings.extra_session_types", ""),
    ({"extra_session_types": [dict(FAMILY_NIGHT, fields={"type": "string"})]}, "settings.extra_session_types",
     "type 'object'"),
    ({"extra_session_types": [dict(FAMILY_NIGHT, colour="red")]}, "settings.extra_session_types", ""),
    ({"hide": ["equity_grouping_and_tracking"]}, "settings.hide", ""),
])
def test_invalid_settings_are_refused_naming_the_field(testbed, settings, field, words):
    with pytest.raises(InvalidArgument) as caught:
        testbed.configure("es-north", settings)
    named = [violation.field for violation in caught.value.fields]
    assert any(name.startswith(field) for name in named), named
    assert words in str(caught.value.fields) + caught.value.message


def test_the_settings_schema_describes_every_field():
    schema = equity_sessions.Settings.model_json_schema()
    assert all(prop.get("description") for prop in schema["properties"].values())
