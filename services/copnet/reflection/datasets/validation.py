"""The rules every imported row meets, checked a batch at a time with pyarrow.compute (never row by
row in Python): each rule is a mask over the batch, its bad rows become errors naming the file,
row, field and rule, and the rows that broke none are kept.

Student ids are pseudonymised here, before anything is kept; an error never quotes a student id.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import pyarrow as pa
import pyarrow.compute as pc

from copnet.reflection import columns, reference

# Dates of tests (and anything else dated) lie in [EARLIEST, LATEST), like every instant copnet takes.
EARLIEST_DATE = dt.date(1900, 1, 1)
LATEST_DATE = dt.date(2199, 12, 31)
SCHOOL_YEAR = r"^(19|20|21)\d\d-\d\d$"
# Longest value of a code or id column a row may have (a CDS code has 14 digits).
MAX_CODE_LENGTH = 64

ERRORS = pa.schema([("row", pa.int64()), ("field", pa.string()), ("reason", pa.string()),
                    ("message", pa.string())])


class WrongShape(Exception):
    """The importer's rows are not in its kind's columns: the whole file fails."""


@dataclass(frozen=True)
class Placement:
    """A school and the organizations above it ("" where the tree has none of that level)."""

    school_id: str
    district_id: str
    county_office_id: str
    region_id: str


@dataclass
class OrganizationTree:
    """What an import knows of the organization tree under the data set's organization."""

    # School code -> where the school sits.
    schools: dict[str, Placement] = field(default_factory=dict)
    # "<entity level>|<code>" (county, district, school) -> the organization's id, for aggregate results.
    ids_by_code: dict[str, str] = field(default_factory=dict)
    # Organization id -> (parent id, level) of the organizations of `schools`.
    parents: dict[str, tuple[str, str]] = field(default_factory=dict)


@dataclass
class Checked:
    rows: pa.Table
    errors: pa.Table  # ERRORS


def conform(rows, schema: pa.Schema, file_name: str) -> pa.Table:
    """The importer's batch as a Table in `schema`'s columns and types; WrongShape naming the
    first column missing or of a type that does not convert."""
    table = pa.Table.from_batches([rows]) if isinstance(rows, pa.RecordBatch) else rows
    if not isinstance(table, pa.Table):
        raise WrongShape(f"{file_name}: the importer returned {type(rows).__name__}, not rows in columns")
    arrays = []
    for column in schema:
        if column.name not in table.column_names:
            raise WrongShape(f"{file_name}: the rows have no column {column.name!r}")
        values = table.column(column.name)
        if values.type != column.type:
            try:
                values = values.cast(column.type)
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
                raise WrongShape(f"{file_name}: column {column.name!r} is {values.type}, not {column.type}") from None
        arrays.append(values)
    return pa.Table.from_arrays(arrays, schema=schema)


class Problems:
    """The errors of one batch, gathered rule by rule."""

    def __init__(self, table: pa.Table):
        self.table = table
        self.bad = pa.array([False] * table.num_rows, type=pa.bool_())
        self.parts: list[pa.Table] = []

    def add(self, mask, field_name: str, reason: str, message: str | Callable[[], pa.Array]) -> None:
        """Rows where `mask` holds (null counts as holding not) broke `reason`; `message` is a
        string, or makes a string array over the whole batch (only called when a row broke the rule)."""
        mask = pc.fill_null(mask, False)
        if not pc.any(mask).as_py():
            return
        self.bad = pc.or_kleene(self.bad, mask)
        rows = pc.filter(self.table.column("row"), mask)
        if isinstance(message, str):
            messages = pa.array([message] * len(rows), type=pa.string())
        else:
            messages = pc.filter(message(), mask)
        self.parts.append(pa.table({"row": rows, "field": pa.array([field_name] * len(rows), pa.string()),
                                    "reason": pa.array([reason] * len(rows), pa.string()),
                                    "message": messages.cast(pa.string())}, schema=ERRORS))

    def errors(self) -> pa.Table:
        return pa.concat_tables(self.parts).sort_by([("row", "ascending")]) if self.parts else ERRORS.empty_table()


