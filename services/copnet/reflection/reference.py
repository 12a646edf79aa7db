"""Reference data of data reflection: the tests copnet knows, their grades, scale ranges and
achievement-level cut scores (versioned), and the student groups measures are broken down by.

Smarter Balanced mathematics (the California Assessment of Student Performance and Progress,
CAASPP): the minimum scale score of levels 2, 3 and 4 and the lowest and highest obtainable
scale scores per grade, as the consortium published them in 2014 and has kept since. Distance
from standard is measured from the Level 3 minimum ("standard met").
"""

from __future__ import annotations

from dataclasses import dataclass

GRADES = ("K", "1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11", "12")
ALL_GRADES = "all"
WINDOWS = ("fall", "winter", "spring")
SUBJECT_MATH = "math"


@dataclass(frozen=True)
class GradeScale:
    lowest: int
    highest: int
    # Minimum scale score of levels 2, 3 and 4.
    level_minimums: tuple[int, int, int]

    @property
    def standard_met(self) -> int:
        return self.level_minimums[1]

    def level_of(self, scale_score: float) -> int:
        return 1 + sum(1 for minimum in self.level_minimums if scale_score >= minimum)


@dataclass(frozen=True)
class Test:
    key: str
    title: str
    subject: str
    # Grade -> scale; None for a test without published cut scores (a local benchmark): any
    # grade, scale scores checked only against `score_range`.
    scales: dict[str, GradeScale] | None
    cut_scores_version: str = ""
    score_range: tuple[float, float] = (0.0, 10000.0)

    @property
    def grades(self) -> tuple[str, ...]:
        return tuple(self.scales) if self.scales is not None else GRADES


SBAC_MATH = Test(
    key="sbac-math", title="Smarter Balanced Summative Assessment, Mathematics", subject=SUBJECT_MATH,
    cut_scores_version="smarter-balanced-2014",
    scales={
        "3": GradeScale(2189, 2621, (2381, 2436, 2501)),
        "4": GradeScale(2204, 2659, (2411, 2485, 2549)),
        "5": GradeScale(2219, 2700, (2455, 2528, 2579)),
        "6": GradeScale(2235, 2748, (2473, 2552, 2610)),
        "7": GradeScale(2250, 2778, (2484, 2567, 2635)),
        "8": GradeScale(2265, 2802, (2504, 2586, 2653)),
        "11": GradeScale(2280, 2862, (2543, 2628, 2718)),
    })

TESTS: dict[str, Test] = {SBAC_MATH.key: SBAC_MATH}


def test_named(key: str) -> Test:
    """The test `key` names; a local benchmark's test (any other key) has no cut scores."""
    return TESTS.get(key) or Test(key=key, title=key, subject=SUBJECT_MATH, scales=None)


# -- student groups -------------------------------------------------------------------------------
ALL_STUDENTS = "all"


@dataclass(frozen=True)
class GroupFamily:
    """Student groups that partition all students: every student is in exactly one of them, so
    their counts add up to all students' (what complementary suppression protects)."""

    key: str
    title: str
    groups: tuple[str, ...]


FAMILIES: tuple[GroupFamily, ...] = (
    GroupFamily("english_learner", "English learner status", ("el", "not_el")),
    GroupFamily("disability", "Disability status", ("swd", "not_swd")),
    GroupFamily("economic", "Socioeconomic status", ("sed", "not_sed")),
    GroupFamily("foster", "Foster youth", ("foster", "not_foster")),
    GroupFamily("homeless", "Homeless youth", ("homeless", "not_homeless")),
    GroupFamily("race_ethnicity", "Race and ethnicity", (
        "african_american", "american_indian", "asian", "filipino", "hispanic", "pacific_islander", "white",
        "two_or_more", "race_not_reported")),
)

GROUP_TITLES: dict[str, str] = {
    "all": "All students",
    "el": "English learners", "not_el": "Not English learners",
    "swd": "Students with disabilities", "not_swd": "Students without disabilities",
    "sed": "Socioeconomically disadvantaged", "not_sed": "Not socioeconomically disadvantaged",
    "foster": "Foster youth", "not_foster": "Not foster youth",
    "homeless": "Homeless youth", "not_homeless": "Not homeless youth",
    "african_american": "Black or African American", "american_indian": "American Indian or Alaska Native",
    "asian": "Asian", "filipino": "Filipino", "hispanic": "Hispanic or Latino",
    "pacific_islander": "Native Hawaiian or Pacific Islander", "white": "White",
    "two_or_more": "Two or more races", "race_not_reported": "Race or ethnicity not reported",
}
STUDENT_GROUPS = tuple(GROUP_TITLES)
FAMILY_OF = {group: family for family in FAMILIES for group in family.groups}
RACE_ETHNICITIES = FAMILIES[-1].groups

# CAASPP research files' student group ids -> copnet's groups (ids the research file uses for
# groups copnet does not break down by, e.g. migrant status or parent education, are skipped).
CAASPP_GROUP_IDS: dict[int, str] = {
    1: "all", 160: "el", 6: "not_el", 128: "swd", 99: "not_swd", 31: "sed", 111: "not_sed",
    240: "foster", 241: "not_foster", 52: "homeless", 53: "not_homeless",
    74: "african_american", 75: "american_indian", 76: "asian", 77: "filipino", 78: "hispanic",
    79: "pacific_islander", 80: "white", 144: "two_or_more",
}
