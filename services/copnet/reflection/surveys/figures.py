"""Figures of survey answers from maintained sums (pure): means, standard deviations, Hedges' g."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from copnet.reflection.surveys.instruments import Instrument


@dataclass
class Sums:
    """What is kept for a set of respondents: how many, answers per (item, point), and per subscale
    the sum and the sum of squares of respondents' subscale scores."""

    respondents: int = 0
    answers: dict[str, Counter] = field(default_factory=dict)
    subscale_sums: Counter = field(default_factory=Counter)
    subscale_squares: Counter = field(default_factory=Counter)

    def add(self, other: Sums) -> None:
        self.respondents += other.respondents
        for item_id, points in other.answers.items():
            self.answers.setdefault(item_id, Counter()).update(points)
        self.subscale_sums.update(other.subscale_sums)
        self.subscale_squares.update(other.subscale_squares)

    @classmethod
    def of_stored(cls, respondents: int, answers: Mapping[str, Mapping[str, int]],
                  subscale_sums: Mapping[str, float], subscale_squares: Mapping[str, float]) -> Sums:
        return cls(respondents, {item: Counter({int(point): int(n) for point, n in points.items()})
                                 for item, points in answers.items()},
                   Counter({code: float(v) for code, v in subscale_sums.items()}),
                   Counter({code: float(v) for code, v in subscale_squares.items()}))

    @classmethod
    def total(cls, parts: Iterable[Sums]) -> Sums:
        summed = cls()
        for part in parts:
            summed.add(part)
        return summed


@dataclass(frozen=True)
class Moments:
    n: int
    mean: float
    standard_deviation: float  # sample (n - 1); 0 for a single respondent


def moments(n: int, total: float, squares: float) -> Moments:
    if n <= 0:
        return Moments(0, 0.0, 0.0)
    mean = total / n
    variance = max(squares - n * mean * mean, 0.0) / (n - 1) if n > 1 else 0.0
    return Moments(n, mean, math.sqrt(variance))


def item_moments(instrument: Instrument, sums: Sums) -> dict[str, Moments]:
    """Each item's mean and standard deviation of scores (reverse-scored items turned around)."""
    found = {}
    for item in instrument.items:
        counts = sums.answers.get(item.id, Counter())
        n = sum(counts.values())
        total = sum(instrument.score(item, point) * c for point, c in counts.items())
        squares = sum(instrument.score(item, point) ** 2 * c for point, c in counts.items())
        found[item.id] = moments(n, total, squares)
    return found


def subscale_moments(instrument: Instrument, sums: Sums) -> dict[str, Moments]:
    return {s.code: moments(sums.respondents, sums.subscale_sums[s.code], sums.subscale_squares[s.code])
            for s in instrument.subscales}


def hedges_g(pre: Moments, post: Moments) -> float | None:
    """Hedges' g of post against pre (independent samples, pooled standard deviation, small-sample
    correction); None when it is undefined (too few respondents or no spread)."""
    freedom = pre.n + post.n - 2
    if pre.n < 2 or post.n < 2:
        return None
    pooled = math.sqrt(((pre.n - 1) * pre.standard_deviation ** 2 + (post.n - 1) * post.standard_deviation ** 2)
                       / freedom)
    if pooled == 0:
        return None
    correction = 1 - 3 / (4 * (pre.n + post.n) - 9)
    return correction * (post.mean - pre.mean) / pooled
