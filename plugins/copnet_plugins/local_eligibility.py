"""Local eligibility: sign-ups limited to the districts, positions and grade bands a region allows.

A region (or a county office overriding it) names the districts whose educators may sign up,
the positions they must hold and the grade bands they must teach; any list left empty does not
restrict. A sign-up outside the rules is refused with a message the region words itself. These
rules come on top of each community's own eligibility, for every community in the region.

It fails closed: when the rules cannot be checked (the plugin raised, ran past its deadline, or
its stored settings no longer validate), the sign-up is refused rather than let through, and
repeated failures never switch the rules off.
"""

from __future__ import annotations

import string
from typing import Literal

from pydantic import Field, field_validator

from copnet import PluginSettings, SignupAttempt, hookimpl

COPNET_HOOKSPEC_VERSION = 2
# Rules a failure would silently lift are no rules: a failing check refuses the sign-up.
COPNET_FAILS_CLOSED = True

Position = Literal["teacher", "coach", "specialist", "site_admin", "district_admin", "county_leader",
                   "university_partner", "researcher"]
GradeBand = Literal["K-2", "3-5", "6-8", "9-12"]
CommunityKind = Literal["plc", "math_team", "cross_district_team", "equity_cohort", "lesson_study", "leadership",
                        "network"]

# Every spelling of a grade band copnet uses (REST `K-2`, proto labels `k_2`) -> the REST spelling.
_GRADE_BAND_SPELLINGS = {"k-2": "K-2", "k_2": "K-2", "3-5": "3-5", "3_5": "3-5", "6-8": "6-8", "6_8": "6-8",
                         "9-12": "9-12", "9_12": "9-12"}
_POSITION_WORDS = {"teacher": "teachers", "coach": "coaches", "specialist": "math specialists",
                   "site_admin": "site administrators", "district_admin": "district administrators",
                   "county_leader": "county office leaders", "university_partner": "university partners",
                   "researcher": "researchers"}
PLACEHOLDERS = ("requirement", "districts", "positions", "grade_bands", "community_id")
DEFAULT_MESSAGE = "This region's communities are open only to {requirement}."


def grade_band(value: str) -> str:
    """`k_2`, `K-2`, `k-2` -> `K-2` (unknown spellings are kept as they are)."""
    return _GRADE_BAND_SPELLINGS.get(value.strip().lower(), value)


class Settings(PluginSettings):
    """Who may sign up for communities in this region. An empty list does not restrict."""

    allowed_district_ids: list[str] = Field(
        default_factory=list, max_length=500,
        description="Organization ids of the districts whose people may sign up: a person qualifies through an "
                    "affiliation at the district or anywhere below it (a school). Empty: any district.")
    allowed_positions: list[Position] = Field(
        default_factory=list,
        description="Positions that may sign up (teacher, coach, specialist, site_admin, district_admin, "
                    "county_leader, university_partner, researcher). With districts set too, one affiliation "
                    "must match both. Empty: any position.")
    allowed_grade_bands: list[GradeBand] = Field(
        default_factory=list,
        description="Grade bands (K-2, 3-5, 6-8, 9-12): the person must teach at least one of them. "
                    "Empty: any grade band, or none.")
    grade_band_exempt_positions: list[Position] = Field(
        default_factory=lambda: ["site_admin", "district_admin", "county_leader"],
        description="Positions that pass the grade-band rule without teaching a band (administrators joining "
                    "their school's team), when the affiliation holding it passes the other rules.")
    community_kinds: list[CommunityKind] = Field(
        default_factory=list,
        description="Only communities of these kinds are restricted (e.g. plc, math_team). Empty: every kind.")
    message: str = Field(
        DEFAULT_MESSAGE, min_length=1, max_length=500,
        description="The refusal shown to the person. Placeholders: {requirement} (what they lack, in words), "
                    "{districts}, {positions}, {grade_bands} (the allowed lists) and {community_id}.")

    @field_validator("allowed_district_ids")
    @classmethod
    def _ids(cls, ids: list[str]) -> list[str]:
        cleaned = [value.strip() for value in ids]
        if any(not value for value in cleaned):
            raise ValueError("a district id is empty")
        return list(dict.fromkeys(cleaned))

    @field_validator("message")
    @classmethod
    def _known_placeholders(cls, template: str) -> str:
        try:
            names = [name for _, name, _, _ in string.Formatter().parse(template) if name is not None]
        except ValueError as exc:
            raise ValueError(f"is not a valid template: {exc} (write a literal brace as {{{{ or }}}})") from None
        unknown = [name for name in names if name not in PLACEHOLDERS]
        if unknown:
            raise ValueError(f"unknown placeholder {{{unknown[0]}}}; use {', '.join('{' + p + '}' for p in PLACEHOLDERS)}")
        return template


def _words(values, conjunction: str = "or") -> str:
    values = list(values)
    if len(values) <= 1:
        return "".join(values)
    return f"{', '.join(values[:-1])} {conjunction} {values[-1]}"


def _affiliation_passes(affiliation, settings: Settings) -> bool:
    in_district = not settings.allowed_district_ids or any(
        district in affiliation.scope for district in settings.allowed_district_ids)
    in_position = not settings.allowed_positions or affiliation.position in settings.allowed_positions
    return in_district and in_position


def _requirement(settings: Settings) -> str:
    parts = [_words([_POSITION_WORDS[p] for p in settings.allowed_positions]) or "educators"]
    if settings.allowed_district_ids:
        parts.append(f"in {'district' if len(settings.allowed_district_ids) == 1 else 'districts'} "
                     f"{_words(settings.allowed_district_ids)}")
    if settings.allowed_grade_bands:
        parts.append(f"teaching grades {_words(settings.allowed_grade_bands)}")
    return " ".join(parts)


def refusal(attempt: SignupAttempt, settings: Settings | None) -> str | None:
    """The reason this sign-up is outside the region's rules, or None when it is within them."""
    if settings is None:
        return None
    if settings.community_kinds and attempt.community.kind not in settings.community_kinds:
        return None
    passing = [a for a in attempt.person.affiliations if _affiliation_passes(a, settings)]
    allowed = bool(passing)
    if allowed and settings.allowed_grade_bands:
        taught = {grade_band(band) for band in attempt.person.grade_bands}
        exempt = any(a.position in settings.grade_band_exempt_positions for a in passing)
        allowed = exempt or bool(taught & set(settings.allowed_grade_bands))
    if allowed:
        return None
    return settings.message.format(
        requirement=_requirement(settings),
        districts=", ".join(settings.allowed_district_ids) or "any district",
        positions=", ".join(settings.allowed_positions) or "any position",
        grade_bands=", ".join(settings.allowed_grade_bands) or "any grade band",
        community_id=attempt.community.id,
    )


@hookimpl
def validate_registration(attempt, settings, context):
    return refusal(attempt, settings)
