"""The figures of measure cells, from the sums kept per cell (pure: no store, no suppression).

A cell keeps sums (students, scale scores, their squares, students per level, distance from
standard); every figure here is derived from them, so cells of several data sets or several
organizations simply add up before a figure is taken.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass

# Two-sided 95 %: the normal quantile of 0.975.
Z_95 = statistics.NormalDist().inv_cdf(0.975)
LEVELS = 4


@dataclass(frozen=True)
class Sums:
    """The sums of one cell (MEASURE_CELLS' or TEACHER_CELLS' columns)."""

    students: int
    scale_sum: float
    scale_square_sum: float = 0.0
    levels: tuple[int, int, int, int] = (0, 0, 0, 0)
    dfs_students: int = 0
    dfs_sum: float = 0.0

    def __add__(self, other: Sums) -> Sums:
        return Sums(self.students + other.students, self.scale_sum + other.scale_sum,
                    self.scale_square_sum + other.scale_square_sum,
                    tuple(a + b for a, b in zip(self.levels, other.levels)),  # type: ignore[arg-type]
                    self.dfs_students + other.dfs_students, self.dfs_sum + other.dfs_sum)


@dataclass(frozen=True)
class Figures:
    """A cell's figures before coding: percentages are 0..100, None where not measurable."""

    students_tested: int
    mean_scale_score: float
    # Levels 1..4; empty when no student of the cell has a level (a test without levels).
    percent_at_level: tuple[float, ...]
    percent_met_or_exceeded: float | None
    distance_from_standard: float | None


def figures_of(sums: Sums) -> Figures | None:
    """The figures of a cell; None for a cell without students."""
    if sums.students <= 0:
        return None
    with_level = sum(sums.levels)
    percents = tuple(100.0 * count / with_level for count in sums.levels) if with_level else ()
    met = 100.0 * (sums.levels[2] + sums.levels[3]) / with_level if with_level else None
    dfs = sums.dfs_sum / sums.dfs_students if sums.dfs_students else None
    return Figures(sums.students, sums.scale_sum / sums.students, percents, met, dfs)


def mean_and_sd(n: int, total: float, square_total: float) -> tuple[float, float | None]:
    """Mean and sample standard deviation from n, the sum and the sum of squares (None: n < 2)."""
    mean = total / n
    if n < 2:
        return mean, None
    # Rounding can make a zero variance slightly negative.
    variance = max(0.0, (square_total - n * mean * mean) / (n - 1))
    return mean, math.sqrt(variance)


def difference(value: float | None, reference: float | None) -> float | None:
    """value - reference, None when either is unknown."""
    return None if value is None or reference is None else value - reference


@dataclass(frozen=True)
class Sample:
    """One side of an effect size: n, sum and sum of squares of the outcome."""

    n: int
    total: float
    square_total: float

    def __add__(self, other: Sample) -> Sample:
        return Sample(self.n + other.n, self.total + other.total, self.square_total + other.square_total)


@dataclass(frozen=True)
class EffectSizeFigures:
    treated_mean: float
    comparison_mean: float
    hedges_g: float
    ci_low: float
    ci_high: float


def hedges_g(treated: Sample, comparison: Sample) -> EffectSizeFigures | None:
    """Hedges' g (Cohen's d with the pooled standard deviation, corrected for small samples by
    J = 1 - 3 / (4 (n1 + n2) - 9)) and its 95 % confidence interval g +- z SE, with
    SE = sqrt((n1 + n2) / (n1 n2) + g^2 / (2 (n1 + n2))) (Hedges & Olkin 1985; the What Works
    Clearinghouse's procedures). None when either side has fewer than 2 or both have no spread."""
    n1, n2 = treated.n, comparison.n
    if n1 < 2 or n2 < 2:
        return None
    mean1, sd1 = mean_and_sd(n1, treated.total, treated.square_total)
    mean2, sd2 = mean_and_sd(n2, comparison.total, comparison.square_total)
    pooled = math.sqrt(((n1 - 1) * sd1 ** 2 + (n2 - 1) * sd2 ** 2) / (n1 + n2 - 2))
    if pooled == 0:
        return None
    correction = 1 - 3 / (4 * (n1 + n2) - 9)
    g = correction * (mean1 - mean2) / pooled
    se = math.sqrt((n1 + n2) / (n1 * n2) + g * g / (2 * (n1 + n2)))
    return EffectSizeFigures(mean1, mean2, g, g - Z_95 * se, g + Z_95 * se)


def sum_samples(samples: Sequence[Sample]) -> Sample:
    total = Sample(0, 0.0, 0.0)
    for sample in samples:
        total = total + sample
    return total
