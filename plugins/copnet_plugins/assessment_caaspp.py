"""California's state summative (CAASPP) files: the Student Score Data File a district downloads
for its students (`caaspp-student-scores`) and the public research file of aggregate results, the
state and county baseline (`caaspp-research-file`). Mathematics only: rows of other tests (ELA,
science) are skipped without an error. The columns are listed in docs/plugins/caaspp.md.
"""

from __future__ import annotations

from collections.abc import Iterator

import pyarrow as pa
import pyarrow.compute as pc
from copnet import AssessmentBatch, AssessmentFile, PluginSettings, hookimpl
from copnet.reflection import columns, reference

from copnet_plugins.assessment_csv import (
    BLOCK_BYTES,
    RACE_CODES,
    Problems,
    achievement_level,
    as_date,
    as_flag,
    as_grade,
    as_number,
    as_test_year,
    blank,
    cds_code,
    constant,
    csv_blocks,
    in_schema,
    mapped,
    trimmed,
)

COPNET_HOOKSPEC_VERSION = 2
COPNET_ENABLED_BY_DEFAULT = True

# -- the Student Score Data File ------------------------------------------------------------------
STUDENT_ID, GRADE, TEST_YEAR, CDS, SCALE, LEVEL = ("SSID", "GradeAssessed", "TestYear", "CDSCode", "ScaleScore",
                                                   "AchievementLevel")
SUBJECT, TEST_DATE, TEACHER = "ContentArea", "TestCompletedDate", "TeacherID"
FLAGS = {"EnglishLearner": "english_learner", "StudentsWithDisabilities": "disability",
         "EconomicallyDisadvantaged": "economically_disadvantaged", "FosterYouth": "foster",
         "HomelessYouth": "homeless"}
RACE = "ReportingEthnicity"
STUDENT_REQUIRED = (STUDENT_ID, GRADE, TEST_YEAR, CDS, SCALE, *FLAGS, RACE)
# Other spellings of the same columns seen in district extracts.
STUDENT_ALIASES = {
    STUDENT_ID: ("StatewideStudentIdentifier", "Statewide Student Identifier", "SSID Number"),
    GRADE: ("Grade", "Grade Assessed", "GradeLevelWhenAssessed"),
    TEST_YEAR: ("Test Year", "AdministrationYear"),
    CDS: ("CDS Code", "SchoolCDSCode", "CALPADSSchoolCode"),
    SCALE: ("Scale Score", "ScaleScoreValue"),
    LEVEL: ("Achievement Level", "AchievementLevelValue", "ScaleScoreAchievementLevel"),
    SUBJECT: ("Content Area", "Subject", "TestName"),
    "EnglishLearner": ("EL", "ELStatus", "English Learner"),
    "StudentsWithDisabilities": ("SWD", "IDEAIndicator", "DisabilityStatus"),
    "EconomicallyDisadvantaged": ("SED", "EconomicDisadvantageStatus", "SocioeconomicallyDisadvantaged"),
    "FosterYouth": ("Foster", "FosterStatus"),
    "HomelessYouth": ("Homeless", "HomelessStatus"),
    RACE: ("Race/Ethnicity", "RaceEthnicity", "Ethnicity"),
}
MATH_SUBJECTS = ("math", "mathematics", "ma", "sb math", "smarter balanced math", "2")


class StudentScores:
    key = "caaspp-student-scores"
    title = "CAASPP Student Score Data File (mathematics)"
    kind = "student_scores"
    description = ("California's state summative student score extract: SSID, grade, CDS code, test year, "
                   "scale score and achievement level, with the demographic flags. Rows of other content "
                   "areas are skipped.")
    tests = (reference.SBAC_MATH.key,)

    def __init__(self, block_bytes: int = BLOCK_BYTES):
        self.block_bytes = block_bytes

    def read(self, file: AssessmentFile, settings: PluginSettings | None) -> Iterator[AssessmentBatch]:
        for block in csv_blocks(file.stream, file.name, STUDENT_REQUIRED, aliases=STUDENT_ALIASES,
                                optional=(LEVEL, SUBJECT, TEST_DATE, TEACHER), block_bytes=self.block_bytes):
            table = block.table
            if SUBJECT in table.column_names:
                math = pc.or_(blank(table.column(SUBJECT)), pc.is_in(pc.utf8_lower(trimmed(table.column(SUBJECT))),
                                                                     value_set=pa.array(MATH_SUBJECTS)))
                table, rows = table.filter(math), block.rows.filter(math)
            else:
                rows = block.rows
            yield AssessmentBatch(*student_rows(table, rows, file.name), bytes_read=block.bytes_read)


