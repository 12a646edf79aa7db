"""Roll-ups kept on import, against a hand computation on a table small enough to add up by eye;
duplicate students found within a file and against data sets already imported."""

from __future__ import annotations

import datetime as dt

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from copnet.reflection import columns
from copnet.reflection.datasets import rollups
from copnet.reflection.datasets.importing import duplicates


def student(pseudonym: str, school: str, grade: str, score: float, level: int, *, el: bool = False,
            race: str = "white", year: str = "2024-25", window: str = "spring", teacher: str | None = None,
            test: str = "sbac-math", row: int = 0) -> dict:
    district = {"north-es": "east-usd", "south-ms": "east-usd", "west-es": "west-usd"}[school]
    cut = {"5": 2528, "6": 2552}.get(grade)
    return dict(pseudonym=pseudonym, school_id=school, district_id=district, county_office_id="alameda-coe",
                region_id="bay-region", grade=grade, test=test, school_year=year, window=window,
                test_date=dt.date(2025, 5, 1), scale_score=score, achievement_level=level,
                distance_from_standard=None if cut is None else score - cut, percentile=None, proficiency_band=None,
                teacher_id=teacher, english_learner=el, disability=False, economically_disadvantaged=False,
                foster=False, homeless=False, race_ethnicity=race, row=row)


STUDENTS = [
    student("p1", "north-es", "5", 2500.0, 2, el=True, race="hispanic", teacher="t-a"),
    student("p2", "north-es", "5", 2600.0, 4, race="asian", teacher="t-a"),
    student("p3", "south-ms", "6", 2560.0, 3, el=True, race="hispanic"),
    student("p4", "west-es", "5", 2530.0, 3, race="white", teacher="t-b"),
]


@pytest.fixture
def students_file(tmp_path):
    path = tmp_path / "students.parquet"
    pq.write_table(pa.Table.from_pylist(STUDENTS, schema=columns.STUDENT_ROWS), path)
    return path


def cells_by_key(table: pa.Table, *keys: str) -> dict:
    return {tuple(row[k] for k in keys): row for row in table.to_pylist()}


def test_measure_cells_add_up_by_hand(students_file):
    con = rollups.connection()
    cells = cells_by_key(rollups.measure_cells(con, students_file), "organization_id", "student_group", "grade")

    east_all = cells[("east-usd", "all", "all")]
    assert east_all["level"] == "district"
    assert (east_all["students"], east_all["scale_sum"]) == (3, 2500.0 + 2600 + 2560)
    assert east_all["scale_square_sum"] == 2500.0 ** 2 + 2600 ** 2 + 2560 ** 2
    assert (east_all["level_1"], east_all["level_2"], east_all["level_3"], east_all["level_4"]) == (0, 1, 1, 1)
    assert (east_all["dfs_students"], east_all["dfs_sum"]) == (3, (2500 - 2528) + (2600 - 2528) + (2560 - 2552))

    county_el = cells[("alameda-coe", "el", "all")]
    assert (county_el["students"], county_el["scale_sum"], county_el["level"]) == (2, 2500.0 + 2560, "county_office")
    assert cells[("alameda-coe", "not_el", "5")]["students"] == 2
    assert cells[("bay-region", "hispanic", "all")]["students"] == 2
    assert cells[("north-es", "asian", "5")]["scale_sum"] == 2600.0
    assert ("north-es", "asian", "6") not in cells  # no empty cells


def test_every_family_partitions_all_students_in_every_cell(students_file):
    from copnet.reflection import reference

    con = rollups.connection()
    table = rollups.measure_cells(con, students_file).to_pylist()
    totals = {}
    for row in table:
        totals.setdefault((row["organization_id"], row["grade"]), {})[row["student_group"]] = row["students"]
    for groups in totals.values():
        for family in reference.FAMILIES:
            assert sum(groups.get(group, 0) for group in family.groups) == groups["all"]


