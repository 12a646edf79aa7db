"""What copnet's assessment importers share: a CSV read a few megabytes at a time (every column as
text, the header's delimiter detected), and vectorized checks that turn a column of text into typed
values plus the rows that could not be read.

A check never loops over rows in Python: it is a pyarrow.compute mask, and only the rows it flags
become `AssessmentRowError`s. Messages name the field and the problem, never a student id's value.
Not an entry point: the importer plugins import it.
"""

from __future__ import annotations

import csv
import datetime as dt
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
from copnet import AssessmentRowError, UnusableInput

BLOCK_BYTES = 4 << 20
# A header longer than this is not a CSV header (a binary file, one giant line).
MAX_HEADER_BYTES = 64 << 10
MAX_COLUMNS = 500
YES = ("y", "yes", "1", "true", "t")
NO = ("n", "no", "0", "false", "f", "")
GRADE_SPELLINGS = {"k": "K", "kn": "K", "kg": "K", "tk": "K", **{str(n): str(n) for n in range(1, 13)},
                   **{f"{n:02d}": str(n) for n in range(1, 13)}}
EARLIEST_YEAR, LATEST_YEAR = 1900, 2199
# CDE reporting ethnicity codes (DataQuest), and CALPADS race codes for files that carry those.
RACE_CODES = {
    "0": "race_not_reported", "1": "american_indian", "2": "asian", "3": "pacific_islander", "4": "filipino",
    "5": "hispanic", "6": "african_american", "7": "white", "9": "two_or_more", "": "race_not_reported",
    "100": "american_indian", "400": "filipino", "600": "african_american", "700": "white",
    **{code: "asian" for code in ("201", "202", "203", "204", "205", "206", "207", "208", "299")},
    **{code: "pacific_islander" for code in ("301", "302", "303", "304", "399")},
}
WINDOW_SPELLINGS = {"fall": "fall", "autumn": "fall", "boy": "fall", "beginning of year": "fall",
                    "winter": "winter", "moy": "winter", "middle of year": "winter", "mid-year": "winter",
                    "spring": "spring", "eoy": "spring", "end of year": "spring"}


@dataclass
class CsvBlock:
    """A block of a CSV file: its columns as text (header names as written, trimmed), the file row
    number of each record (the header is row 1), and how far into the file the reader is."""

    table: pa.Table
    rows: pa.Array
    bytes_read: int