def blank(values) -> pa.Array:
    """Null or only spaces."""
    return pc.or_kleene(pc.is_null(values), pc.equal(pc.utf8_trim_whitespace(values), ""))


def text(*parts) -> pa.Array:
    """A message per row from literal strings and string columns (nulls shown as 'empty')."""
    pieces = [part if isinstance(part, str) else pc.fill_null(part.cast(pa.string()), "empty") for part in parts]
    return pc.binary_join_element_wise(*pieces, "")


# -- the test scales, as lookup columns ---------------------------------------------------------------
@dataclass(frozen=True)
class ScaleColumns:
    """Per row: the lowest and highest scale score and the levels' minimums (null: no cut scores)."""

    known: pa.Array
    lowest: pa.Array
    highest: pa.Array
    minimums: tuple[pa.Array, pa.Array, pa.Array]


def _scale_keys() -> tuple[list[str], list[tuple[float, float, int, int, int]]]:
    keys, values = [], []
    for test in reference.TESTS.values():
        for grade, scale in (test.scales or {}).items():
            keys.append(f"{test.key}|{grade}")
            values.append((scale.lowest, scale.highest, *scale.level_minimums))
    return keys, values


_KEYS, _VALUES = _scale_keys()


def scale_columns(tests: pa.Array, grades: pa.Array) -> ScaleColumns:
    position = pc.index_in(pc.binary_join_element_wise(tests, grades, "|"), value_set=pa.array(_KEYS, pa.string()))
    known = pc.is_valid(position)

    def looked_up(index: int, default: float | None) -> pa.Array:
        found = pc.take(pa.array([value[index] for value in _VALUES], pa.float64()), position)
        return found if default is None else pc.fill_null(found, default)

    low, high = reference.Test("local", "local", reference.SUBJECT_MATH, None).score_range
    return ScaleColumns(known, looked_up(0, low), looked_up(1, high), (looked_up(2, None), looked_up(3, None),
                                                                      looked_up(4, None)))


def level_from(scores: pa.Array, scales: ScaleColumns) -> pa.Array:
    """The achievement level the cut scores give each score (null without cut scores)."""
    above = [pc.cast(pc.greater_equal(scores, minimum), pa.int8()) for minimum in scales.minimums]
    return pc.add(pc.add(pc.add(pa.scalar(1, pa.int8()), above[0]), above[1]), above[2])