def test_teacher_cells_count_the_file_teacher_else_the_enrolled_teachers(students_file, tmp_path):
    enrollments = tmp_path / "enrollments.parquet"
    pq.write_table(pa.Table.from_pylist([
        dict(pseudonym="p3", teacher_id="t-c", class_id="math-6", school_id="south-ms", school_year="2024-25"),
        dict(pseudonym="p3", teacher_id="t-d", class_id="math-6b", school_id="south-ms", school_year=None),
        dict(pseudonym="p1", teacher_id="t-z", class_id="math-5", school_id="north-es", school_year="2024-25"),
        dict(pseudonym="p4", teacher_id="t-y", class_id="math-5", school_id="west-es", school_year="2023-24"),
    ], schema=columns.ENROLLMENTS), enrollments)
    con = rollups.connection()
    cells = cells_by_key(rollups.teacher_cells(con, students_file, [enrollments]), "teacher_id", "student_group")

    assert (cells[("t-a", "all")]["students"], cells[("t-a", "all")]["scale_sum"]) == (2, 5100.0)
    assert cells[("t-a", "all")]["outcome_sum"] == (2500 - 2528) + (2600 - 2528)
    assert cells[("t-c", "all")]["students"] == cells[("t-d", "all")]["students"] == 1
    assert ("t-z", "all") not in cells  # p1's teacher comes from the score file
    assert ("t-y", "all") not in cells  # another school year
    assert {row["grade"] for row in rollups.teacher_cells(con, students_file, []).to_pylist()} == {"5"}


def test_growth_matches_the_same_students_from_an_earlier_window(students_file, tmp_path):
    fall = tmp_path / "fall.parquet"
    pq.write_table(pa.Table.from_pylist([
        student("p1", "north-es", "5", 2450.0, 1, el=True, race="hispanic", window="fall"),
        student("p2", "north-es", "5", 2570.0, 3, race="asian", window="fall"),
        student("p9", "north-es", "5", 2400.0, 1, window="fall"),
    ], schema=columns.STUDENT_ROWS), fall)
    con = rollups.connection()
    growth = rollups.growth_between(con, students_file, fall)
    cells = cells_by_key(growth, "organization_id", "student_group", "grade")

    north = cells[("north-es", "all", "all")]
    assert (north["from_window"], north["to_window"]) == ("fall", "spring")
    assert (north["students"], north["change_sum"]) == (2, (2500 - 2450) + (2600 - 2570))
    assert north["change_square_sum"] == 50.0 ** 2 + 30.0 ** 2
    assert cells[("east-usd", "el", "5")]["change_sum"] == 50.0
    assert rollups.growth_cells(con, fall, fall).num_rows == 0  # one window: nothing to compare


def test_duplicates_within_the_file_keep_the_first_and_against_imported_sets_name_them(tmp_path):
    new = tmp_path / "new.parquet"
    pq.write_table(pa.Table.from_pylist([
        student("p1", "north-es", "5", 2500.0, 2, row=2),
        student("p1", "north-es", "5", 2510.0, 2, row=3),
        student("p1", "north-es", "5", 2510.0, 2, window="fall", row=4),
        student("p2", "north-es", "5", 2600.0, 4, row=5),
    ], schema=columns.STUDENT_ROWS), new)
    imported = tmp_path / "ds-earlier" / "students.parquet"
    imported.parent.mkdir()
    pq.write_table(pa.Table.from_pylist([student("p2", "north-es", "5", 2600.0, 4)], schema=columns.STUDENT_ROWS),
                   imported)
    con = rollups.connection()
    found = duplicates(con, new, [imported]).to_pylist()

    assert [(d["row"], d["reason"]) for d in found] == [(3, "DUPLICATE_STUDENT"), (5, "DUPLICATE_STUDENT_IMPORTED")]
    assert found[0]["message"] == "the same student has a result for sbac-math 2024-25 spring in row 2 already"
    assert found[1]["message"].endswith("in data set ds-earlier already")