def csv_blocks(stream, file_name: str, required: Sequence[str], *, delimiters: str = ",",
               block_bytes: int = BLOCK_BYTES, aliases: Mapping[str, Sequence[str]] | None = None,
               optional: Iterable[str] = ()) -> Iterator[CsvBlock]:
    """Reads `stream` (binary) a block at a time: the `required` columns and those of `optional`
    the file has, nothing else (a name or birth date column is never converted, nor kept in
    memory, and its encoding does not matter). Raises UnusableInput for a file that is not a CSV
    with every `required` column (named; `aliases` maps a column's name to other spellings
    accepted for it, the table then carries that name)."""
    header_line = stream.readline(MAX_HEADER_BYTES + 1)
    if len(header_line) > MAX_HEADER_BYTES:
        raise UnusableInput(f"{file_name}: the first line is not a CSV header (longer than {MAX_HEADER_BYTES} bytes)")
    try:
        header_text = header_line.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise UnusableInput(f"{file_name}: not a UTF-8 CSV file (the header is not text)") from None
    if not header_text.strip():
        raise UnusableInput(f"{file_name}: the file is empty (no header row)")
    delimiter = max(delimiters, key=header_text.count)
    names = [name.strip() for name in next(csv.reader([header_text], delimiter=delimiter))]
    if len(names) > MAX_COLUMNS:
        raise UnusableInput(f"{file_name}: the header has {len(names)} columns (at most {MAX_COLUMNS})")
    names = _renamed(names, aliases or {})
    missing = [name for name in required if name not in names]
    if missing:
        raise UnusableInput(f"{file_name}: the header has no column {missing[0]!r}"
                            + (f" (nor {', '.join(repr(m) for m in missing[1:])})" if missing[1:] else ""))
    unique = _unique(names)
    wanted = {*required, *optional}
    kept = [name for name in unique if name in wanted]
    invalid: list[int] = []

    def invalid_row(row) -> str:
        invalid.append(row.number if row.number is not None else -1)
        return "skip"

    reader = pacsv.open_csv(
        stream,
        read_options=pacsv.ReadOptions(column_names=unique, block_size=block_bytes),
        parse_options=pacsv.ParseOptions(delimiter=delimiter, invalid_row_handler=invalid_row),
        convert_options=pacsv.ConvertOptions(column_types={name: pa.string() for name in kept}, include_columns=kept,
                                             strings_can_be_null=False, quoted_strings_can_be_null=False))
    next_row = 2

    def refuse_invalid() -> None:
        if invalid:
            # Row numbers after a row of the wrong width would all be off: the file is refused.
            where = f"row {invalid[0] + 1}" if invalid[0] > 0 else f"a row after row {next_row - 1}"
            raise UnusableInput(f"{file_name}: {where} does not have the header's {len(names)} fields")

    while True:
        try:
            batch = reader.read_next_batch()
        except StopIteration:
            refuse_invalid()
            break
        except (pa.ArrowInvalid, UnicodeDecodeError):
            raise UnusableInput(f"{file_name}: after row {next_row - 1} the file is not readable CSV "
                                f"(a quote left open or bytes that are not UTF-8)") from None
        refuse_invalid()
        table = pa.Table.from_batches([batch])
        numbers = pa.array(range(next_row, next_row + table.num_rows), pa.int64())
        next_row += table.num_rows
        yield CsvBlock(table, numbers, _position(stream))


def _renamed(names: list[str], aliases: Mapping[str, Sequence[str]]) -> list[str]:
    lowered = {alias.lower(): canonical for canonical, spellings in aliases.items()
               for alias in (canonical, *spellings)}
    return [lowered.get(name.lower(), name) for name in names]