# -- student scores -----------------------------------------------------------------------------------
def check_scores(rows, file_name: str, tree: OrganizationTree, pseudonymise: Callable[[pa.Array], pa.Array],
                 tests: frozenset[str] | None = None) -> Checked:
    """A batch of STUDENT_SCORES rows checked: the good ones as STUDENT_ROWS (pseudonymous, placed in
    the tree, levels derived where the file left them empty), and one error per broken rule.

    `tests`: the only test keys the importer reads (None: any key; one outside reference.TESTS is
    a local benchmark without cut scores). Duplicates are checked over the whole file later
    (`duplicates.py`), not here.
    """
    table = conform(rows, columns.STUDENT_SCORES, file_name)
    problems = Problems(table)
    col = table.column

    student, test, grade = col("student_id"), col("test"), col("grade")
    problems.add(blank(student), "student_id", "STUDENT_ID_MISSING", "student_id is empty")
    problems.add(pc.greater(pc.utf8_length(student), MAX_CODE_LENGTH), "student_id", "STUDENT_ID_TOO_LONG",
                 f"student_id is longer than {MAX_CODE_LENGTH} characters")
    problems.add(blank(test), "test", "TEST_MISSING", "test is empty")
    if tests is not None:
        problems.add(pc.and_kleene(pc.invert(blank(test)), pc.invert(pc.is_in(test, value_set=pa.array(sorted(tests))))),
                     "test", "UNKNOWN_TEST", lambda: text("test ", test, " is not one this importer reads (",
                                                   ", ".join(sorted(tests)), ")"))
    known_test = pc.is_in(test, value_set=pa.array(sorted(reference.TESTS), pa.string()))
    grade_known = pc.is_in(grade, value_set=pa.array(reference.GRADES))
    problems.add(pc.invert(grade_known), "grade", "UNKNOWN_GRADE",
                 lambda: text("grade ", grade, " is not a grade (K, 1 .. 12)"))
    scales = scale_columns(test, grade)
    problems.add(pc.and_kleene(pc.and_kleene(known_test, grade_known), pc.invert(scales.known)), "grade", "GRADE_NOT_TESTED",
                 lambda: text("grade ", grade, " is not a grade of test ", test))

    year = col("school_year")
    years_ok = pc.fill_null(pc.match_substring_regex(year, SCHOOL_YEAR), False)
    start = pc.cast(pc.utf8_slice_codeunits(pc.if_else(years_ok, year, "1900-01"), 0, 4), pa.int32())
    end = pc.cast(pc.utf8_slice_codeunits(pc.if_else(years_ok, year, "1900-01"), 5, 7), pa.int32())
    consecutive = pc.equal(pc.remainder(pc.add(start, 1), 100), end)
    problems.add(pc.invert(pc.and_kleene(years_ok, consecutive)), "school_year", "INVALID_SCHOOL_YEAR",
                 lambda: text("school_year ", year, " is not a school year such as 2024-25"))
    window = col("window")
    problems.add(pc.invert(pc.is_in(window, value_set=pa.array(reference.WINDOWS))), "window", "UNKNOWN_WINDOW",
                 lambda: text("window ", window, " is not one of ", ", ".join(reference.WINDOWS)))
    dates = col("test_date")
    problems.add(pc.or_kleene(pc.less(dates, pa.scalar(EARLIEST_DATE)), pc.greater(dates, pa.scalar(LATEST_DATE))),
                 "test_date", "DATE_OUT_OF_RANGE", lambda: text("test_date ", dates, " is not between 1900 and 2199"))

    score = col("scale_score")
    problems.add(pc.is_null(score), "scale_score", "SCALE_SCORE_MISSING", "scale_score is empty")
    outside = pc.or_kleene(pc.or_kleene(pc.less(score, scales.lowest), pc.greater(score, scales.highest)), pc.is_nan(score))
    problems.add(pc.and_kleene(pc.is_valid(score), outside), "scale_score", "SCALE_SCORE_OUT_OF_RANGE",
                 lambda: text("scale_score ", score, " is outside ", pc.cast(scales.lowest, pa.int64()), "-",
                      pc.cast(scales.highest, pa.int64()), " for grade ", grade, " of ", test))
    given = col("achievement_level")
    problems.add(pc.or_kleene(pc.less(given, 1), pc.greater(given, 4)), "achievement_level", "INVALID_ACHIEVEMENT_LEVEL",
                 lambda: text("achievement_level ", given, " is not 1-4"))
    derived = level_from(score, scales)
    level_valid = pc.and_kleene(pc.greater_equal(given, 1), pc.less_equal(given, 4))
    problems.add(pc.and_kleene(pc.and_kleene(level_valid, pc.invert(outside)), pc.not_equal(given, derived)),
                 "achievement_level", "ACHIEVEMENT_LEVEL_INCONSISTENT",
                 lambda: text("achievement_level ", given, " does not match scale_score ", score, " (level ", derived,
                      " by the cut scores of grade ", grade, ")"))
    percentile = col("percentile")
    problems.add(pc.or_kleene(pc.less(percentile, 0), pc.greater(percentile, 100)), "percentile",
                 "PERCENTILE_OUT_OF_RANGE", lambda: text("percentile ", percentile, " is not between 0 and 100"))
    problems.add(pc.greater(pc.utf8_length(col("teacher_id")), MAX_CODE_LENGTH), "teacher_id",
                 "TEACHER_ID_TOO_LONG", f"teacher_id is longer than {MAX_CODE_LENGTH} characters")
    race = pc.fill_null(col("race_ethnicity"), "race_not_reported")
    problems.add(pc.invert(pc.is_in(race, value_set=pa.array(reference.RACE_ETHNICITIES))), "race_ethnicity",
                 "UNKNOWN_RACE_ETHNICITY", lambda: text("race_ethnicity ", race, " is not one of ",
                                                ", ".join(reference.RACE_ETHNICITIES)))
    placement = place(col("school_code"), tree)
    problems.add(blank(col("school_code")), "school_code", "SCHOOL_CODE_MISSING", "school_code is empty")
    problems.add(pc.and_kleene(pc.invert(blank(col("school_code"))), pc.is_null(placement["school_id"])), "school_code",
                 "UNKNOWN_SCHOOL", lambda: text("school_code ", col("school_code"),
                                        " is not the code of a school in the organization tree"))

    good = pc.invert(problems.bad)
    level = pc.if_else(pc.is_valid(given), given, derived)
    kept = {
        "pseudonym": pseudonymise(pc.filter(student, good)),
        **{name: pc.filter(placement[name], good) for name in ("school_id", "district_id", "county_office_id",
                                                               "region_id")},
        "grade": pc.filter(grade, good), "test": pc.filter(test, good), "school_year": pc.filter(year, good),
        "window": pc.filter(window, good), "test_date": pc.filter(dates, good), "scale_score": pc.filter(score, good),
        "achievement_level": pc.filter(level.cast(pa.int8()), good),
        "distance_from_standard": pc.filter(pc.subtract(score, scales.minimums[1]), good),
        "percentile": pc.filter(percentile, good), "proficiency_band": pc.filter(col("proficiency_band"), good),
        "teacher_id": pc.filter(pc.utf8_trim_whitespace(col("teacher_id")), good),
        **{flag: pc.filter(pc.fill_null(col(flag), False), good)
           for flag in ("english_learner", "disability", "economically_disadvantaged", "foster", "homeless")},
        "race_ethnicity": pc.filter(race, good), "row": pc.filter(col("row"), good),
    }
    return Checked(pa.table(kept, schema=columns.STUDENT_ROWS), problems.errors())


