"""A local benchmark or interim assessment export (i-Ready, MAP Growth, STAR, a district's own):
one CSV row per student and window, read through a column mapping in the plugin's settings so
any vendor's export fits without editing the file. Columns: docs/plugins/benchmark-csv.md.
"""

from __future__ import annotations

from collections.abc import Iterator

import pyarrow as pa
import pyarrow.compute as pc
from copnet import AssessmentBatch, AssessmentFile, PluginSettings, hookimpl
from copnet.reflection import columns, reference
from pydantic import Field, field_validator, model_validator

from copnet_plugins.assessment_csv import (
    BLOCK_BYTES,
    RACE_CODES,
    WINDOW_SPELLINGS,
    Problems,
    achievement_level,
    as_date,
    as_flag,
    as_grade,
    as_number,
    as_window,
    blank,
    constant,
    csv_blocks,
    in_schema,
    mapped,
    school_year_of,
    school_year_setting,
    trimmed,
)

COPNET_HOOKSPEC_VERSION = 2
COPNET_ENABLED_BY_DEFAULT = True

FLAG_FIELDS = ("english_learner", "disability", "economically_disadvantaged", "foster", "homeless")


class Settings(PluginSettings):
    """Which column of the export holds what (header names as written), and what the file does not say."""

    test: str = Field("benchmark-math", pattern=r"^[a-z][a-z0-9-]{1,62}$",
                      description="The test's name in copnet's measures, e.g. `iready-math`, `map-growth-math`.")
    school_year: str = Field("", max_length=7,
                             description="School year of every row (`2024-25`); when given, `school_year_column` "
                                         "is not read.")
    window: str = Field("", description="Window of every row (fall, winter, spring; BOY, MOY, EOY); when given, "
                                        "`window_column` is not read.")
    student_id_column: str = Field("student_id", pattern=r"^[^\x00-\x1f]{1,100}$")
    school_code_column: str = Field("school_code", pattern=r"^[^\x00-\x1f]{1,100}$")
    grade_column: str = Field("grade", pattern=r"^[^\x00-\x1f]{1,100}$")
    score_column: str = Field("score", pattern=r"^[^\x00-\x1f]{1,100}$")
    window_column: str = Field("window", pattern=r"^[^\x00-\x1f]{0,100}$",
                               description="fall/winter/spring (BOY/MOY/EOY, Fall 2024 ...) per row.")
    school_year_column: str = Field("school_year", pattern=r"^[^\x00-\x1f]{0,100}$",
                                    description="School year (2024-25) or spring year (2025) per row.")
    date_column: str = Field("date", pattern=r"^[^\x00-\x1f]{0,100}$",
                             description="Test date; a file without this column has no dates.")
    percentile_column: str = Field("percentile", pattern=r"^[^\x00-\x1f]{0,100}$")
    band_column: str = Field("band", pattern=r"^[^\x00-\x1f]{0,100}$",
                             description="The vendor's proficiency band / placement level, kept as text.")
    level_column: str = Field("", pattern=r"^[^\x00-\x1f]{0,100}$",
                              description="An achievement level 1-4, when the vendor reports one.")
    teacher_column: str = Field("", pattern=r"^[^\x00-\x1f]{0,100}$",
                                description="The copnet person id of the student's teacher. Empty: a `teacher_id` "
                                            "column when the file has one.")
    flag_columns: dict[str, str] = Field(
        default_factory=dict,
        description="Demographic flag columns by copnet field (english_learner, disability, "
                    "economically_disadvantaged, foster, homeless): Yes/No/Y/N/1/0, blank is No. "
                    "A flag not mapped is read from the column of its own name when the file has one, "
                    "else it is No for every row.")
    race_ethnicity_column: str = Field("", pattern=r"^[^\x00-\x1f]{0,100}$",
                                       description="A column of copnet race/ethnicity keys (hispanic, white, ...) or "
                                                   "CDE reporting codes (0-7, 9). Empty: a `race_ethnicity` column "
                                                   "when the file has one, else not reported.")

    @field_validator("school_year")
    @classmethod
    def _school_year(cls, value: str) -> str:
        return school_year_setting(value) if value else value

    @field_validator("window")
    @classmethod
    def _window(cls, value: str) -> str:
        if value and value.strip().lower() not in WINDOW_SPELLINGS:
            raise ValueError("not a window: fall, winter, spring (or BOY, MOY, EOY)")
        return WINDOW_SPELLINGS[value.strip().lower()] if value else value

    @field_validator("flag_columns")
    @classmethod
    def _flags(cls, value: dict[str, str]) -> dict[str, str]:
        unknown = [key for key in value if key not in FLAG_FIELDS]
        if unknown:
            raise ValueError(f"unknown flag {unknown[0]!r}; use one of {', '.join(FLAG_FIELDS)}")
        if any(not 0 < len(name) <= 100 for name in value.values()):
            raise ValueError("a flag column's name is 1-100 characters")
        return value

    @model_validator(mode="after")
    def _year_and_window(self):
        if not self.school_year_column and not self.school_year:
            raise ValueError("give school_year, or school_year_column naming the file's column")
        if not self.window_column and not self.window:
            raise ValueError("give window, or window_column naming the file's column")
        return self


