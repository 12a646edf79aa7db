"""Ed-Fi ODS/API StudentAssessment records (Data Standard 3.x-5.x), as a district's ODS returns
them from `/ed-fi/studentAssessments`: a JSON array, or JSON Lines (one record a line). Streamed
with ijson, a few thousand records a batch.

A StudentAssessment carries no demographics (they are StudentSchoolAssociation and
StudentEducationOrganizationAssociation records in Ed-Fi): every flag is false and race/ethnicity
"not reported". Measures by student group need the state extract or a benchmark file with flags.
Fields read: docs/plugins/edfi.md.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Iterator

import ijson
import pyarrow as pa
from copnet import (
    AssessmentBatch,
    AssessmentFile,
    AssessmentRowError,
    PluginSettings,
    UnusableInput,
    hookimpl,
)
from copnet.reflection import columns
from pydantic import Field, field_validator

from copnet_plugins.assessment_csv import (
    EARLIEST_YEAR,
    GRADE_SPELLINGS,
    LATEST_YEAR,
    WINDOW_SPELLINGS,
    in_schema,
)

COPNET_HOOKSPEC_VERSION = 2
COPNET_ENABLED_BY_DEFAULT = True

RECORDS_PER_BATCH = 20_000
# Ed-Fi GradeLevelDescriptor code values -> copnet grades.
GRADE_NAMES = {"kindergarten": "K", "first grade": "1", "second grade": "2", "third grade": "3",
               "fourth grade": "4", "fifth grade": "5", "sixth grade": "6", "seventh grade": "7",
               "eighth grade": "8", "ninth grade": "9", "tenth grade": "10", "eleventh grade": "11",
               "twelfth grade": "12", **{k.lower(): v for k, v in GRADE_SPELLINGS.items()}}
LEVEL_NAMES = {"level 1": 1, "level 2": 2, "level 3": 3, "level 4": 4, "standard not met": 1,
               "standard nearly met": 2, "standard met": 3, "standard exceeded": 4, "1": 1, "2": 2, "3": 3, "4": 4}
SCALE_SCORE = "scale score"
PERCENTILE = "percentile"
MAX_ID = 64


class Settings(PluginSettings):
    """Which copnet test each Ed-Fi assessment is, and windows for administrations without a period."""

    tests: dict[str, str] = Field(
        default_factory=dict, max_length=200,
        description="assessmentIdentifier -> copnet test key (e.g. `sbac-math`, `iready-math`). An assessment "
                    "not listed keeps its identifier, lower-cased, as its test name.")
    school_codes: dict[str, str] = Field(
        default_factory=dict, max_length=10_000,
        description="Ed-Fi schoolId -> the school's code in copnet (its CDS code), where they differ.")
    fall_months: list[int] = Field([8, 9, 10, 11], description="Months of a fall administration (no period given).")
    winter_months: list[int] = Field([12, 1, 2], description="Months of a winter administration.")

    @field_validator("tests")
    @classmethod
    def _tests(cls, value: dict[str, str]) -> dict[str, str]:
        if any(not re.fullmatch(r"[a-z][a-z0-9-]{1,62}", key) for key in value.values()):
            raise ValueError("a test key is 2-63 lower-case letters, digits or '-'")
        return value


class StudentAssessments:
    key = "edfi-student-assessment"
    title = "Ed-Fi StudentAssessment (JSON array or JSON Lines)"
    kind = "student_scores"
    description = ("Ed-Fi ODS/API studentAssessments records: student, school year, assessment, administration "
                   "date, grade, scale score and performance level. No demographics (Ed-Fi keeps them elsewhere).")

    def __init__(self, records_per_batch: int = RECORDS_PER_BATCH):
        self.records_per_batch = records_per_batch

    def read(self, file: AssessmentFile, settings: Settings | None) -> Iterator[AssessmentBatch]:
        settings = settings or Settings()
        stream = file.stream
        first = _first_byte(stream)
        if first == b"[":
            records = ijson.items(stream, "item", use_float=True)
        elif first == b"{":
            records = ijson.items(stream, "", multiple_values=True, use_float=True)
        else:
            raise UnusableInput(f"{file.name}: not Ed-Fi JSON (a JSON array of StudentAssessment records, or one "
                                f"record a line)")
        reader = _Batches(file.name, settings)
        number = 0
        try:
            for record in records:
                number += 1
                reader.add(number, record)
                if reader.size >= self.records_per_batch:
                    yield reader.batch(_position(stream))
        except ijson.JSONError:
            raise UnusableInput(f"{file.name}: record {number + 1} is not readable JSON") from None
        if reader.size or reader.errors or number == 0:
            yield reader.batch(_position(stream))


def _first_byte(stream) -> bytes:
    while True:
        byte = stream.read(1)
        if not byte:
            return b""
        if byte == b"\xef":  # a UTF-8 byte order mark
            stream.read(2)
            continue
        if not byte.isspace():
            stream.seek(stream.tell() - 1)
            return byte


def _position(stream) -> int:
    try:
        return int(stream.tell())
    except (OSError, ValueError):
        return 0


def _descriptor(value) -> str:
    """A descriptor URI's code value ("uri://ed-fi.org/GradeLevelDescriptor#Sixth grade" -> "sixth grade")."""
    return str(value or "").rsplit("#", 1)[-1].strip().lower()


