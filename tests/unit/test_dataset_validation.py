"""The rules imported rows meet, checked a batch at a time: each bad row named by its row, field
and rule, the good rows kept pseudonymous and placed in the organization tree."""

from __future__ import annotations

import datetime as dt

import pyarrow as pa
import pytest
from copnet.reflection import columns
from copnet.reflection.datasets.pseudonyms import Pseudonymiser
from copnet.reflection.datasets.validation import (
    OrganizationTree,
    Placement,
    WrongShape,
    check_aggregates,
    check_enrollments,
    check_scores,
)

TREE = OrganizationTree(
    schools={"0100001": Placement("north-es", "east-usd", "alameda-coe", "bay-region"),
             "0100002": Placement("south-ms", "east-usd", "alameda-coe", "bay-region")},
    ids_by_code={"district|01001": "east-usd", "county|01": "alameda-coe", "school|0100001": "north-es"})
PSEUDONYMISE = Pseudonymiser(bytes(32)).column


def score(row: int, **changes) -> dict:
    values = dict(row=row, student_id=f"S{row}", school_code="0100001", grade="5", test="sbac-math",
                  school_year="2024-25", window="spring", test_date=dt.date(2025, 5, 1), scale_score=2530.0,
                  achievement_level=3, percentile=None, proficiency_band=None, teacher_id=None,
                  english_learner=False, disability=False, economically_disadvantaged=True, foster=False,
                  homeless=False, race_ethnicity="hispanic")
    return values | changes


def checked(*rows: dict, tests=None):
    return check_scores(pa.Table.from_pylist(list(rows), schema=columns.STUDENT_SCORES), "scores.csv", TREE,
                        PSEUDONYMISE, tests)


def reasons(result) -> set[tuple[int, str, str]]:
    return {(e["row"], e["field"], e["reason"]) for e in result.errors.to_pylist()}


@pytest.mark.parametrize(("changes", "field", "reason"), [
    ({"student_id": "  "}, "student_id", "STUDENT_ID_MISSING"),
    ({"test": None}, "test", "TEST_MISSING"),
    ({"grade": "13"}, "grade", "UNKNOWN_GRADE"),
    ({"grade": "2"}, "grade", "GRADE_NOT_TESTED"),
    ({"school_year": "2024-26"}, "school_year", "INVALID_SCHOOL_YEAR"),
    ({"school_year": "24-25"}, "school_year", "INVALID_SCHOOL_YEAR"),
    ({"window": "summer"}, "window", "UNKNOWN_WINDOW"),
    ({"test_date": dt.date(1899, 12, 31)}, "test_date", "DATE_OUT_OF_RANGE"),
    ({"test_date": dt.date(2200, 1, 1)}, "test_date", "DATE_OUT_OF_RANGE"),
    ({"scale_score": None}, "scale_score", "SCALE_SCORE_MISSING"),
    ({"scale_score": 2701.0, "achievement_level": 4}, "scale_score", "SCALE_SCORE_OUT_OF_RANGE"),
    ({"scale_score": 2218.0, "achievement_level": 1}, "scale_score", "SCALE_SCORE_OUT_OF_RANGE"),
    ({"scale_score": float("nan")}, "scale_score", "SCALE_SCORE_OUT_OF_RANGE"),
    ({"achievement_level": 5}, "achievement_level", "INVALID_ACHIEVEMENT_LEVEL"),
    ({"achievement_level": 4}, "achievement_level", "ACHIEVEMENT_LEVEL_INCONSISTENT"),
    ({"percentile": 100.5}, "percentile", "PERCENTILE_OUT_OF_RANGE"),
    ({"race_ethnicity": "martian"}, "race_ethnicity", "UNKNOWN_RACE_ETHNICITY"),
    ({"school_code": None}, "school_code", "SCHOOL_CODE_MISSING"),
    ({"school_code": "9999999"}, "school_code", "UNKNOWN_SCHOOL"),
])
def test_each_rule_rejects_its_row_by_field_and_reason_and_keeps_the_others(changes, field, reason):
    result = checked(score(2), score(3, **changes), score(4))
    assert reasons(result) == {(3, field, reason)}
    assert result.rows.column("row").to_pylist() == [2, 4]


def test_messages_name_the_rule_and_value_but_never_the_student():
    result = checked(score(2, student_id="CONFIDENTIAL-ID", scale_score=2701.0, achievement_level=4))
    (error,) = result.errors.to_pylist()
    assert error["message"] == "scale_score 2701 is outside 2219-2700 for grade 5 of sbac-math"
    assert "CONFIDENTIAL-ID" not in str(result.errors.to_pylist())


def test_a_row_breaking_several_rules_is_reported_once_per_rule():
    result = checked(score(2, grade="13", window="summer"))
    assert reasons(result) == {(2, "grade", "UNKNOWN_GRADE"), (2, "window", "UNKNOWN_WINDOW")}
    assert result.rows.num_rows == 0


