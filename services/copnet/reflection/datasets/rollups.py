"""Roll-ups kept on import, so no read of a measure scans student rows: one DuckDB pass over a data
set's students.parquet gives its MEASURE_CELLS, TEACHER_CELLS and GROWTH_CELLS, as sums.

Two steps, each a GROUP BY in DuckDB: first every student counts once per student group family
(all students, and their group in each family of reference.FAMILIES) at their school and grade;
then those school-level sums add up to the district, county office and region, and over grades
("all"), with GROUPING SETS. Sums compose (a district's sum is its schools'), so the second step
reads thousands of rows, not millions.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import duckdb
import pyarrow as pa

from copnet.reflection import columns, reference

LEVELS = (("school", "school_id"), ("district", "district_id"), ("county_office", "county_office_id"),
          ("region", "region_id"))
# The flag column behind each yes/no family (its first group is "yes"); race_ethnicity is its own value.
FAMILY_COLUMNS = {"english_learner": "english_learner", "disability": "disability",
                  "economic": "economically_disadvantaged", "foster": "foster", "homeless": "homeless"}


def quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def group_list(prefix: str = "") -> str:
    """A DuckDB list of a row's student groups: all students, then one per family."""
    expressions = [literal(reference.ALL_STUDENTS)]
    for family in reference.FAMILIES:
        if family.key in FAMILY_COLUMNS:
            yes, no = family.groups
            expressions.append(f"CASE WHEN {prefix}{quoted(FAMILY_COLUMNS[family.key])} THEN {literal(yes)} "
                               f"ELSE {literal(no)} END")
        else:
            expressions.append(f"{prefix}{quoted(family.key)}")
    return "[" + ", ".join(expressions) + "]"


def connection(spill_directory: Path | None = None) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB, its threads and memory bounded; beyond, it spills to `spill_directory`
    (the store's, on its volume: the service's own filesystem may be read-only)."""
    config = {"threads": 2, "memory_limit": "1GB"}
    if spill_directory is not None:
        config["temp_directory"] = str(spill_directory)
    return duckdb.connect(config=config)


def parquet(path: Path | Sequence[Path]) -> str:
    paths = [path] if isinstance(path, Path) else list(path)
    return "read_parquet([" + ", ".join(literal(str(p)) for p in paths) + "])"


def _first_step(source: str, keys: Sequence[str], sums: Sequence[tuple[str, str]],
                extra: Sequence[str] = (), *, by_group: bool = True) -> str:
    """SQL: `source` (a row per student and group with the level ids, `grade`, `student_group`,
    `keys` and what `sums` add up) summed per school-level cell (and `extra` columns)."""
    group_columns = ", ".join([*(column for _, column in LEVELS), *extra, "grade",
                               *(["student_group"] if by_group else []), *(quoted(k) for k in keys)])
    first = ", ".join(f"{expression} AS {quoted(name)}" for name, expression in sums)
    return f"SELECT {group_columns}, {first} FROM ({source}) GROUP BY {group_columns}"


def _second_step(school_level: str, keys: Sequence[str], sums: Sequence[tuple[str, str]]) -> str:
    """SQL: school-level sums added up to every organization level, per grade and over grades ("all")."""
    key_list = ", ".join(quoted(k) for k in keys)
    second = ", ".join(f"sum({quoted(name)}) AS {quoted(name)}" for name, _ in sums)
    sets = ", ".join(f"({column}, grade, student_group, {key_list}), ({column}, student_group, {key_list})"
                     for _, column in LEVELS)
    organization = "CASE " + " ".join(f"WHEN GROUPING({column}) = 0 THEN {column}" for _, column in LEVELS) + " END"
    level = "CASE " + " ".join(f"WHEN GROUPING({column}) = 0 THEN {literal(name)}" for name, column in LEVELS) + " END"
    return (f"SELECT * FROM (SELECT {organization} AS organization_id, {level} AS level, student_group, "
            f"CASE WHEN GROUPING(grade) = 0 THEN grade ELSE {literal(reference.ALL_GRADES)} END AS grade, "
            f"{key_list}, {second} FROM ({school_level}) GROUP BY GROUPING SETS ({sets})) "
            "WHERE organization_id IS NOT NULL AND organization_id <> ''")


SCORE_SUMS = (
    ("students", "count(*)"),
    ("scale_sum", "sum(scale_score)"),
    ("scale_square_sum", "sum(scale_score * scale_score)"),
    ("level_1", "count_if(achievement_level = 1)"),
    ("level_2", "count_if(achievement_level = 2)"),
    ("level_3", "count_if(achievement_level = 3)"),
    ("level_4", "count_if(achievement_level = 4)"),
    ("dfs_students", "count(distance_from_standard)"),
    ("dfs_sum", "coalesce(sum(distance_from_standard), 0)"),
)
SCORE_KEYS = ("test", "school_year", "window")


def _cast(table: pa.Table, schema: pa.Schema) -> pa.Table:
    return table.select(schema.names).cast(schema)


def _with_groups(source: str, columns_list: str = "*") -> str:
    return f"SELECT {columns_list}, unnest({group_list()}) AS student_group FROM {source}"


TEACHER_SUMS = (*SCORE_SUMS,
                ("outcome_sum", "sum(coalesce(distance_from_standard, scale_score))"),
                ("outcome_square_sum", "sum(coalesce(distance_from_standard, scale_score) ** 2)"))


def measure_and_teacher_cells(con: duckdb.DuckDBPyConnection, students: Path,
                              enrollments: Sequence[Path] = ()) -> tuple[pa.Table, pa.Table]:
    """MEASURE_CELLS (every level, group, grade and "all") and TEACHER_CELLS of one data set's
    students, from one scan: per school, teacher, grade and group first, then summed both ways.

    Teacher cells are per grade (never "all": a reader sums a teacher's grades, and a teacher's
    cells are the largest roll-up there is). A student counts for the score file's teacher_id
    where it has one, else for every teacher a READY enrollment gives them (in the row's school
    year, or in any year where the enrollment names none).
    """
    # Students alike in every key and flag first (a million rows become some tens of thousands),
    # then each of those counted once per student group: the sums add up the same, 7 times fewer rows.
    flags = [*(quoted(c) for c in FAMILY_COLUMNS.values()), "race_ethnicity"]
    alike = _first_step(f"SELECT * FROM {parquet(students)}", SCORE_KEYS, TEACHER_SUMS, ["teacher_id", *flags], by_group=False)
    summed = [(name, f"sum({quoted(name)})") for name, _ in TEACHER_SUMS]
    con.execute(f"CREATE OR REPLACE TEMP TABLE school_teacher AS "
                f"{_first_step(_with_groups(f'({alike})'), SCORE_KEYS, summed, ['teacher_id'])}")
    try:
        measures = con.sql(_second_step("SELECT * FROM school_teacher", SCORE_KEYS, SCORE_SUMS)).to_arrow_table()
        key_list = ", ".join(quoted(k) for k in SCORE_KEYS)
        sums = ", ".join(f"sum({quoted(name)}) AS {quoted(name)}" for name, _ in TEACHER_SUMS)
        teachers = (f"SELECT teacher_id, school_id, student_group, grade, {key_list}, {sums} FROM school_teacher "
                    "WHERE teacher_id IS NOT NULL AND teacher_id <> '' GROUP BY ALL")
        if enrollments:
            enrolled = (f"SELECT DISTINCT s.* EXCLUDE (teacher_id), e.teacher_id FROM {parquet(students)} s "
                        f"JOIN {parquet(enrollments)} e ON e.pseudonym = s.pseudonym "
                        "AND (e.school_year IS NULL OR e.school_year = s.school_year) "
                        "WHERE s.teacher_id IS NULL OR s.teacher_id = ''")
            first = ", ".join(f"{expression} AS {quoted(name)}" for name, expression in TEACHER_SUMS)
            teachers += (f" UNION ALL SELECT teacher_id, school_id, student_group, grade, {key_list}, {first} "
                         f"FROM ({_with_groups(f'({enrolled})')}) GROUP BY ALL")
        teacher_table = con.sql(teachers).to_arrow_table()
    finally:
        con.execute("DROP TABLE IF EXISTS school_teacher")
    return _cast(measures, columns.MEASURE_CELLS), _cast(teacher_table, columns.TEACHER_CELLS)


def measure_cells(con: duckdb.DuckDBPyConnection, students: Path) -> pa.Table:
    """MEASURE_CELLS of one data set's students (every level, group, grade and "all")."""
    return measure_and_teacher_cells(con, students)[0]


