"""Reading student-level rows: always narrowed to a teacher's students or an organization, the
filters checked and named, a teacher's students found through the row or through class
enrollments of the same school year, pages bounded and in a stable order."""

from __future__ import annotations

import datetime as dt

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from copnet.kernel.errors import InvalidArgument
from copnet.reflection import columns
from copnet.reflection.student_rows import reading
from copnet.reflection.v1 import student_rows_pb2


def student(pseudonym: str, teacher: str | None, school: str = "s1", year: str = "2024-25", row: int = 2,
            **fields) -> dict:
    base = {name: None for name in columns.STUDENT_ROWS.names}
    return base | {"pseudonym": pseudonym, "school_id": school, "district_id": "d1", "county_office_id": "c1",
                   "region_id": "r1", "grade": "6", "test": "sbac-math", "school_year": year, "window": "spring",
                   "scale_score": 2500.0, "achievement_level": 3, "teacher_id": teacher, "english_learner": False,
                   "disability": False, "economically_disadvantaged": True, "foster": False, "homeless": False,
                   "row": row} | fields


def write_students(folder, rows: list[dict]):
    folder.mkdir(parents=True)
    path = folder / "students.parquet"
    pq.write_table(pa.Table.from_pylist(rows, schema=columns.STUDENT_ROWS), path)
    return path


def write_enrollments(folder, rows: list[dict]):
    folder.mkdir(parents=True)
    path = folder / "enrollments.parquet"
    pq.write_table(pa.Table.from_pylist(rows, schema=columns.ENROLLMENTS), path)
    return path


@pytest.fixture()
def store(tmp_path):
    scores = write_students(tmp_path / "ds1", [
        student("p-a", "t1", row=2, test_date=dt.date(2025, 5, 2), distance_from_standard=-12.5),
        student("p-b", None, row=3),
        student("p-c", "t2", row=4),
        student("p-d", None, school="s2", row=5, year="2023-24"),
    ])
    enrollments = write_enrollments(tmp_path / "en1", [
        {"pseudonym": "p-b", "teacher_id": "t1", "class_id": "k1", "school_id": "s1", "school_year": "2024-25"},
        {"pseudonym": "p-d", "teacher_id": "t1", "class_id": "k2", "school_id": "s2", "school_year": "2024-25"},
    ])
    return scores, enrollments


def test_a_teacher_reads_rows_naming_them_and_their_enrolled_students_of_that_year_only(store):
    scores, enrollments = store
    page = reading.read([scores], reading.Narrowing(teacher_id="t1", enrollments=(enrollments,)), reading.Filter(),
                        10, 0)
    # p-d is in t1's class in 2024-25, but its row is of 2023-24: not t1's student then.
    assert [r.pseudonym for r in page.rows] == ["p-a", "p-b"]
    assert page.next_offset is None
    first = page.rows[0]
    assert (first.data_set_id, first.test_date, first.distance_from_standard, first.row) == ("ds1", "2025-05-02",
                                                                                             -12.5, 2)
    assert not page.rows[1].HasField("distance_from_standard")


def test_another_teacher_reads_only_their_own(store):
    scores, enrollments = store
    page = reading.read([scores], reading.Narrowing(teacher_id="t2", enrollments=(enrollments,)), reading.Filter(),
                        10, 0)
    assert [r.pseudonym for r in page.rows] == ["p-c"]
    nobody = reading.read([scores], reading.Narrowing(teacher_id="f1", enrollments=(enrollments,)), reading.Filter(),
                          10, 0)
    assert nobody.rows == []


def test_an_organization_reads_rows_at_any_level_below_it(store):
    scores, _ = store
    school = reading.read([scores], reading.Narrowing(organization_id="s2"), reading.Filter(), 10, 0)
    assert [r.pseudonym for r in school.rows] == ["p-d"]
    county = reading.read([scores], reading.Narrowing(organization_id="c1"), reading.Filter(), 10, 0)
    assert len(county.rows) == 4
    elsewhere = reading.read([scores], reading.Narrowing(organization_id="c9"), reading.Filter(), 10, 0)
    assert elsewhere.rows == []


def test_filters_narrow_and_pages_follow_file_order(store):
    scores, _ = store
    narrowing = reading.Narrowing(organization_id="c1")
    assert [r.pseudonym for r in reading.read([scores], narrowing, reading.Filter(school_year="2023-24"), 10, 0).rows] \
        == ["p-d"]
    first = reading.read([scores], narrowing, reading.Filter(), 3, 0)
    assert [r.row for r in first.rows] == [2, 3, 4] and first.next_offset == 3
    second = reading.read([scores], narrowing, reading.Filter(), 3, first.next_offset)
    assert [r.row for r in second.rows] == [5] and second.next_offset is None


def test_reading_needs_a_teacher_or_an_organization():
    with pytest.raises(ValueError):
        reading.Narrowing()


def test_missing_files_read_as_no_rows(tmp_path):
    page = reading.read([tmp_path / "gone" / "students.parquet"], reading.Narrowing(teacher_id="t1"),
                        reading.Filter(), 10, 0)
    assert page.rows == [] and page.next_offset is None


@pytest.mark.parametrize(("field", "value"), [("grade", "13"), ("window", "summer"), ("school_year", "2024"),
                                              ("test", "x" * 65), ("school_id", "s" * 129), ("test", "  ")])
def test_a_bad_filter_names_its_field(field, value):
    with pytest.raises(InvalidArgument) as raised:
        reading.filter_of(student_rows_pb2.StudentResultFilter(**{field: value}))
    assert [f.field for f in raised.value.fields] == [f"filter.{field}"]


def test_page_sizes_are_bounded():
    assert reading.page_size_of(0) == reading.DEFAULT_PAGE_SIZE
    assert reading.page_size_of(10_000) == reading.MAX_PAGE_SIZE
    with pytest.raises(InvalidArgument):
        reading.page_size_of(-1)


def test_a_data_set_is_read_whole_when_its_own_file_is_given(store):
    scores, _ = store
    page = reading.read([scores], reading.Narrowing(data_set_id="ds1"), reading.Filter(grade="6"), 10, 0)
    assert [r.pseudonym for r in page.rows] == ["p-a", "p-b", "p-c", "p-d"]
