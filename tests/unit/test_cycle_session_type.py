"""The data-reflection session type: its fields are a measure filter the service can query with,
checked by scheduling's validator, and it prepares participants with prompts."""

from __future__ import annotations

import pytest
from copnet import SessionType
from copnet.kernel.errors import InvalidArgument
from copnet.reflection import reference
from copnet.reflection.measures import queries
from copnet.scheduling.session_fields import validate_fields
from copnet_plugins.core_session_types import CORE_SESSION_TYPES

DATA_REFLECTION = SessionType.model_validate(next(t for t in CORE_SESSION_TYPES if t["key"] == "data_reflection"))
FILTER = {"tests": ["sbac-math"], "school_years": ["2025-26"], "windows": ["fall", "spring"],
          "student_groups": ["el", "all"], "grades": ["5", "all"], "include_schools": True,
          "focus_question": "Where are our English learners furthest from standard?"}


def test_a_session_filter_validates_and_is_a_measure_query():
    fields = validate_fields(dict(FILTER), DATA_REFLECTION.fields, "data_reflection")
    query = queries.measure_query("usd", fields["include_schools"], fields["student_groups"], "", fields["grades"],
                                  fields["tests"], fields["school_years"], fields["windows"])
    assert query.windows == ("fall", "spring") and query.include_children


@pytest.mark.parametrize("bad", [{"windows": ["summer"]}, {"grades": ["13"]}, {"school_years": ["2025"]},
                                 {"student_names": ["x"]}, {"tests": ["x"] * 6}])
def test_fields_outside_the_filter_are_refused(bad):
    with pytest.raises(InvalidArgument):
        validate_fields(bad, DATA_REFLECTION.fields, "data_reflection")


def test_its_grades_and_windows_are_the_reference_ones():
    properties = DATA_REFLECTION.fields["properties"]
    assert set(properties["windows"]["items"]["enum"]) == set(reference.WINDOWS)
    assert set(properties["grades"]["items"]["enum"]) == {*reference.GRADES, reference.ALL_GRADES}
    assert tuple(properties["student_groups"]["items"]["enum"]) == reference.STUDENT_GROUPS


def test_it_prepares_with_the_students_results_by_group_and_reflects():
    assert any("student group" in p for p in DATA_REFLECTION.preparation_prompts)
    assert len(DATA_REFLECTION.reflection_prompts) >= 3
