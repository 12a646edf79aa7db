"""Synthetic assessment files: made-up students of given schools with realistic student-group
proportions, realistic gaps between groups, growth across windows and years, scale scores inside
each test's range and achievement levels that match the cut scores. Never real students: ids are
random (`SYN` and digits) and nothing is drawn from real records.

Deterministic: the same seed, schools and years give the same files byte for byte (so the demo
seeded twice imports nothing new). Students are a cohort per school and grade level: the student
in grade 5 in 2024-25 is in grade 6 of the same school in 2025-26, with the same traits, so growth
between years can be measured. Files are written a chunk at a time (pyarrow's CSV writer), so a
file of 10,000,000 rows takes as little memory as one of 1,000.

The files are in the shapes of copnet's importers: `write_caaspp_scores` (caaspp-student-scores),
`write_research_file` (caaspp-research-file, aggregates of the same students), `write_benchmark`
(benchmark-csv with its default column names) and `write_enrollments` (oneroster-enrollments).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from copnet.reflection import reference

# Rows gathered before a chunk is written (a few megabytes of CSV).
CHUNK_ROWS = 50_000
SUPPRESS_BELOW = 11  # the state's own rule in the research file: fewer than 11 students, '*'

# Shares of California's public school students (rounded, recent years), and each group's
# difference in mean achievement in standard deviations (the gaps the state's results show).
RACE_SHARES = {"hispanic": 0.56, "white": 0.20, "asian": 0.10, "african_american": 0.05, "filipino": 0.02,
               "two_or_more": 0.045, "american_indian": 0.005, "pacific_islander": 0.005, "race_not_reported": 0.015}
RACE_EFFECTS = {"hispanic": -0.25, "white": 0.25, "asian": 0.55, "african_american": -0.45, "filipino": 0.25,
                "two_or_more": 0.15, "american_indian": -0.35, "pacific_islander": -0.3, "race_not_reported": 0.0}
FLAG_SHARES = {"english_learner": 0.19, "disability": 0.14, "economically_disadvantaged": 0.60, "foster": 0.005,
               "homeless": 0.03}
FLAG_EFFECTS = {"english_learner": -0.55, "disability": -0.8, "economically_disadvantaged": -0.35, "foster": -0.5,
                "homeless": -0.3}
FLAGS = tuple(FLAG_SHARES)
# The mean of the gaps over all students: taken off, so the whole population averages 0 SD.
MEAN_EFFECT = (sum(FLAG_SHARES[f] * FLAG_EFFECTS[f] for f in FLAGS)
               + sum(RACE_SHARES[r] * RACE_EFFECTS[r] for r in RACE_SHARES) / sum(RACE_SHARES.values()))
# CDE reporting ethnicity codes, as the state extract writes them.
RACE_CODE = {"american_indian": "1", "asian": "2", "pacific_islander": "3", "filipino": "4", "hispanic": "5",
             "african_american": "6", "white": "7", "two_or_more": "9", "race_not_reported": "0"}
# Smarter Balanced: a grade's mean under "standard met" (about a third of students meet it, as in the state).
SBAC_SD = 95.0
SBAC_BELOW_STANDARD = 35.0
# A local benchmark on a 100-800 scale: fall means by grade, a year's typical growth, spread.
BENCHMARK_FALL_MEANS = {"K": 355.0, "1": 395.0, "2": 430.0, "3": 460.0, "4": 482.0, "5": 500.0, "6": 512.0,
                        "7": 522.0, "8": 531.0, "9": 538.0, "10": 544.0, "11": 549.0, "12": 553.0}
BENCHMARK_RANGE = (100.0, 800.0)
BENCHMARK_SD = 32.0
# Share of a year's growth shown by each window.
WINDOW_GROWTH = {"fall": 0.0, "winter": 0.5, "spring": 1.0}
BANDS = ((10, "Two or More Grade Levels Below"), (30, "One Grade Level Below"), (50, "Early On Grade Level"),
         (75, "Mid On Grade Level"), (101, "Above Grade Level"))


@dataclass(frozen=True)
class SyntheticSchool:
    """A school to make students for: its 14-digit CDS code, grades, and how many students a grade has.

    `teachers` (grade -> copnet person ids) splits each grade's students into classes; a teacher
    in `teacher_effects` (in standard deviations) moves their students' scores, e.g. the
    participants of a community of practice."""

    code: str
    grades: tuple[str, ...]
    students_per_grade: int = 100
    teachers: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    teacher_effects: Mapping[str, float] = field(default_factory=dict)

    def __post_init__(self):
        if len(self.code) != 14 or not self.code.isdigit():
            raise ValueError("a school's code is its 14-digit CDS code")
        unknown = [grade for grade in self.grades if grade not in reference.GRADES]
        if unknown:
            raise ValueError(f"not a grade: {unknown[0]!r}")
        if not 0 < self.students_per_grade <= 100_000:
            raise ValueError("students_per_grade is 1..100,000")


def school_year(spring: int) -> str:
    return f"{spring - 1}-{spring % 100:02d}"


def _grade_number(grade: str) -> int:
    return 0 if grade == "K" else int(grade)


def _rng(seed: int, *parts: object) -> np.random.Generator:
    digest = hashlib.sha256("|".join(map(str, (seed, *parts))).encode()).digest()
    return np.random.default_rng(int.from_bytes(digest[:8], "big"))


@dataclass
class Cohort:
    """The students of one school who entered kindergarten in the same year (one grade level a year)."""

    ids: np.ndarray
    flags: dict[str, np.ndarray]
    race: np.ndarray
    ability: np.ndarray   # in standard deviations, group gaps and the school's effect included


def cohort(seed: int, school: SyntheticSchool, entry_year: int) -> Cohort:
    rng = _rng(seed, "cohort", school.code, entry_year)
    n = school.students_per_grade
    ids = np.char.add("SYN", np.char.zfill(rng.integers(0, 10**12, n).astype(str), 12))
    flags = {name: rng.random(n) < share for name, share in FLAG_SHARES.items()}
    # Disadvantage clusters: English learners are more often economically disadvantaged.
    flags["economically_disadvantaged"] |= flags["english_learner"] & (rng.random(n) < 0.5)
    races = np.array(list(RACE_SHARES))
    race = races[rng.choice(len(races), n, p=np.array(list(RACE_SHARES.values())) / sum(RACE_SHARES.values()))]
    school_effect = _rng(seed, "school", school.code).normal(0.0, 0.2)
    ability = rng.normal(0.0, 0.85, n) + school_effect - MEAN_EFFECT
    for name, effect in FLAG_EFFECTS.items():
        ability += np.where(flags[name], effect, 0.0)
    ability += np.vectorize(RACE_EFFECTS.get, otypes=[float])(race)
    return Cohort(ids, flags, race, ability)


def _teachers(school: SyntheticSchool, grade: str, n: int, rng: np.random.Generator) -> np.ndarray:
    names = school.teachers.get(grade, ())
    if not names:
        return np.full(n, None, dtype=object)
    return np.array(names, dtype=object)[rng.permutation(n) % len(names)]


@dataclass(frozen=True)
class Plan:
    """What to make: schools, spring years (2025 is 2024-25) and a seed."""

    schools: tuple[SyntheticSchool, ...]
    years: tuple[int, ...]
    seed: int = 12

    def students(self, grades: Sequence[str] | None = None) -> Iterator[tuple[SyntheticSchool, int, str, Cohort]]:
        """(school, spring year, grade, the cohort in that grade that year), in file order."""
        for school in self.schools:
            for year in self.years:
                for grade in school.grades:
                    if grades is None or grade in grades:
                        yield school, year, grade, cohort(self.seed, school, year - _grade_number(grade))


# -- state summative student scores -------------------------------------------------------------------
def summative_rows(plan: Plan) -> Iterator[pa.Table]:
    """The Smarter Balanced math results of every tested grade, chunk by chunk (copnet's names)."""
    for school, year, grade, group in plan.students(reference.SBAC_MATH.grades):
        scale = reference.SBAC_MATH.scales[grade]
        rng = _rng(plan.seed, "sbac", school.code, year, grade)
        n = len(group.ids)
        teachers = _teachers(school, grade, n, _rng(plan.seed, "classes", school.code, year, grade))
        lift = np.array([school.teacher_effects.get(t, 0.0) if t else 0.0 for t in teachers])
        mean = scale.standard_met - SBAC_BELOW_STANDARD
        scores = np.clip(np.round(mean + SBAC_SD * (group.ability + lift + rng.normal(0.0, 0.35, n))),
                         scale.lowest, scale.highest)
        levels = 1 + sum((scores >= minimum).astype(np.int8) for minimum in scale.level_minimums)
        days = rng.integers(0, 45, n)
        yield _table(group, school, grade, "sbac-math", year, "spring", scores, levels.astype(np.int8),
                     dt.date(year, 4, 15), days, teachers)


def _table(group: Cohort, school: SyntheticSchool, grade: str, test: str, year: int, window: str,
           scores: np.ndarray, levels, first_day: dt.date, days: np.ndarray, teachers: np.ndarray,
           percentiles=None) -> pa.Table:
    n = len(group.ids)
    dates = pa.array(np.datetime64(first_day) + days.astype("timedelta64[D]"), pa.date32())
    columns = {
        "student_id": pa.array(group.ids, pa.string()), "school_code": pa.array([school.code] * n, pa.string()),
        "grade": pa.array([grade] * n, pa.string()), "test": pa.array([test] * n, pa.string()),
        "school_year": pa.array([school_year(year)] * n, pa.string()), "window": pa.array([window] * n, pa.string()),
        "test_date": dates, "scale_score": pa.array(scores, pa.float64()),
        "achievement_level": pa.array(levels, pa.int8()) if levels is not None else pa.nulls(n, pa.int8()),
        "percentile": pa.array(percentiles, pa.float64()) if percentiles is not None else pa.nulls(n, pa.float64()),
        "teacher_id": pa.array(teachers, pa.string()),
        **{name: pa.array(group.flags[name], pa.bool_()) for name in FLAGS},
        "race_ethnicity": pa.array(group.race, pa.string()),
    }
    return pa.table(columns)


# -- a local benchmark --------------------------------------------------------------------------------
def benchmark_rows(plan: Plan, test: str = "benchmark-math",
                   windows: Sequence[str] = reference.WINDOWS) -> Iterator[pa.Table]:
    """A benchmark given in each window of each year to every grade of every school."""
    for school, year, grade, group in plan.students():
        n = len(group.ids)
        teachers = _teachers(school, grade, n, _rng(plan.seed, "classes", school.code, year, grade))
        lift = np.array([school.teacher_effects.get(t, 0.0) if t else 0.0 for t in teachers])
        fall = BENCHMARK_FALL_MEANS[grade]
        following = BENCHMARK_FALL_MEANS.get(str(_grade_number(grade) + 1), fall + 4.0) if grade != "K" \
            else BENCHMARK_FALL_MEANS["1"]
        for window in windows:
            rng = _rng(plan.seed, test, school.code, year, grade, window)
            # Participants' students grow more through the year (their teacher's effect shows by spring).
            progress = WINDOW_GROWTH[window]
            z = group.ability + lift * progress + rng.normal(0.0, 0.3, n)
            mean = fall + (following - fall) * progress
            scores = np.clip(np.round(mean + BENCHMARK_SD * z), *BENCHMARK_RANGE)
            percentiles = np.clip(np.round(100.0 / (1.0 + np.exp(-1.702 * (scores - mean) / BENCHMARK_SD))), 1, 99)
            first_day, spread = {"fall": (dt.date(year - 1, 9, 3), 25), "winter": (dt.date(year, 1, 8), 20),
                                 "spring": (dt.date(year, 5, 1), 24)}[window]
            yield _table(group, school, grade, test, year, window, scores, None, first_day,
                         rng.integers(0, spread, n), teachers, percentiles)


def band_of(percentiles: pa.Array) -> pa.Array:
    conditions = [pc.less(percentiles, bound) for bound, _ in BANDS]
    return pc.case_when(pc.make_struct(*conditions), *[name for _, name in BANDS])


# -- writing files ------------------------------------------------------------------------------------
def _write(target: Path | BinaryIO, tables: Iterator[pa.Table], delimiter: str = ",") -> int:
    """Writes `tables` as one CSV, a chunk at a time; the number of rows written."""
    written, pending, pending_rows, writer = 0, [], 0, None
    handle = open(target, "wb") if isinstance(target, str | Path) else target  # noqa: SIM115 (closed below)
    try:
        for table in tables:
            pending.append(table)
            pending_rows += table.num_rows
            if pending_rows >= CHUNK_ROWS:
                writer = _flush(handle, writer, pending, delimiter)
                written += pending_rows
                pending, pending_rows = [], 0
        if pending or writer is None:
            writer = _flush(handle, writer, pending, delimiter)
            written += pending_rows
        if writer is not None:
            writer.close()
    finally:
        if handle is not target:
            handle.close()
    return written


def _flush(handle, writer, tables: list[pa.Table], delimiter: str):
    if not tables:
        return writer
    table = pa.concat_tables(tables)
    if writer is None:
        writer = pacsv.CSVWriter(handle, table.schema,
                                 write_options=pacsv.WriteOptions(delimiter=delimiter, quoting_style="none"))
    writer.write_table(table)
    return writer


def _yes_no(values: pa.ChunkedArray | pa.Array) -> pa.Array:
    return pc.if_else(values, "Y", "N")


def caaspp_extract(table: pa.Table) -> pa.Table:
    """A chunk in the CAASPP Student Score Data File's columns (docs/plugins/caaspp.md)."""
    race = table.column("race_ethnicity")
    codes = list(RACE_CODE)
    return pa.table({
        "SSID": table.column("student_id"),
        "GradeAssessed": pc.utf8_lpad(table.column("grade"), 2, "0"),
        "TestYear": pc.cast(pc.add(pc.cast(pc.utf8_slice_codeunits(table.column("school_year"), 0, 4), pa.int32()), 1),
                            pa.string()),
        "CDSCode": table.column("school_code"),
        "ContentArea": pa.array(["Math"] * table.num_rows),
        "ScaleScore": pc.cast(table.column("scale_score"), pa.int32()),
        "AchievementLevel": table.column("achievement_level"),
        "TestCompletedDate": table.column("test_date"),
        "TeacherID": table.column("teacher_id"),
        "EnglishLearner": _yes_no(table.column("english_learner")),
        "StudentsWithDisabilities": _yes_no(table.column("disability")),
        "EconomicallyDisadvantaged": _yes_no(table.column("economically_disadvantaged")),
        "FosterYouth": _yes_no(table.column("foster")),
        "HomelessYouth": _yes_no(table.column("homeless")),
        "ReportingEthnicity": pc.take(pa.array([RACE_CODE[c] for c in codes]),
                                      pc.index_in(race, value_set=pa.array(codes))),
    })


def benchmark_export(table: pa.Table) -> pa.Table:
    """A chunk in the benchmark-csv importer's default columns, with the flags under copnet's names."""
    return pa.table({
        "student_id": table.column("student_id"), "school_code": table.column("school_code"),
        "grade": table.column("grade"), "school_year": table.column("school_year"),
        "window": table.column("window"), "date": table.column("test_date"),
        "score": pc.cast(table.column("scale_score"), pa.int32()),
        "percentile": pc.cast(table.column("percentile"), pa.int32()),
        "band": band_of(table.column("percentile")), "teacher_id": table.column("teacher_id"),
        **{name: _yes_no(table.column(name)) for name in FLAGS},
        "race_ethnicity": table.column("race_ethnicity"),
    })


def write_caaspp_scores(target: Path | BinaryIO, plan: Plan) -> int:
    """A CAASPP Student Score Data File (math) of the plan's students; the rows written."""
    return _write(target, (caaspp_extract(t) for t in summative_rows(plan)))


def write_benchmark(target: Path | BinaryIO, plan: Plan, test: str = "benchmark-math",
                    windows: Sequence[str] = reference.WINDOWS) -> int:
    """A benchmark export (fall, winter and spring of each year); the rows written."""
    return _write(target, (benchmark_export(t) for t in benchmark_rows(plan, test, windows)))


def write_enrollments(target: Path | BinaryIO, plan: Plan, year: int) -> int:
    """A OneRoster enrollments.csv of `year`: each grade's students in their teacher's class (one
    class per teacher and grade), the teachers' own rows included. Teachers are the sourcedIds
    given in the schools' `teachers`; the rows written."""
    def chunks() -> Iterator[pa.Table]:
        for school in plan.schools:
            for grade in school.grades:
                group = cohort(plan.seed, school, year - _grade_number(grade))
                n = len(group.ids)
                teachers = _teachers(school, grade, n, _rng(plan.seed, "classes", school.code, year, grade))
                if not school.teachers.get(grade):
                    continue
                classes = np.array([f"{school.code}-{grade}-{t}" for t in teachers], dtype=object)
                names = school.teachers[grade]
                begin = f"{year - 1}-08-15"
                yield pa.table({
                    "sourcedId": [f"e-{school.code}-{grade}-{t}" for t in names] +
                                 [f"e-{s}-{year}" for s in group.ids.tolist()],
                    "classSourcedId": [f"{school.code}-{grade}-{t}" for t in names] + classes.tolist(),
                    "schoolSourcedId": [school.code] * (len(names) + n),
                    "userSourcedId": list(names) + group.ids.tolist(),
                    "role": ["teacher"] * len(names) + ["student"] * n,
                    "beginDate": [begin] * (len(names) + n),
                    "schoolCode": [school.code] * (len(names) + n),
                })

    return _write(target, chunks())


# -- the research file (aggregates of the same students) ----------------------------------------------
GROUP_IDS = {group: gid for gid, group in reference.CAASPP_GROUP_IDS.items()}
RESEARCH_COLUMNS = ("County Code", "District Code", "School Code", "Filler", "Test Year", "Student Group ID",
                    "Test Type", "Total Tested At Reporting Level", "Total Tested with Scores at Reporting Level",
                    "Grade", "Test ID", "Students Enrolled", "Students Tested", "Mean Scale Score",
                    "Percentage Standard Exceeded", "Percentage Standard Met", "Percentage Standard Met and Above",
                    "Percentage Standard Nearly Met", "Percentage Standard Not Met")


def research_sums(plan: Plan) -> dict[tuple, list[float]]:
    """(entity code, spring year, group, grade code) -> [students, scale sum, level 1..4 counts],
    summed over the state (every school of the plan), counties, districts and schools."""
    sums: dict[tuple, list[float]] = {}
    for table in summative_rows(plan):
        year = int(table.column("school_year")[0].as_py()[:4]) + 1
        code = table.column("school_code")[0].as_py()
        grade = table.column("grade")[0].as_py()
        entities = ("00000000000000", code[:2] + "0" * 12, code[:7] + "0" * 7, code)
        memberships = {"all": pa.array([True] * table.num_rows)}
        for name, (yes, no) in {"english_learner": ("el", "not_el"), "disability": ("swd", "not_swd"),
                                "economically_disadvantaged": ("sed", "not_sed"), "foster": ("foster", "not_foster"),
                                "homeless": ("homeless", "not_homeless")}.items():
            memberships[yes] = table.column(name)
            memberships[no] = pc.invert(table.column(name))
        for race in reference.RACE_ETHNICITIES:
            if race in GROUP_IDS:
                memberships[race] = pc.equal(table.column("race_ethnicity"), race)
        for group, mask in memberships.items():
            chosen = table.filter(mask)
            if chosen.num_rows == 0:
                continue
            levels = chosen.column("achievement_level")
            figures = [chosen.num_rows, pc.sum(chosen.column("scale_score")).as_py(),
                       *(pc.sum(pc.equal(levels, level)).as_py() for level in (1, 2, 3, 4))]
            for entity in entities:
                for grade_code in (grade, "13"):
                    key = (entity, year, group, grade_code)
                    current = sums.setdefault(key, [0.0] * 6)
                    for i, value in enumerate(figures):
                        current[i] += value
    return sums


def write_research_file(target: Path | BinaryIO, plan: Plan) -> int:
    """The public research file (caret-delimited) of the plan's students: state, county, district
    and school rows per student group and grade (13: all grades), '*' below 11 students."""
    sums = research_sums(plan)
    handle = open(target, "wb") if isinstance(target, str | Path) else target  # noqa: SIM115 (closed below)
    try:
        handle.write(("^".join(RESEARCH_COLUMNS) + "\n").encode())
        for (entity, year, group, grade), (n, scale_sum, *levels) in sorted(sums.items()):
            handle.write(("^".join(_research_line(entity, year, group, grade, int(n), scale_sum, levels)) +
                          "\n").encode())
    finally:
        if handle is not target:
            handle.close()
    return len(sums)


def _research_line(entity: str, year: int, group: str, grade: str, n: int, scale_sum: float,
                   levels: list[float]) -> list[str]:
    counts = [str(n)] * 2
    if n < SUPPRESS_BELOW:
        figures, counts = ["*"] * 7, ["*"] * 2
    else:
        percents = [100.0 * count / n for count in levels]
        figures = [f"{n}", f"{scale_sum / n:.1f}", f"{percents[3]:.2f}", f"{percents[2]:.2f}",
                   f"{percents[2] + percents[3]:.2f}", f"{percents[1]:.2f}", f"{percents[0]:.2f}"]
    return [entity[:2], entity[2:7], entity[7:], "", str(year), str(GROUP_IDS[group]), "B", *counts, grade, "2",
            counts[0], *figures]
