"""Who taught whom, from a OneRoster 1.1 enrollments.csv: each student's enrollment in a class,
paired with the class's teachers in the same file. Registered by the oneroster plugin (its
`id_prefix` makes the teacher ids, the same ones the roster import gave the teachers), so a
region configures the prefix once. Not an entry point of its own.

One import is one file, so the students' teachers must be in it: the file is read twice when it
can be (first the teachers of each class, a small dict; then the students a block at a time),
else the students are held as Arrow columns until the end.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping

import pyarrow as pa
import pyarrow.compute as pc
from copnet import AssessmentBatch, AssessmentFile, AssessmentRowError
from copnet.reflection import columns

from copnet_plugins.assessment_csv import (
    BLOCK_BYTES,
    Problems,
    blank,
    csv_blocks,
    in_schema,
    trimmed,
)

CLASS, SCHOOL, USER, ROLE = "classSourcedId", "schoolSourcedId", "userSourcedId", "role"
STATUS, BEGIN = "status", "beginDate"
SCHOOL_CODE = "schoolCode"
REQUIRED = (CLASS, SCHOOL, USER, ROLE)
ALIASES = {CLASS: ("classsourcedid",), SCHOOL: ("schoolsourcedid",), USER: ("usersourcedid",), ROLE: ("Role",),
           SCHOOL_CODE: ("schoolIdentifier", "school_code")}
TEACHER_ROLE, STUDENT_ROLE = "teacher", "student"


class ClassEnrollments:
    key = "oneroster-enrollments"
    title = "OneRoster 1.1 enrollments.csv (students paired with their class's teachers)"
    kind = "class_enrollments"
    description = ("OneRoster enrollments.csv: each student's class enrollment, paired with the teachers enrolled "
                   "in the same class in the file. Teacher ids are the ones the OneRoster roster import made.")

    def __init__(self, teacher_id_of: Callable[[str], str], school_codes: Mapping[str, str] | None = None,
                 block_bytes: int = BLOCK_BYTES):
        self.teacher_id_of = teacher_id_of
        self.school_codes = dict(school_codes or {})
        self.block_bytes = block_bytes

    def read(self, file: AssessmentFile, settings) -> Iterator[AssessmentBatch]:
        stream = file.stream
        seekable = _seekable(stream)
        start = stream.tell() if seekable else 0
        teachers: dict[str, list[str]] = {}
        held: list[tuple[pa.Table, pa.Array]] = []
        for block in self._blocks(stream, file.name):
            table, rows = block
            role = pc.utf8_lower(trimmed(table.column(ROLE)))
            live = _live(table)
            teacher = pc.and_(pc.equal(role, TEACHER_ROLE), live)
            if pc.any(teacher).as_py():
                pairs = table.filter(teacher)
                for class_id, user in zip(trimmed(pairs.column(CLASS)).to_pylist(),
                                          trimmed(pairs.column(USER)).to_pylist(), strict=True):
                    ids = teachers.setdefault(class_id, [])
                    teacher_id = self.teacher_id_of(user)
                    if teacher_id not in ids:
                        ids.append(teacher_id)
            if not seekable:
                student = pc.and_(pc.equal(role, STUDENT_ROLE), live)
                held.append((table.filter(student), rows.filter(student)))
        if seekable:
            stream.seek(start)
            for table, rows in self._blocks(stream, file.name):
                student = pc.and_(pc.equal(pc.utf8_lower(trimmed(table.column(ROLE))), STUDENT_ROLE), _live(table))
                yield self._paired(table.filter(student), rows.filter(student), teachers, file.name,
                                   _position(stream))
        else:
            for table, rows in held:
                yield self._paired(table, rows, teachers, file.name, _position(stream))

    def _blocks(self, stream, file_name: str) -> Iterator[tuple[pa.Table, pa.Array]]:
        for block in csv_blocks(stream, file_name, REQUIRED, aliases=ALIASES, optional=(STATUS, BEGIN, SCHOOL_CODE),
                                block_bytes=self.block_bytes):
            yield block.table, block.rows

    def _paired(self, students: pa.Table, rows: pa.Array, teachers: dict[str, list[str]], file_name: str,
                bytes_read: int) -> AssessmentBatch:
        problems = Problems(file_name, rows)
        class_ids = trimmed(students.column(CLASS))
        problems.add(blank(students.column(USER)), USER, "MISSING", f"{USER} is empty")
        problems.add(pc.invert(pc.is_in(class_ids, value_set=pa.array(list(teachers), pa.string()))), CLASS,
                     "CLASS_WITHOUT_TEACHER", f"no teacher of this {CLASS} is enrolled in the file")
        school = trimmed(students.column(SCHOOL))
        if self.school_codes:
            codes = list(self.school_codes)
            found = pc.take(pa.array([self.school_codes[c] for c in codes], pa.string()),
                            pc.index_in(school, value_set=pa.array(codes, pa.string())))
            school = pc.coalesce(found, school)
        if SCHOOL_CODE in students.column_names:
            code = trimmed(students.column(SCHOOL_CODE))
            school = pc.if_else(blank(code), school, code)
        year = _school_year(students.column(BEGIN)) if BEGIN in students.column_names else None
        good = problems.good
        kept = {"row": rows, "student_id": trimmed(students.column(USER)), "class_id": class_ids,
                "school_code": school, **({"school_year": year} if year is not None else {})}
        table = in_schema(kept, _SANS_TEACHER, students.num_rows).filter(good)
        # One row per (student, teacher of the class): a class with two teachers gives two rows.
        pairs = pa.table({"class_id": [c for c, ids in teachers.items() for _ in ids],
                          "teacher_id": [t for ids in teachers.values() for t in ids]},
                         schema=pa.schema([("class_id", pa.string()), ("teacher_id", pa.string())]))
        joined = table.join(pairs, "class_id", join_type="inner").sort_by([("row", "ascending"),
                                                                           ("teacher_id", "ascending")])
        return AssessmentBatch(joined.select(columns.CLASS_ENROLLMENTS.names).cast(columns.CLASS_ENROLLMENTS),
                               _without_duplicates(problems.errors()), bytes_read)


_SANS_TEACHER = pa.schema([field for field in columns.CLASS_ENROLLMENTS if field.name != "teacher_id"])


def _live(table: pa.Table) -> pa.Array:
    if STATUS not in table.column_names:
        return pa.array([True] * table.num_rows, pa.bool_())
    return pc.not_equal(pc.utf8_lower(trimmed(table.column(STATUS))), "tobedeleted")


def _school_year(begin: pa.Array) -> pa.Array:
    """The school year a class enrollment begins in (July-December: that year's fall)."""
    text = trimmed(begin)
    dated = pc.match_substring_regex(text, r"^\d{4}-\d{2}-\d{2}")
    year = pc.cast(pc.if_else(dated, pc.utf8_slice_codeunits(text, 0, 4), pa.scalar(None, pa.string())), pa.int64())
    month = pc.cast(pc.if_else(dated, pc.utf8_slice_codeunits(text, 5, 7), pa.scalar(None, pa.string())), pa.int64())
    fall = pc.if_else(pc.greater_equal(month, 7), year, pc.subtract(year, 1))
    spring = pc.add(fall, 1)
    tail = pc.utf8_lpad(pc.cast(pc.subtract(spring, pc.multiply(pc.divide(spring, 100), 100)), pa.string()), 2, "0")
    return pc.binary_join_element_wise(pc.cast(fall, pa.string()), tail, "-")


def _without_duplicates(errors: list[AssessmentRowError]) -> list[AssessmentRowError]:
    return list(dict.fromkeys(errors))


def _seekable(stream) -> bool:
    try:
        return bool(stream.seekable())
    except (AttributeError, OSError, ValueError):
        return False


def _position(stream) -> int:
    try:
        return int(stream.tell())
    except (OSError, AttributeError, ValueError):
        return 0