def _unique(names: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    result = []
    for name in names:
        count = seen.get(name, 0)
        seen[name] = count + 1
        result.append(name if count == 0 else f"{name}.{count}")
    return result


def _position(stream) -> int:
    try:
        return int(stream.tell())
    except (OSError, AttributeError, ValueError):
        return 0


# -- checks ---------------------------------------------------------------------------------------
@dataclass
class Problems:
    """The rows of one block that could not be read: a mask per (field, reason), turned into
    errors only for the rows they flag."""

    file_name: str
    rows: pa.Array
    bad: pa.Array = None
    found: list[tuple[pa.Array, str, str, object]] = field(default_factory=list)

    def __post_init__(self):
        self.bad = pa.array([False] * 0, pa.bool_()) if len(self.rows) == 0 else pc.equal(self.rows, -1)

    def add(self, mask: pa.Array, field_name: str, reason: str, message) -> None:
        """`message`: text, or a function of the flagged row's position giving it."""
        mask = pc.fill_null(mask, False)
        if pc.any(mask).as_py():
            self.found.append((mask, field_name, reason, message))
            self.bad = pc.or_(self.bad, mask)

    @property
    def good(self) -> pa.Array:
        return pc.invert(self.bad)

    def errors(self) -> list[AssessmentRowError]:
        result = []
        for mask, field_name, reason, message in self.found:
            positions = pc.indices_nonzero(mask).to_pylist()
            numbers = self.rows.take(pa.array(positions, pa.int64())).to_pylist()
            for position, number in zip(positions, numbers):
                text = message(position) if callable(message) else message
                result.append(AssessmentRowError(self.file_name, number, field_name, reason, text))
        return sorted(result, key=lambda e: e.row)


def trimmed(values: pa.Array) -> pa.Array:
    return pc.utf8_trim_whitespace(pc.fill_null(values, ""))


def blank(values: pa.Array) -> pa.Array:
    return pc.equal(pc.utf8_length(trimmed(values)), 0)


def as_number(values: pa.Array, problems: Problems, field_name: str, *, blank_is_null: bool = True,
              extra_null: Iterable[str] = ()) -> pa.Array:
    """float64 of the text (null where blank or one of `extra_null`); NOT_A_NUMBER for the rest."""
    text = trimmed(values)
    numeric = pc.match_substring_regex(text, r"^[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?$")
    nothing = pc.or_(pc.equal(pc.utf8_length(text), 0), pc.is_in(text, value_set=pa.array(list(extra_null), pa.string())))
    problems.add(pc.and_(pc.invert(numeric), pc.invert(nothing)), field_name, "NOT_A_NUMBER",
                 f"{field_name} is not a number")
    if not blank_is_null:
        problems.add(nothing, field_name, "MISSING", f"{field_name} is empty")
    return pc.cast(pc.if_else(numeric, text, pa.scalar(None, pa.string())), pa.float64())


def as_flag(values: pa.Array, problems: Problems, field_name: str) -> pa.Array:
    """Yes/No/Y/N/1/0/True/False (any case; blank is No); BAD_FLAG for any other value."""
    text = pc.utf8_lower(trimmed(values))
    yes = pc.is_in(text, value_set=pa.array(YES))
    problems.add(pc.invert(pc.or_(yes, pc.is_in(text, value_set=pa.array(NO)))), field_name, "BAD_FLAG",
                 f"{field_name} is not one of Yes, No, Y, N, 1, 0 (or blank)")
    return yes


def as_grade(values: pa.Array, problems: Problems, field_name: str) -> pa.Array:
    """copnet's grade ("K", "1" .. "12") of a grade as files spell it (03, KN, TK...); UNKNOWN_GRADE."""
    return mapped(values, GRADE_SPELLINGS, problems, field_name, "UNKNOWN_GRADE",
                  f"{field_name} is not a grade (K, 1 .. 12)", lower=True)


def as_window(values: pa.Array, problems: Problems, field_name: str) -> pa.Array:
    """fall/winter/spring of a window as exports spell it (Fall, BOY, "Winter 2024-25"); UNKNOWN_WINDOW."""
    values = pc.replace_substring_regex(trimmed(values), r"\s+\d{4}(-\d{2,4})?$", "")
    return mapped(values, WINDOW_SPELLINGS, problems, field_name, "UNKNOWN_WINDOW",
                  f"{field_name} is not a test window (fall, winter, spring; BOY, MOY, EOY)", lower=True)


def mapped(values: pa.Array, mapping: Mapping[str, str], problems: Problems, field_name: str, reason: str,
           message: str, *, lower: bool = False) -> pa.Array:
    """Each value looked up in `mapping` (after trimming; lower-cased when `lower`); `reason` where absent."""
    text = trimmed(values)
    if lower:
        text = pc.utf8_lower(text)
    keys = list(mapping)
    position = pc.index_in(text, value_set=pa.array(keys, pa.string()))
    problems.add(pc.is_null(position), field_name, reason, message)
    return pc.take(pa.array([mapping[key] for key in keys], pa.string()), position)


def cds_code(values: pa.Array) -> pa.Array:
    """The 14-digit CDS code; a numeric one that lost its leading zero (county 01-09 in a
    spreadsheet) padded back."""
    text = trimmed(values)
    digits = pc.match_substring_regex(text, r"^\d{13}$")
    return pc.if_else(digits, pc.utf8_lpad(text, 14, "0"), text)


def achievement_level(values: pa.Array, problems: Problems, field_name: str) -> pa.Array:
    text = trimmed(values)
    ok = pc.match_substring_regex(text, r"^[1-4]$")
    problems.add(pc.and_(pc.invert(ok), pc.invert(blank(values))), field_name, "BAD_ACHIEVEMENT_LEVEL",
                 f"{field_name} is not an achievement level 1-4")
    return pc.cast(pc.if_else(ok, text, pa.scalar(None, pa.string())), pa.int8())


def as_date(values: pa.Array, problems: Problems, field_name: str) -> pa.Array:
    """date32 of YYYY-MM-DD or MM/DD/YYYY (blank: null); BAD_DATE for anything else or outside 1900–2199."""
    text = trimmed(values)
    iso = pc.strptime(pc.utf8_slice_codeunits(text, 0, 10), format="%Y-%m-%d", unit="s", error_is_null=True)
    us = pc.strptime(text, format="%m/%d/%Y", unit="s", error_is_null=True)
    parsed = pc.coalesce(pc.if_else(pc.match_substring_regex(text, r"^\d{4}-\d{2}-\d{2}([T ].*)?$"), iso, None), us)
    dates = pc.cast(parsed, pa.date32())
    outside = pc.or_kleene(pc.less(dates, pa.scalar(dt.date(EARLIEST_YEAR, 1, 1), pa.date32())),
                           pc.greater(dates, pa.scalar(dt.date(LATEST_YEAR, 12, 31), pa.date32())))
    problems.add(pc.or_(pc.and_(pc.is_null(dates), pc.invert(blank(values))), pc.fill_null(outside, False)),
                 field_name, "BAD_DATE", f"{field_name} is not a date (YYYY-MM-DD or MM/DD/YYYY, 1900–2199)")
    return pc.if_else(pc.fill_null(outside, False), pa.scalar(None, pa.date32()), dates)


def school_year_of(years: pa.Array) -> pa.Array:
    """"2024-25" of the spring year 2025 (float64 or int years; null stays null)."""
    spring = pc.cast(years, pa.int64())
    fall = pc.cast(pc.subtract(spring, 1), pa.string())
    tail = pc.utf8_lpad(pc.cast(pc.subtract(spring, pc.multiply(pc.divide(spring, 100), 100)), pa.string()), 2, "0")
    return pc.binary_join_element_wise(fall, tail, "-")


def as_test_year(values: pa.Array, problems: Problems, field_name: str) -> pa.Array:
    """The school year ("2024-25") of a test year (the spring's calendar year, 2025); BAD_TEST_YEAR."""
    text = trimmed(values)
    ok = pc.match_substring_regex(text, r"^\d{4}$")
    years = pc.cast(pc.if_else(ok, text, pa.scalar(None, pa.string())), pa.int64())
    in_range = pc.fill_null(pc.and_(pc.greater_equal(years, EARLIEST_YEAR + 1), pc.less_equal(years, LATEST_YEAR)),
                            False)
    problems.add(pc.invert(in_range), field_name, "BAD_TEST_YEAR",
                 f"{field_name} is not a year between {EARLIEST_YEAR + 1} and {LATEST_YEAR}")
    return school_year_of(pc.if_else(in_range, years, pa.scalar(None, pa.int64())))


SCHOOL_YEAR = re.compile(r"^(\d{4})-(\d{2})$")


def school_year_setting(value: str) -> str:
    """A settings field's school year ("2024-25", or a spring year "2025") as "2024-25"."""
    value = value.strip()
    if re.fullmatch(r"\d{4}", value):
        return f"{int(value) - 1}-{value[2:]}"
    match = SCHOOL_YEAR.fullmatch(value)
    if not match or (int(match.group(1)) + 1) % 100 != int(match.group(2)):
        raise ValueError("not a school year such as 2024-25")
    return value


def in_schema(columns: Mapping[str, pa.Array], schema: pa.Schema, length: int) -> pa.Table:
    """A table in `schema`'s columns and order: given columns cast, the others null."""
    arrays = []
    for column in schema:
        values = columns.get(column.name)
        if values is None:
            arrays.append(pa.nulls(length, column.type))
        else:
            if isinstance(values, pa.ChunkedArray):
                values = values.combine_chunks()
            arrays.append(values if values.type == column.type else pc.cast(values, column.type))
    return pa.Table.from_arrays(arrays, schema=schema)


def constant(value, length: int, type_: pa.DataType | None = None) -> pa.Array:
    return pa.array([value] * length, type_ or pa.string())