def test_level_and_distance_from_standard_come_from_the_cut_scores():
    # Grade 5: level minimums 2455, 2528, 2579; standard met at 2528.
    result = checked(score(2, scale_score=2454.0, achievement_level=None), score(3, scale_score=2528.0,
                                                                                 achievement_level=None),
                     score(4, scale_score=2579.0, achievement_level=4))
    kept = result.rows.to_pylist()
    assert [r["achievement_level"] for r in kept] == [1, 3, 4]
    assert [r["distance_from_standard"] for r in kept] == [-74.0, 0.0, 51.0]


def test_kept_rows_are_pseudonymous_and_placed_in_the_tree():
    (kept,) = checked(score(2, student_id=" S2 ", race_ethnicity=None, english_learner=None)).rows.to_pylist()
    assert kept["pseudonym"] == Pseudonymiser(bytes(32)).one("S2")
    assert (kept["school_id"], kept["district_id"], kept["county_office_id"], kept["region_id"]) == (
        "north-es", "east-usd", "alameda-coe", "bay-region")
    assert kept["race_ethnicity"] == "race_not_reported" and kept["english_learner"] is False
    assert "student_id" not in checked(score(2)).rows.column_names


def test_a_local_benchmark_has_no_cut_scores_unless_the_importer_limits_tests():
    local = score(2, test="star-math", grade="2", scale_score=612.0, achievement_level=None, window="fall")
    (kept,) = checked(local).rows.to_pylist()
    assert kept["achievement_level"] is None and kept["distance_from_standard"] is None
    assert reasons(checked(local, tests=frozenset({"sbac-math"}))) == {(2, "test", "UNKNOWN_TEST")}


def test_rows_in_the_wrong_shape_fail_the_whole_file():
    whole = pa.Table.from_pylist([score(2)], schema=columns.STUDENT_SCORES)
    with pytest.raises(WrongShape, match="scores.csv: the rows have no column 'scale_score'"):
        check_scores(whole.drop_columns(["scale_score"]), "scores.csv", TREE, PSEUDONYMISE)
    with pytest.raises(WrongShape, match="column 'scale_score'"):
        table = pa.Table.from_pylist([score(2)], schema=columns.STUDENT_SCORES)
        table = table.set_column(table.schema.get_field_index("scale_score"), "scale_score", pa.array(["high"]))
        check_scores(table, "scores.csv", TREE, PSEUDONYMISE)


def test_enrollments_need_a_student_a_teacher_and_a_known_school():
    rows = pa.Table.from_pylist([
        dict(row=2, student_id="S1", teacher_id="teacher-a", class_id="c1", school_code="0100002", school_year=None),
        dict(row=3, student_id="S2", teacher_id="", class_id="c1", school_code="0100002", school_year="2024-25"),
        dict(row=4, student_id="S3", teacher_id="teacher-a", class_id="c1", school_code="77", school_year="2024-25"),
    ], schema=columns.CLASS_ENROLLMENTS)
    result = check_enrollments(rows, "enrollments.csv", TREE, PSEUDONYMISE)
    assert reasons(result) == {(3, "teacher_id", "TEACHER_ID_MISSING"), (4, "school_code", "UNKNOWN_SCHOOL")}
    assert result.rows.to_pylist() == [dict(pseudonym=Pseudonymiser(bytes(32)).one("S1"), teacher_id="teacher-a",
                                            class_id="c1", school_id="south-ms", school_year=None)]


def test_aggregates_are_kept_with_the_organization_of_their_entity_code():
    base = dict(student_group="all", grade="5", test="sbac-math", school_year="2024-25", students_tested=120,
                mean_scale_score=2490.5, percent_level_1=20.0, percent_level_2=30.0, percent_level_3=30.0,
                percent_level_4=20.0, percent_met_or_exceeded=50.0, suppressed_by_source=False)
    rows = pa.Table.from_pylist([
        base | dict(row=2, entity_code="01", entity_level="county"),
        base | dict(row=3, entity_code="00", entity_level="state"),
        base | dict(row=4, entity_code="01001", entity_level="district", percent_level_1=120.0),
        base | dict(row=5, entity_code="01", entity_level="county", student_group="martians"),
    ], schema=columns.AGGREGATE_RESULTS)
    result = check_aggregates(rows, "research.csv", TREE)
    assert reasons(result) == {(4, "percent_level_1", "PERCENT_OUT_OF_RANGE"),
                               (5, "student_group", "UNKNOWN_STUDENT_GROUP")}
    assert result.rows.select(["row", "organization_id"]).to_pylist() == [
        {"row": 2, "organization_id": "alameda-coe"}, {"row": 3, "organization_id": ""}]