class BenchmarkCsv:
    key = "benchmark-csv"
    title = "Benchmark or interim assessment CSV (column mapping in the settings)"
    kind = "student_scores"
    description = ("A local benchmark/interim export: student id, school code, grade, window, date, score, "
                   "percentile, band, mapped to copnet's columns by the plugin's settings.")

    def __init__(self, block_bytes: int = BLOCK_BYTES):
        self.block_bytes = block_bytes

    def read(self, file: AssessmentFile, settings: Settings | None) -> Iterator[AssessmentBatch]:
        settings = settings or Settings()
        required = [settings.student_id_column, settings.school_code_column, settings.grade_column,
                    settings.score_column, *settings.flag_columns.values(),
                    *(c for c in (settings.level_column, settings.teacher_column, settings.race_ethnicity_column) if c)]
        if not settings.window:
            required.append(settings.window_column)
        if not settings.school_year:
            required.append(settings.school_year_column)
        optional = (settings.date_column, settings.percentile_column, settings.band_column, settings.level_column,
                    settings.teacher_column or "teacher_id", settings.race_ethnicity_column or "race_ethnicity",
                    *FLAG_FIELDS)
        for block in csv_blocks(file.stream, file.name, required, optional=optional, block_bytes=self.block_bytes):
            yield AssessmentBatch(*benchmark_rows(block.table, block.rows, file.name, settings),
                                  bytes_read=block.bytes_read)


def benchmark_rows(table: pa.Table, rows: pa.Array, file_name: str, settings: Settings) -> tuple[pa.Table, list]:
    problems = Problems(file_name, rows)
    column = table.column
    length = table.num_rows
    present = set(table.column_names)
    score_name = settings.score_column
    out = {
        "row": rows,
        "student_id": trimmed(column(settings.student_id_column)),
        "school_code": trimmed(column(settings.school_code_column)),
        "grade": as_grade(column(settings.grade_column), problems, settings.grade_column),
        "test": constant(settings.test, length),
        "scale_score": as_number(column(score_name), problems, score_name),
    }
    problems.add(blank(column(score_name)), score_name, "MISSING", f"{score_name} is empty")
    if not settings.window:
        out["window"] = as_window(column(settings.window_column), problems, settings.window_column)
    else:
        out["window"] = constant(settings.window, length)
    if not settings.school_year:
        year = trimmed(column(settings.school_year_column))
        spring = pc.match_substring_regex(year, r"^\d{4}$")
        good = pc.or_(spring, pc.match_substring_regex(year, r"^\d{4}-\d{2}$"))
        problems.add(pc.invert(good), settings.school_year_column, "BAD_SCHOOL_YEAR",
                     f"{settings.school_year_column} is not a school year (2024-25) or a spring year (2025)")
        as_span = school_year_of(pc.cast(pc.if_else(spring, year, pa.scalar(None, pa.string())), pa.int64()))
        out["school_year"] = pc.if_else(spring, as_span, year)
    else:
        out["school_year"] = constant(settings.school_year, length)
    if settings.date_column in present:
        out["test_date"] = as_date(column(settings.date_column), problems, settings.date_column)
    if settings.percentile_column in present:
        out["percentile"] = as_number(column(settings.percentile_column), problems, settings.percentile_column)
    if settings.band_column in present:
        band = trimmed(column(settings.band_column))
        out["proficiency_band"] = pc.if_else(blank(band), pa.scalar(None, pa.string()), band)
    if settings.level_column:
        out["achievement_level"] = achievement_level(column(settings.level_column), problems, settings.level_column)
    teacher_name = settings.teacher_column or ("teacher_id" if "teacher_id" in present else "")
    if teacher_name:
        teacher = trimmed(column(teacher_name))
        out["teacher_id"] = pc.if_else(blank(teacher), pa.scalar(None, pa.string()), teacher)
    for target in FLAG_FIELDS:
        name = settings.flag_columns.get(target) or (target if target in present else None)
        out[target] = as_flag(column(name), problems, name) if name else constant(False, length, pa.bool_())
    race = settings.race_ethnicity_column or ("race_ethnicity" if "race_ethnicity" in present else "")
    if race:
        codes = {**RACE_CODES, **{key: key for key in reference.RACE_ETHNICITIES}}
        out["race_ethnicity"] = mapped(column(race), codes, problems, race, "UNKNOWN_RACE_ETHNICITY",
                                       f"{race} is not a race/ethnicity copnet knows", lower=True)
    else:
        out["race_ethnicity"] = constant("race_not_reported", length)
    batch = in_schema(out, columns.STUDENT_SCORES, length)
    return batch.filter(problems.good), problems.errors()


@hookimpl
def register_assessment_importers():
    return [BenchmarkCsv()]