def student_rows(table: pa.Table, rows: pa.Array, file_name: str) -> tuple[pa.Table, list]:
    problems = Problems(file_name, rows)
    column = table.column
    length = table.num_rows
    out = {
        "row": rows,
        "student_id": trimmed(column(STUDENT_ID)),
        "school_code": cds_code(column(CDS)),
        "grade": as_grade(column(GRADE), problems, GRADE),
        "test": constant(reference.SBAC_MATH.key, length),
        "school_year": as_test_year(column(TEST_YEAR), problems, TEST_YEAR),
        "window": constant("spring", length),
        "scale_score": as_number(column(SCALE), problems, SCALE),
        "race_ethnicity": mapped(column(RACE), RACE_CODES, problems, RACE, "UNKNOWN_RACE_ETHNICITY",
                                 f"{RACE} is not a reporting ethnicity code (0-7, 9) or a CALPADS race code"),
    }
    if TEST_DATE in table.column_names:
        out["test_date"] = as_date(column(TEST_DATE), problems, TEST_DATE)
    if LEVEL in table.column_names:
        out["achievement_level"] = achievement_level(column(LEVEL), problems, LEVEL)
    if TEACHER in table.column_names:
        teacher = trimmed(column(TEACHER))
        out["teacher_id"] = pc.if_else(blank(teacher), pa.scalar(None, pa.string()), teacher)
    for name, target in FLAGS.items():
        out[target] = as_flag(column(name), problems, name)
    # A score the file left blank cannot be measured.
    problems.add(blank(column(SCALE)), SCALE, "MISSING", f"{SCALE} is empty")
    batch = in_schema(out, columns.STUDENT_SCORES, length)
    return batch.filter(problems.good), problems.errors()


# -- the research file -----------------------------------------------------------------------------
COUNTY, DISTRICT, SCHOOL = "County Code", "District Code", "School Code"
GROUP, TEST_ID, TEST_TYPE, R_GRADE, R_YEAR = "Student Group ID", "Test ID", "Test Type", "Grade", "Test Year"
TESTED, MEAN = "Students Tested", "Mean Scale Score"
PERCENTS = {"Percentage Standard Not Met": "percent_level_1", "Percentage Standard Nearly Met": "percent_level_2",
            "Percentage Standard Met": "percent_level_3", "Percentage Standard Exceeded": "percent_level_4"}
MET_AND_ABOVE = "Percentage Standard Met and Above"
RESEARCH_REQUIRED = (COUNTY, DISTRICT, SCHOOL, R_YEAR, GROUP, TEST_ID, R_GRADE, TESTED, MEAN, *PERCENTS)
MATH_TEST_ID = "2"
# Test Type B: the Smarter Balanced summative (other types, e.g. the alternate assessment, skipped).
SUMMATIVE_TYPE = "B"
ALL_GRADES_CODE = "13"
SUPPRESSED = "*"
STATE_CODE = "00"


class ResearchFile:
    key = "caaspp-research-file"
    title = "CAASPP research file (aggregate results, mathematics)"
    kind = "aggregate_results"
    description = ("The public research file of CAASPP results by entity (state, county, district, school), "
                   "student group and grade, caret- or comma-delimited; '*' marks a cell the state suppressed.")
    tests = (reference.SBAC_MATH.key,)

    def __init__(self, block_bytes: int = BLOCK_BYTES):
        self.block_bytes = block_bytes

    def read(self, file: AssessmentFile, settings: PluginSettings | None) -> Iterator[AssessmentBatch]:
        for block in csv_blocks(file.stream, file.name, RESEARCH_REQUIRED, delimiters="^,",
                                optional=(TEST_TYPE, MET_AND_ABOVE), block_bytes=self.block_bytes):
            table = block.table
            kept = pc.and_(pc.equal(trimmed(table.column(TEST_ID)), MATH_TEST_ID),
                           pc.is_in(pc.cast(trimmed(table.column(GROUP)), pa.string()),
                                    value_set=pa.array([str(g) for g in reference.CAASPP_GROUP_IDS])))
            if TEST_TYPE in table.column_names:
                kept = pc.and_(kept, pc.or_(blank(table.column(TEST_TYPE)),
                                            pc.equal(pc.utf8_upper(trimmed(table.column(TEST_TYPE))), SUMMATIVE_TYPE)))
            yield AssessmentBatch(*research_rows(table.filter(kept), block.rows.filter(kept), file.name),
                                  bytes_read=block.bytes_read)


