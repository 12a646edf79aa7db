"""Bounds on every field of the views' requests: each refusal names its field
(INVALID_ARGUMENT, copnet.kernel.errors). Empty means "not filtered" unless a field is required."""

from __future__ import annotations

import re

from copnet.kernel.errors import InvalidArgument
from copnet.kernel.inputs import ID_PATTERN
from copnet.reflection.reference import ALL_GRADES, GRADES, WINDOWS

REGION_PATTERN = re.compile(r"^[a-z][a-z0-9-]{1,31}$")
YEAR_PATTERN = re.compile(r"^(\d{4})-(\d{2})$")
# Tests and student groups are the regions' own names (e.g. "sbac_ela", "english_learner").
NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
KIND_PATTERN = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
CODE_PATTERN = re.compile(r"^[A-Za-z0-9-]{1,32}$")
ALL_GROUPS = "all"

GRADE_VALUES = frozenset((*GRADES, ALL_GRADES))
GRADE_BANDS = frozenset({"K-2", "3-5", "6-8", "9-12"})
PARTICIPATION_LEVELS = ("region", "county_office", "district")
MEASURE_LEVELS = ("region", "county_office", "district")
MAX_GROUPS = 20
MAX_GRADES = len(GRADE_VALUES)
MAX_TOTAL_PAIRS = 50


def matching(value: str, field: str, pattern: re.Pattern, what: str) -> str:
    if len(value) > 128 or not pattern.match(value):
        raise InvalidArgument.for_field(field, f"is not {what}")
    return value


def optional_region(value: str, field: str = "region") -> str:
    return matching(value, field, REGION_PATTERN, "a region name") if value else ""


def required_region(value: str, field: str = "region") -> str:
    if not value:
        raise InvalidArgument.for_field(field, "is required")
    return optional_region(value, field)


def optional_id(value: str, field: str) -> str:
    return matching(value, field, ID_PATTERN, "an identifier") if value else ""


def required_id(value: str, field: str) -> str:
    if not value:
        raise InvalidArgument.for_field(field, "is required")
    return optional_id(value, field)


def year(value: str, field: str, *, required: bool) -> str:
    """A school or program year, "2024-25": the second year follows the first."""
    if not value:
        if required:
            raise InvalidArgument.for_field(field, "is required (e.g. 2024-25)")
        return ""
    found = YEAR_PATTERN.match(value)
    if found is None or (int(found.group(1)) + 1) % 100 != int(found.group(2)):
        raise InvalidArgument.for_field(field, "is not a year like 2024-25")
    return value


def name(value: str, field: str, *, required: bool = False, default: str = "") -> str:
    if not value:
        if required:
            raise InvalidArgument.for_field(field, "is required")
        return default
    return matching(value, field, NAME_PATTERN, "a name of letters, digits, '_', '.' or '-' (at most 64)")


def one_of(value: str, field: str, allowed, *, default: str = "") -> str:
    if not value:
        return default
    if value not in allowed:
        raise InvalidArgument.for_field(field, f"must be one of {', '.join(sorted(allowed))}")
    return value


def grade(value: str, field: str = "grade", *, default: str = ALL_GRADES) -> str:
    return one_of(value, field, GRADE_VALUES, default=default)


def window(value: str, field: str = "window", *, required: bool) -> str:
    if not value and required:
        raise InvalidArgument.for_field(field, f"is required ({', '.join(WINDOWS)})")
    return one_of(value, field, WINDOWS)


def listed(values, field: str, limit: int, check) -> list[str]:
    """Distinct values in the order given, each checked; at most `limit`."""
    if len(values) > limit:
        raise InvalidArgument.for_field(field, f"has more than {limit} values")
    found: list[str] = []
    for index, value in enumerate(values):
        checked = check(value, f"{field}[{index}]")
        if checked not in found:
            found.append(checked)
    return found


def student_groups(values) -> list[str]:
    return listed(values, "student_groups", MAX_GROUPS, lambda value, field: name(value, field, required=True))


def grades(values) -> list[str]:
    return listed(values, "grades", MAX_GRADES, required_grade)


def required_grade(value: str, field: str) -> str:
    if not value:
        raise InvalidArgument.for_field(field, "must not be empty")
    return one_of(value, field, GRADE_VALUES)


def kind(value: str, field: str = "kind") -> str:
    return matching(value, field, KIND_PATTERN, "a kind (lower case letters, digits, '_')") if value else ""


def code(value: str, field: str = "code") -> str:
    return matching(value, field, CODE_PATTERN, "a code (letters, digits, '-', at most 32)") if value else ""


def grade_band(value: str, field: str = "grade_band") -> str:
    return one_of(value, field, GRADE_BANDS)