class _Batches:
    """Records turned into columns; a record that cannot be read becomes an error instead."""

    def __init__(self, file_name: str, settings: Settings):
        self.file_name, self.settings = file_name, settings
        self._clear()

    def _clear(self) -> None:
        self.columns: dict[str, list] = {name: [] for name in (
            "row", "student_id", "school_code", "grade", "test", "school_year", "window", "test_date",
            "scale_score", "achievement_level", "percentile")}
        self.errors: list[AssessmentRowError] = []

    @property
    def size(self) -> int:
        return len(self.columns["row"])

    def error(self, number: int, field_name: str, reason: str, message: str) -> None:
        self.errors.append(AssessmentRowError(self.file_name, number, field_name, reason, message))

    def add(self, number: int, record) -> None:
        if not isinstance(record, dict):
            return self.error(number, "", "NOT_A_RECORD", "the item is not a StudentAssessment object")
        student = _text(_get(record, "studentReference", "studentUniqueId"))
        if not student or len(student) > MAX_ID:
            return self.error(number, "studentReference.studentUniqueId", "MISSING",
                              "studentReference.studentUniqueId is missing or longer than 64 characters")
        year = _get(record, "schoolYearTypeReference", "schoolYear")
        if not isinstance(year, int | float) or not EARLIEST_YEAR < int(year) <= LATEST_YEAR:
            return self.error(number, "schoolYearTypeReference.schoolYear", "BAD_TEST_YEAR",
                              "schoolYearTypeReference.schoolYear is not a year")
        grade = GRADE_NAMES.get(_descriptor(record.get("whenAssessedGradeLevelDescriptor")))
        if grade is None:
            return self.error(number, "whenAssessedGradeLevelDescriptor", "UNKNOWN_GRADE",
                              "whenAssessedGradeLevelDescriptor is not a grade (Kindergarten .. Twelfth grade)")
        administered = _date(record.get("administrationDate"))
        if administered is None:
            return self.error(number, "administrationDate", "BAD_DATE",
                              "administrationDate is not a date between 1900 and 2199")
        window = self._window(record, administered)
        if window is None:
            return self.error(number, "period.assessmentPeriodDescriptor", "UNKNOWN_WINDOW",
                              "period.assessmentPeriodDescriptor is not a window (fall, winter, spring; BOY, MOY, EOY)")
        results = {_descriptor(r.get("assessmentReportingMethodDescriptor")): r.get("result")
                   for r in record.get("scoreResults") or [] if isinstance(r, dict)}
        score = _number(results.get(SCALE_SCORE))
        if score is None:
            return self.error(number, "scoreResults", "MISSING",
                              "scoreResults has no numeric 'Scale score' result")
        level = None
        for performance in record.get("performanceLevels") or []:
            if isinstance(performance, dict):
                level = LEVEL_NAMES.get(_descriptor(performance.get("performanceLevelDescriptor")), level)
        identifier = _text(_get(record, "assessmentReference", "assessmentIdentifier"))
        test = self.settings.tests.get(identifier) or re.sub(r"[^a-z0-9-]+", "-", identifier.lower()).strip("-")
        if not test:
            return self.error(number, "assessmentReference.assessmentIdentifier", "MISSING",
                              "assessmentReference.assessmentIdentifier is missing")
        school = _text(_get(record, "reportedSchoolReference", "schoolId") or _get(record, "schoolReference", "schoolId"))
        school = self.settings.school_codes.get(school, school)
        if re.fullmatch(r"\d{13}", school):
            school = school.zfill(14)
        spring = int(year)
        values = {"row": number, "student_id": student, "school_code": school, "grade": grade, "test": test,
                  "school_year": f"{spring - 1}-{spring % 100:02d}", "window": window, "test_date": administered,
                  "scale_score": score, "achievement_level": level, "percentile": _number(results.get(PERCENTILE))}
        for name, value in values.items():
            self.columns[name].append(value)
        return None

    def _window(self, record, administered: dt.date) -> str | None:
        period = _descriptor(_get(record, "period", "assessmentPeriodDescriptor"))
        if period:
            return WINDOW_SPELLINGS.get(re.sub(r"\s+\d{4}(-\d{2,4})?$", "", period))
        if administered.month in self.settings.fall_months:
            return "fall"
        if administered.month in self.settings.winter_months:
            return "winter"
        return "spring"

    def batch(self, bytes_read: int) -> AssessmentBatch:
        length = self.size
        schema = columns.STUDENT_SCORES
        arrays = {name: pa.array(values, schema.field(name).type) for name, values in self.columns.items()}
        for flag in ("english_learner", "disability", "economically_disadvantaged", "foster", "homeless"):
            arrays[flag] = pa.array([False] * length, pa.bool_())
        arrays["race_ethnicity"] = pa.array(["race_not_reported"] * length, pa.string())
        batch = AssessmentBatch(in_schema(arrays, schema, length), sorted(self.errors, key=lambda e: e.row), bytes_read)
        self._clear()
        return batch


def _get(record: dict, reference_name: str, key: str):
    value = record.get(reference_name)
    return value.get(key) if isinstance(value, dict) else None


def _text(value) -> str:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip() if value is not None else ""


def _number(value) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _date(value) -> dt.date | None:
    try:
        day = dt.date.fromisoformat(str(value)[:10])
    except ValueError:
        return None
    return day if EARLIEST_YEAR <= day.year <= LATEST_YEAR else None


@hookimpl
def register_assessment_importers():
    return [StudentAssessments()]
