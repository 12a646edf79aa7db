"""The built-in assessment importers read hand-written sample files into exactly these rows and
these errors, refuse files in the wrong shape naming the column, and read a big file in many
batches with memory that does not grow with it."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pyarrow as pa
import pytest
from copnet import AssessmentFile, AssessmentImporter, UnusableInput
from copnet.reflection import columns
from copnet.reflection.synthetic import Plan, SyntheticSchool, write_caaspp_scores
from copnet_plugins import (
    assessment_benchmark,
    assessment_caaspp,
    assessment_edfi,
    oneroster,
)

FIXTURES = Path(__file__).parent.parent / "fixtures" / "assessments"
SCHOOL = "01611920130229"


def read(importer, name: str, settings=None, content: bytes | None = None, stream=None):
    data = content if content is not None else (FIXTURES / name).read_bytes()
    batches = list(importer.read(AssessmentFile(name, stream or io.BytesIO(data), len(data)), settings))
    schema = columns.IMPORT_SCHEMAS[importer.kind]
    for batch in batches:
        assert batch.rows.schema == schema
    rows = pa.concat_tables([b.rows for b in batches]).to_pylist() if batches else []
    errors = [(e.file, e.row, e.field, e.reason) for b in batches for e in b.errors]
    messages = [e.message for b in batches for e in b.errors]
    return rows, errors, messages, batches


def pick(rows, *names):
    return [tuple(row[name] for name in names) for row in rows]


def test_every_importer_satisfies_the_protocol():
    importers = [*assessment_caaspp.register_assessment_importers(), *assessment_benchmark.register_assessment_importers(),
                 *assessment_edfi.register_assessment_importers(), *oneroster.register_assessment_importers()]
    assert [i.key for i in importers] == ["caaspp-student-scores", "caaspp-research-file", "benchmark-csv",
                                          "edfi-student-assessment", "oneroster-enrollments"]
    assert all(isinstance(i, AssessmentImporter) for i in importers)


# -- CAASPP student scores --------------------------------------------------------------------------
def test_caaspp_student_scores_rows_and_errors():
    rows, errors, messages, _ = read(assessment_caaspp.StudentScores(), "caaspp_student_scores.csv")
    assert pick(rows, "row", "student_id", "school_code", "grade", "test", "school_year", "window", "scale_score",
                "achievement_level") == [
        (2, "1000000001", SCHOOL, "3", "sbac-math", "2024-25", "spring", 2436.0, 3),
        (3, "1000000002", SCHOOL, "4", "sbac-math", "2024-25", "spring", 2390.0, 1),
        (8, "1000000007", SCHOOL, "8", "sbac-math", "2024-25", "spring", 2650.0, 4)]
    assert pick(rows, "english_learner", "disability", "economically_disadvantaged", "foster", "homeless",
                "race_ethnicity") == [(False, False, True, False, False, "hispanic"),
                                      (True, False, False, False, False, "white"),
                                      (True, False, True, False, True, "african_american")]
    assert [str(r["test_date"]) for r in rows] == ["2025-05-02", "2025-05-03", "None"]
    # Row 4 is ELA: skipped without an error.
    assert errors == [
        ("caaspp_student_scores.csv", 5, "ScaleScore", "NOT_A_NUMBER"),
        ("caaspp_student_scores.csv", 6, "GradeAssessed", "UNKNOWN_GRADE"),
        ("caaspp_student_scores.csv", 7, "ReportingEthnicity", "UNKNOWN_RACE_ETHNICITY"),
        ("caaspp_student_scores.csv", 7, "EnglishLearner", "BAD_FLAG"),
        ("caaspp_student_scores.csv", 9, "TestCompletedDate", "BAD_DATE"),
        ("caaspp_student_scores.csv", 9, "AchievementLevel", "BAD_ACHIEVEMENT_LEVEL")]
    assert not any("100000000" in message for message in messages)


def test_caaspp_wrong_shape_names_the_missing_column():
    content = b"SSID,GradeAssessed,TestYear,CDSCode,ScaleScore\n1,3,2025,01611920130229,2400\n"
    with pytest.raises(UnusableInput, match="scores.csv: the header has no column 'EnglishLearner'"):
        read(assessment_caaspp.StudentScores(), "scores.csv", content=content)


def test_a_binary_file_is_not_csv():
    with pytest.raises(UnusableInput, match="not a UTF-8 CSV"):
        read(assessment_caaspp.StudentScores(), "scores.xlsx", content=b"PK\x03\x04\xff\xfe\x00\x81\n")


def test_a_row_of_the_wrong_width_refuses_the_file_without_quoting_it():
    header = (FIXTURES / "caaspp_student_scores.csv").read_bytes().splitlines()[0]
    with pytest.raises(UnusableInput, match="does not have the header's 14 fields") as refused:
        read(assessment_caaspp.StudentScores(), "s.csv", content=header + b"\n1234567890,3,2025\n")
    assert "1234567890" not in str(refused.value)


def test_other_spellings_of_the_columns_are_accepted():
    content = (b"Statewide Student Identifier,Grade,Test Year,CDS Code,Scale Score,EL,SWD,SED,Foster,Homeless,"
               b"Race/Ethnicity\nX1,5,2024,1611920130229,2500,N,N,N,N,N,702\n")
    rows, errors, _, _ = read(assessment_caaspp.StudentScores(), "s.csv", content=content)
    assert errors == [("s.csv", 2, "ReportingEthnicity", "UNKNOWN_RACE_ETHNICITY")]
    content = content.replace(b",702", b",201")
    rows, errors, _, _ = read(assessment_caaspp.StudentScores(), "s.csv", content=content)
    assert errors == []
    assert pick(rows, "student_id", "school_code", "grade", "school_year", "race_ethnicity", "achievement_level") == [
        ("X1", SCHOOL, "5", "2023-24", "asian", None)]


# -- CAASPP research file -----------------------------------------------------------------------------
def test_research_file_rows_suppression_and_skips():
    rows, errors, _, _ = read(assessment_caaspp.ResearchFile(), "caaspp_research.txt")
    assert pick(rows, "row", "entity_code", "entity_level", "student_group", "grade", "school_year",
                "students_tested", "mean_scale_score", "suppressed_by_source") == [
        (2, "00", "state", "all", "all", "2024-25", 990000, 2480.5, False),
        (3, "01", "county", "el", "5", "2024-25", 19500, 2420.1, False),
        (4, "01611920000000", "district", "sed", "all", "2024-25", 2950, 2470.0, False),
        (5, SCHOOL, "school", "all", "3", "2024-25", 395, 2430.2, False),
        (6, SCHOOL, "school", "pacific_islander", "3", "2024-25", None, None, True)]
    assert pick(rows[:1], "percent_level_1", "percent_level_2", "percent_level_3", "percent_level_4",
                "percent_met_or_exceeded") == [(40.0, 25.0, 17.8, 17.2, 35.0)]
    assert pick(rows[4:], "percent_level_1", "percent_met_or_exceeded") == [(None, None)]
    # Row 7 is ELA (test 1) and row 8 a group copnet does not break down by (90): skipped silently.
    assert errors == [("caaspp_research.txt", 9, "Grade", "UNKNOWN_GRADE"),
                      ("caaspp_research.txt", 10, "Students Tested", "NOT_A_NUMBER")]


def test_research_file_commas_and_missing_column():
    content = (FIXTURES / "caaspp_research.txt").read_bytes().replace(b"^", b",")
    rows, _, _, _ = read(assessment_caaspp.ResearchFile(), "r.csv", content=content)
    assert len(rows) == 5
    without = b"\n".join(line.rsplit(b",", 1)[0] for line in content.splitlines()) + b"\n"
    with pytest.raises(UnusableInput, match="no column 'Percentage Standard Not Met'"):
        read(assessment_caaspp.ResearchFile(), "r.csv", content=without)


# -- benchmark CSV ------------------------------------------------------------------------------------
def test_benchmark_defaults():
    rows, errors, _, _ = read(assessment_benchmark.BenchmarkCsv(), "benchmark.csv")
    assert pick(rows, "row", "student_id", "grade", "test", "school_year", "window", "scale_score", "percentile",
                "proficiency_band", "race_ethnicity") == [
        (2, "S-1", "3", "benchmark-math", "2024-25", "fall", 412.0, 45.0, "Early On Grade Level", "race_not_reported"),
        (3, "S-2", "3", "benchmark-math", "2024-25", "fall", 398.5, 30.0, "One Grade Level Below", "race_not_reported"),
        (4, "S-3", "3", "benchmark-math", "2024-25", "winter", 430.0, None, "Mid On Grade Level", "race_not_reported")]
    assert errors == [("benchmark.csv", 5, "window", "UNKNOWN_WINDOW"), ("benchmark.csv", 6, "score", "MISSING"),
                      ("benchmark.csv", 7, "school_year", "BAD_SCHOOL_YEAR"),
                      ("benchmark.csv", 7, "percentile", "NOT_A_NUMBER")]


def test_benchmark_column_mapping():
    settings = assessment_benchmark.Settings(
        test="iready-math", school_year="2025", window="MOY", student_id_column="Student ID",
        school_code_column="School", grade_column="Grade Level", date_column="Test Date",
        score_column="Overall Scale Score", percentile_column="Overall Percentile", teacher_column="Teacher",
        flag_columns={"english_learner": "EL", "disability": "SPED"})
    rows, errors, _, _ = read(assessment_benchmark.BenchmarkCsv(), "vendor_benchmark.csv", settings)
    assert pick(rows, "student_id", "test", "school_year", "window", "scale_score", "teacher_id", "english_learner",
                "disability", "foster") == [
        ("V-1", "iready-math", "2024-25", "winter", 480.0, "or-t-1", True, False, False),
        ("V-2", "iready-math", "2024-25", "winter", 470.0, None, False, True, False)]
    assert errors == [("vendor_benchmark.csv", 4, "EL", "BAD_FLAG")]
    with pytest.raises(UnusableInput, match="no column 'Overall Scale Score'"):
        read(assessment_benchmark.BenchmarkCsv(), "b.csv", settings,
             content=b"Student ID,School,Grade Level\nV-1,01611920130229,5\n")


def test_benchmark_settings_are_checked():
    with pytest.raises(ValueError, match="not a window"):
        assessment_benchmark.Settings(window="summer")
    with pytest.raises(ValueError, match="not a school year"):
        assessment_benchmark.Settings(school_year="2024-26")
    with pytest.raises(ValueError, match="unknown flag"):
        assessment_benchmark.Settings(flag_columns={"gifted": "GATE"})
    with pytest.raises(ValueError, match="give window"):
        assessment_benchmark.Settings(window_column="")


# -- Ed-Fi ----------------------------------------------------------------------------------------------
EDFI_SETTINGS = assessment_edfi.Settings(tests={"SBAC-MATH-G6": "sbac-math"})


def test_edfi_records_and_errors():
    rows, errors, _, _ = read(assessment_edfi.StudentAssessments(), "edfi_student_assessments.json", EDFI_SETTINGS)
    assert pick(rows, "row", "student_id", "school_code", "grade", "test", "school_year", "window", "scale_score",
                "achievement_level", "percentile", "english_learner", "race_ethnicity") == [
        (1, "604821", SCHOOL, "6", "sbac-math", "2024-25", "spring", 2561.0, 3, None, False, "race_not_reported"),
        (4, "604824", SCHOOL, "6", "iready-math", "2024-25", "fall", 480.0, None, 62.0, False, "race_not_reported")]
    assert errors == [("edfi_student_assessments.json", 2, "whenAssessedGradeLevelDescriptor", "UNKNOWN_GRADE"),
                      ("edfi_student_assessments.json", 3, "scoreResults", "MISSING"),
                      ("edfi_student_assessments.json", 5, "administrationDate", "BAD_DATE")]


def test_edfi_json_lines_read_like_the_array():
    records = json.loads((FIXTURES / "edfi_student_assessments.json").read_text())
    lines = "\n".join(json.dumps(r) for r in records).encode()
    array_rows, array_errors, _, _ = read(assessment_edfi.StudentAssessments(), "edfi_student_assessments.json",
                                          EDFI_SETTINGS)
    line_rows, line_errors, _, _ = read(assessment_edfi.StudentAssessments(), "edfi_student_assessments.json",
                                        EDFI_SETTINGS, content=lines)
    assert line_rows == array_rows and line_errors == array_errors


def test_edfi_refuses_what_is_not_json():
    with pytest.raises(UnusableInput, match="a.json: not Ed-Fi JSON"):
        read(assessment_edfi.StudentAssessments(), "a.json", content=b"studentUniqueId,score\n1,2\n")
    with pytest.raises(UnusableInput, match="record 2 is not readable JSON"):
        read(assessment_edfi.StudentAssessments(), "a.json", content=b'[{"a": 1}, {"b": ]')


def test_edfi_batches_are_bounded():
    records = json.loads((FIXTURES / "edfi_student_assessments.json").read_text())
    many = json.dumps([records[0]] * 25).encode()
    _, _, _, batches = read(assessment_edfi.StudentAssessments(records_per_batch=10), "e.json", EDFI_SETTINGS,
                            content=many)
    assert [b.rows.num_rows for b in batches] == [10, 10, 5]
    assert batches[-1].bytes_read == len(many)


# -- OneRoster enrollments -------------------------------------------------------------------------------
ENROLLMENT_ROWS = [
    (2, "stu-1", oneroster.derive_id("or", "T-Lee"), "math-6a", SCHOOL, "2024-25"),
    (3, "stu-2", oneroster.derive_id("or", "T-Lee"), "math-6a", SCHOOL, "2024-25"),
    (7, "stu-5", "or-t-kim", "math-6c", "sch-1", "2024-25"),
    (7, "stu-5", "or-t-ruiz", "math-6c", "sch-1", "2024-25")]
ENROLLMENT_ERRORS = [("enrollments.csv", 5, "classSourcedId", "CLASS_WITHOUT_TEACHER"),
                     ("enrollments.csv", 10, "userSourcedId", "MISSING")]


class OneWay(io.RawIOBase):
    """A stream that cannot seek (an upload read as it arrives)."""

    def __init__(self, data: bytes):
        self.inner = io.BytesIO(data)

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        chunk = self.inner.read(len(buffer))
        buffer[:len(chunk)] = chunk
        return len(chunk)


@pytest.mark.parametrize("seekable", [True, False])
def test_enrollments_pair_students_with_their_class_teachers(seekable):
    importer = oneroster.register_assessment_importers()[0]
    data = (FIXTURES / "enrollments.csv").read_bytes()
    stream = io.BytesIO(data) if seekable else io.BufferedReader(OneWay(data))
    rows, errors, _, _ = read(importer, "enrollments.csv", oneroster.Settings(), stream=stream)
    assert pick(rows, "row", "student_id", "teacher_id", "class_id", "school_code", "school_year") == ENROLLMENT_ROWS
    assert errors == ENROLLMENT_ERRORS


def test_enrollments_use_the_roster_prefix_and_school_codes():
    importer = oneroster.register_assessment_importers()[0]
    settings = oneroster.Settings(id_prefix="d7", school_codes={"sch-1": "43694274300001"})
    rows, _, _, _ = read(importer, "enrollments.csv", settings)
    assert pick(rows, "teacher_id", "school_code")[2:] == [("d7-t-kim", "43694274300001"),
                                                           ("d7-t-ruiz", "43694274300001")]
    with pytest.raises(UnusableInput, match="no column 'role'"):
        read(importer, "e.csv", settings, content=b"classSourcedId,schoolSourcedId,userSourcedId\na,b,c\n")


# -- a big file ---------------------------------------------------------------------------------------------
def arrow_peak(path: Path) -> tuple[int, int, int]:
    """(rows, batches, the most bytes Arrow held at once) while the file is read."""
    baseline, peak, batches, rows = pa.total_allocated_bytes(), 0, 0, 0
    with path.open("rb") as stream:
        for batch in assessment_caaspp.StudentScores(block_bytes=1 << 20).read(AssessmentFile("s.csv", stream), None):
            peak = max(peak, pa.total_allocated_bytes() - baseline)
            batches += 1
            rows += batch.rows.num_rows
            assert not batch.errors
            del batch
    return rows, batches, peak


def scores_file(path: Path, schools: int) -> int:
    plan = Plan(tuple(SyntheticSchool(f"01{n:05d}0000000", ("3", "4", "5", "6", "7", "8", "11"), 300)
                      for n in range(1, schools + 1)), (2025,))
    return write_caaspp_scores(path, plan)


def test_a_big_file_is_read_in_many_batches_with_flat_memory(tmp_path):
    small, big = tmp_path / "small.csv", tmp_path / "big.csv"
    assert scores_file(small, 24) == 50_400
    assert scores_file(big, 96) == 201_600
    small_rows, small_batches, small_peak = arrow_peak(small)
    big_rows, big_batches, big_peak = arrow_peak(big)
    assert (small_rows, big_rows) == (50_400, 201_600)
    assert big_batches >= big.stat().st_size // (1 << 20) > small_batches
    # Four times the rows, the same memory: a few blocks at a time, never the file.
    assert big_peak <= small_peak * 1.25
    assert big_peak < 16 * (1 << 20)


def test_columns_the_importer_does_not_use_are_never_read():
    # A name in Latin-1 (as some spreadsheet exports write it): the column is not read, so neither
    # its encoding nor its values matter, and no name is ever in memory as rows.
    lines = (FIXTURES / "caaspp_student_scores.csv").read_bytes().splitlines()
    content = b"\n".join([lines[0] + b",LastName", lines[1] + b",Jos\xe9 N\xfa\xf1ez"]) + b"\n"
    rows, errors, _, batches = read(assessment_caaspp.StudentScores(), "s.csv", content=content)
    assert errors == [] and pick(rows, "row", "student_id") == [(2, "1000000001")]
    assert "LastName" not in batches[0].rows.column_names