def teacher_cells(con: duckdb.DuckDBPyConnection, students: Path, enrollments: Sequence[Path]) -> pa.Table:
    """TEACHER_CELLS of one data set's students (see `measure_and_teacher_cells`)."""
    return measure_and_teacher_cells(con, students, enrollments)[1]


def period(prefix: str) -> str:
    """A sortable period of a row: its school year's start and its window's place."""
    windows = " ".join(f"WHEN {literal(w)} THEN {n}" for n, w in enumerate(reference.WINDOWS))
    return f"(left({prefix}school_year, 4)::INTEGER * 10 + CASE {prefix}\"window\" {windows} END)"


GROWTH_SUMS = (("students", "count(*)"), ("change_sum", "sum(change)"),
               ("change_square_sum", "sum(change * change)"))
GROWTH_KEYS = ("test", "from_school_year", "from_window", "to_school_year", "to_window")


def growth_cells(con: duckdb.DuckDBPyConnection, earlier: Path, later: Path) -> pa.Table:
    """GROWTH_CELLS of the students in both files (same pseudonym and test), between every period
    of `earlier` and every later period of `later` (the same file for growth within one data
    set), grouped by the later row's school, group and grade."""
    later_columns = ", ".join(f"b.{quoted(c)}" for c in (
        "school_id", "district_id", "county_office_id", "region_id", "grade", "test", *FAMILY_COLUMNS.values(),
        "race_ethnicity"))
    pairs = (f"SELECT {later_columns}, a.school_year AS from_school_year, a.\"window\" AS from_window, "
             f"b.school_year AS to_school_year, b.\"window\" AS to_window, b.scale_score - a.scale_score AS change "
             f"FROM {parquet(earlier)} a JOIN {parquet(later)} b ON a.pseudonym = b.pseudonym AND a.test = b.test "
             f"AND {period('a.')} < {period('b.')}")
    school_level = _first_step(_with_groups(f"({pairs})"), GROWTH_KEYS, GROWTH_SUMS)
    cells = con.sql(f"{_second_step(school_level, GROWTH_KEYS, GROWTH_SUMS)} ORDER BY ALL").to_arrow_table()
    return _cast(cells, columns.GROWTH_CELLS)


def growth_between(con: duckdb.DuckDBPyConnection, one: Path, other: Path) -> pa.Table:
    """Growth of the students of two data sets, in both directions (whichever file has the earlier period)."""
    return pa.concat_tables([growth_cells(con, one, other), growth_cells(con, other, one)])
