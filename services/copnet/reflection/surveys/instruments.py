"""Survey instruments as values (pure): Likert items, their subscales and reverse scoring, and the
rules a region's own instrument must keep.

A respondent's answer to an item is a point 1..scale_points as given; its *score* turns a
reverse-scored item around (scale_points + 1 - answer), so a higher score always means more of the
construct. A respondent's subscale score is the mean of their scores on the subscale's items.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from copnet.kernel.errors import InvalidArgument
from copnet.kernel.inputs import NAME_MAX, optional_text, required_text

# Bounds of a region's own instrument (the built-in keeps them too).
MAX_ITEMS = 60
MAX_SUBSCALES = 10
ITEM_TEXT_MAX = 500
LABEL_MAX = 100
DESCRIPTION_MAX = 2000
SOURCE_MAX = 500
MIN_POINTS, MAX_POINTS = 2, 7
# Item ids and subscale codes become keys of the maintained sums: no dots, no "$".
CODE_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")


@dataclass(frozen=True)
class Subscale:
    code: str
    name: str
    description: str = ""


@dataclass(frozen=True)
class Item:
    id: str
    text: str
    subscale: str = ""
    reverse_scored: bool = False


@dataclass(frozen=True)
class Instrument:
    id: str
    version: int
    name: str
    description: str
    source: str
    scale_points: int
    scale_labels: tuple[str, ...]
    subscales: tuple[Subscale, ...]
    items: tuple[Item, ...]
    owner_organization_id: str = ""
    builtin: bool = False

    def score(self, item: Item, answer: int) -> int:
        return self.scale_points + 1 - answer if item.reverse_scored else answer

    def check_answers(self, answers: Sequence[int]) -> tuple[int, ...]:
        """`answers` (one per item, in item order), when each is a point of the scale."""
        if len(answers) != len(self.items):
            raise InvalidArgument.for_field("answers", f"must hold one answer per item: {len(self.items)} "
                                                       f"answers, {len(answers)} given", reason="ANSWER_COUNT")
        for index, answer in enumerate(answers):
            if not 1 <= answer <= self.scale_points:
                raise InvalidArgument.for_field(f"answers[{index}]", f"must be a point of the scale, 1 to "
                                                                     f"{self.scale_points}", reason="ANSWER_OUT_OF_SCALE")
        return tuple(answers)

    def subscale_scores(self, answers: Sequence[int]) -> dict[str, float]:
        """Each subscale's score of one respondent: the mean of their scores on its items."""
        totals: dict[str, list[int]] = {subscale.code: [] for subscale in self.subscales}
        for item, answer in zip(self.items, answers, strict=True):
            if item.subscale:
                totals[item.subscale].append(self.score(item, answer))
        return {code: sum(scores) / len(scores) for code, scores in totals.items() if scores}


def default_labels(points: int) -> tuple[str, ...]:
    return tuple(str(point) for point in range(1, points + 1))


def _code(value: str, field: str) -> str:
    if not CODE_PATTERN.match(value):
        raise InvalidArgument.for_field(field, "must be 1-40 characters: lower-case letters, digits, '_' and '-', "
                                               "starting with a letter or digit")
    return value


def defined(instrument_id: str, version: int, owner_organization_id: str, *, name: str, description: str,
            source: str, scale_points: int, scale_labels: Sequence[str], subscales: Sequence[Subscale],
            items: Sequence[Item]) -> Instrument:
    """A region's instrument as asked, checked against every bound; field errors name the request's fields."""
    name = required_text(name, "name", NAME_MAX)
    description = optional_text(description, "description", DESCRIPTION_MAX)
    source = optional_text(source, "source", SOURCE_MAX)
    if not MIN_POINTS <= scale_points <= MAX_POINTS:
        raise InvalidArgument.for_field("scale_points", f"must be {MIN_POINTS} to {MAX_POINTS}",
                                        reason="SCALE_POINTS_OUT_OF_RANGE")
    if scale_labels and len(scale_labels) != scale_points:
        raise InvalidArgument.for_field("scale_labels", f"must name every point ({scale_points}) or be empty")
    labels = tuple(required_text(label, f"scale_labels[{index}]", LABEL_MAX)
                   for index, label in enumerate(scale_labels)) or default_labels(scale_points)
    if len(subscales) > MAX_SUBSCALES:
        raise InvalidArgument.for_field("subscales", f"must be at most {MAX_SUBSCALES}", reason="TOO_MANY")
    checked_subscales: list[Subscale] = []
    for index, subscale in enumerate(subscales):
        code = _code(subscale.code, f"subscales[{index}].code")
        if any(known.code == code for known in checked_subscales):
            raise InvalidArgument.for_field(f"subscales[{index}].code", f"{code!r} is named twice")
        checked_subscales.append(Subscale(code, required_text(subscale.name, f"subscales[{index}].name"),
                                          optional_text(subscale.description, f"subscales[{index}].description",
                                                        DESCRIPTION_MAX)))
    if not items:
        raise InvalidArgument.for_field("items", "is required (at least one item)")
    if len(items) > MAX_ITEMS:
        raise InvalidArgument.for_field("items", f"must be at most {MAX_ITEMS}", reason="TOO_MANY")
    codes = {subscale.code for subscale in checked_subscales}
    checked_items: list[Item] = []
    for index, item in enumerate(items):
        item_id = _code(item.id, f"items[{index}].id") if item.id else f"q{index + 1}"
        if any(known.id == item_id for known in checked_items):
            raise InvalidArgument.for_field(f"items[{index}].id", f"{item_id!r} is named twice")
        if item.subscale and item.subscale not in codes:
            raise InvalidArgument.for_field(f"items[{index}].subscale", f"{item.subscale!r} is not one of the "
                                                                        f"instrument's subscales")
        text = optional_text(item.text, f"items[{index}].text", ITEM_TEXT_MAX)
        if not text:
            raise InvalidArgument.for_field(f"items[{index}].text", "is required")
        checked_items.append(Item(item_id, text, item.subscale, item.reverse_scored))
    return Instrument(instrument_id, version, name, description, source, scale_points, labels,
                      tuple(checked_subscales), tuple(checked_items), owner_organization_id)