def place(codes: pa.Array, tree: OrganizationTree) -> Mapping[str, pa.Array]:
    """Each code's school and the organizations above it (null where no school has the code)."""
    known = list(tree.schools)
    position = pc.index_in(pc.utf8_trim_whitespace(codes), value_set=pa.array(known, pa.string()))
    placements = [tree.schools[code] for code in known]
    return {name: pc.take(pa.array([getattr(p, name) for p in placements], pa.string()), position)
            for name in ("school_id", "district_id", "county_office_id", "region_id")}


# -- class enrollments --------------------------------------------------------------------------------
def check_enrollments(rows, file_name: str, tree: OrganizationTree,
                      pseudonymise: Callable[[pa.Array], pa.Array]) -> Checked:
    """CLASS_ENROLLMENTS rows as ENROLLMENTS: a student, a teacher, a class, a school in the tree."""
    table = conform(rows, columns.CLASS_ENROLLMENTS, file_name)
    problems = Problems(table)
    col = table.column
    problems.add(blank(col("student_id")), "student_id", "STUDENT_ID_MISSING", "student_id is empty")
    problems.add(blank(col("teacher_id")), "teacher_id", "TEACHER_ID_MISSING", "teacher_id is empty")
    for name in ("student_id", "teacher_id", "class_id"):
        problems.add(pc.greater(pc.utf8_length(col(name)), MAX_CODE_LENGTH), name, f"{name.upper()}_TOO_LONG",
                     f"{name} is longer than {MAX_CODE_LENGTH} characters")
    year = col("school_year")
    problems.add(pc.and_kleene(pc.is_valid(year), pc.invert(pc.fill_null(pc.match_substring_regex(year, SCHOOL_YEAR),
                                                                    False))),
                 "school_year", "INVALID_SCHOOL_YEAR", lambda: text("school_year ", year, " is not a school year such as 2024-25"))
    placement = place(col("school_code"), tree)
    problems.add(blank(col("school_code")), "school_code", "SCHOOL_CODE_MISSING", "school_code is empty")
    problems.add(pc.and_kleene(pc.invert(blank(col("school_code"))), pc.is_null(placement["school_id"])), "school_code",
                 "UNKNOWN_SCHOOL", lambda: text("school_code ", col("school_code"),
                                        " is not the code of a school in the organization tree"))
    good = pc.invert(problems.bad)
    kept = {"pseudonym": pseudonymise(pc.filter(col("student_id"), good)),
            "teacher_id": pc.filter(pc.utf8_trim_whitespace(col("teacher_id")), good),
            "class_id": pc.filter(col("class_id"), good), "school_id": pc.filter(placement["school_id"], good),
            "school_year": pc.filter(year, good)}
    return Checked(pa.table(kept, schema=columns.ENROLLMENTS), problems.errors())