def research_rows(table: pa.Table, rows: pa.Array, file_name: str) -> tuple[pa.Table, list]:
    problems = Problems(file_name, rows)
    column = table.column
    length = table.num_rows
    county, district, school = (_padded(column(name), width, problems, name)
                                for name, width in ((COUNTY, 2), (DISTRICT, 5), (SCHOOL, 7)))
    zero_school, zero_district, zero_county = (pc.equal(school, "0000000"), pc.equal(district, "00000"),
                                               pc.equal(county, "00"))
    level = pc.case_when(pc.make_struct(pc.and_(zero_county, pc.and_(zero_district, zero_school)),
                                        pc.and_(zero_district, zero_school), zero_school),
                         "state", "county", "district", "school")
    code = pc.binary_join_element_wise(county, district, school, "")
    grade_text = trimmed(column(R_GRADE))
    grades = {**{g: g for g in reference.SBAC_MATH.grades}, **{f"0{g}": g for g in reference.SBAC_MATH.grades},
              ALL_GRADES_CODE: reference.ALL_GRADES}
    grade = mapped(grade_text, grades, problems, R_GRADE, "UNKNOWN_GRADE",
                   f"{R_GRADE} is not a tested grade (3-8, 11) or 13 (all grades)")
    groups = reference.CAASPP_GROUP_IDS
    tested = as_number(column(TESTED), problems, TESTED, extra_null=(SUPPRESSED,))
    suppressed = pc.or_(pc.equal(trimmed(column(TESTED)), SUPPRESSED), pc.equal(trimmed(column(MEAN)), SUPPRESSED))
    problems.add(pc.and_(pc.is_valid(tested), pc.not_equal(tested, pc.floor(tested))), TESTED, "NOT_A_COUNT",
                 f"{TESTED} is not a whole number")
    out = {
        "row": rows,
        # As organizations carry them: the state "00", a county office its 2-digit county code,
        # a district or school its 14-digit CDS code.
        "entity_code": pc.case_when(pc.make_struct(pc.equal(level, "state"), pc.equal(level, "county")),
                                    STATE_CODE, county, code),
        "entity_level": level,
        "student_group": pc.take(pa.array(list(groups.values())), pc.index_in(
            trimmed(column(GROUP)), value_set=pa.array([str(g) for g in groups]))),
        "grade": grade,
        "test": constant(reference.SBAC_MATH.key, length),
        "school_year": as_test_year(column(R_YEAR), problems, R_YEAR),
        "students_tested": pc.cast(pc.if_else(suppressed, pa.scalar(None, pa.float64()), tested), pa.int64(),
                                   safe=False),
        "mean_scale_score": _figure(column(MEAN), suppressed, problems, MEAN),
        "suppressed_by_source": suppressed,
    }
    for name, target in PERCENTS.items():
        out[target] = _figure(column(name), suppressed, problems, name)
    if MET_AND_ABOVE in table.column_names:
        out["percent_met_or_exceeded"] = _figure(column(MET_AND_ABOVE), suppressed, problems, MET_AND_ABOVE)
    else:
        out["percent_met_or_exceeded"] = pc.add(out["percent_level_3"], out["percent_level_4"])
    batch = in_schema(out, columns.AGGREGATE_RESULTS, length)
    return batch.filter(problems.good), problems.errors()


def _figure(values: pa.Array, suppressed: pa.Array, problems: Problems, name: str) -> pa.Array:
    number = as_number(values, problems, name, extra_null=(SUPPRESSED,))
    return pc.if_else(suppressed, pa.scalar(None, pa.float64()), number)


def _padded(values: pa.Array, width: int, problems: Problems, name: str) -> pa.Array:
    text = trimmed(values)
    ok = pc.match_substring_regex(text, rf"^\d{{1,{width}}}$")
    problems.add(pc.invert(ok), name, "BAD_CODE", f"{name} is not a code of up to {width} digits")
    return pc.utf8_lpad(text, width, "0")


@hookimpl
def register_assessment_importers():
    return [StudentScores(), ResearchFile()]