# -- aggregate results --------------------------------------------------------------------------------
ENTITY_LEVELS = ("state", "county", "district", "school")


def check_aggregates(rows, file_name: str, tree: OrganizationTree) -> Checked:
    """AGGREGATE_RESULTS rows kept with the organization whose code is the entity code ("" when
    none is: the state, other counties)."""
    table = conform(rows, columns.AGGREGATE_RESULTS, file_name)
    problems = Problems(table)
    col = table.column
    problems.add(blank(col("entity_code")), "entity_code", "ENTITY_CODE_MISSING", "entity_code is empty")
    problems.add(pc.invert(pc.is_in(col("entity_level"), value_set=pa.array(ENTITY_LEVELS))), "entity_level",
                 "UNKNOWN_ENTITY_LEVEL", lambda: text("entity_level ", col("entity_level"), " is not one of ",
                                              ", ".join(ENTITY_LEVELS)))
    problems.add(pc.invert(pc.is_in(col("student_group"), value_set=pa.array(reference.STUDENT_GROUPS))),
                 "student_group", "UNKNOWN_STUDENT_GROUP", lambda: text("student_group ", col("student_group"),
                                                                " is not a student group copnet knows"))
    grades = pa.array([*reference.GRADES, reference.ALL_GRADES])
    problems.add(pc.invert(pc.is_in(col("grade"), value_set=grades)), "grade", "UNKNOWN_GRADE",
                 lambda: text("grade ", col("grade"), " is not a grade (K, 1 .. 12, all)"))
    problems.add(blank(col("test")), "test", "TEST_MISSING", "test is empty")
    problems.add(pc.invert(pc.fill_null(pc.match_substring_regex(col("school_year"), SCHOOL_YEAR), False)),
                 "school_year", "INVALID_SCHOOL_YEAR",
                 lambda: text("school_year ", col("school_year"), " is not a school year such as 2024-25"))
    problems.add(pc.less(col("students_tested"), 0), "students_tested", "NEGATIVE_COUNT",
                 "students_tested is negative")
    for name in ("percent_level_1", "percent_level_2", "percent_level_3", "percent_level_4",
                 "percent_met_or_exceeded"):
        problems.add(pc.or_kleene(pc.less(col(name), 0), pc.greater(col(name), 100)), name, "PERCENT_OUT_OF_RANGE",
                     lambda name=name: text(name, " ", col(name), " is not between 0 and 100"))
    good = pc.invert(problems.bad)
    codes = list(tree.ids_by_code)
    keys = pc.binary_join_element_wise(col("entity_level"), pc.utf8_trim_whitespace(col("entity_code")), "|")
    position = pc.index_in(keys, value_set=pa.array(codes, pa.string()))
    organization = pc.fill_null(pc.take(pa.array([tree.ids_by_code[c] for c in codes], pa.string()), position), "")
    kept = pc.filter(table.append_column("organization_id", organization), good)
    return Checked(kept, problems.errors())
