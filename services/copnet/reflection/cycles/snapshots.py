"""What a cycle reads of the measures: the goal's baseline when the goal is set, and the frozen
snapshot when the cycle enters assess. Both come from the published (suppressed, coded) cells
every view shows (`copnet.reflection.measures`), never from student rows; a snapshot keeps a copy
of those cells, so later imports never change it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from google.protobuf import json_format

from copnet.reflection import reference
import copnet.reflection.cycles.rules as rules
from copnet.reflection.measures import convert, queries
from copnet.reflection.v1 import measures_pb2

# The goal's cell and the all-students cell beside it: two cells, one page is plenty.
PAGE = 10


@dataclass(frozen=True)
class Reading:
    cells: list  # PublishedCell
    generation: str
    min_cell: int

    def goal_cell(self, student_group: str):
        return next((cell for cell in self.cells if cell.student_group == student_group), None)


def read(goal_filter: Mapping, school_year: str, window: str) -> Reading:
    """The published cells of the goal's organization, grade and test in `school_year` and
    `window`: the goal's student group's, and all students' beside it."""
    group = goal_filter["student_group"]
    query = queries.MeasureQuery(
        organization_id=goal_filter["organization_id"],
        student_groups=tuple(dict.fromkeys((group, reference.ALL_STUDENTS))), grades=(goal_filter["grade"],),
        tests=(goal_filter["test"],), school_years=(school_year,), windows=(window,))
    page = queries.page(query, PAGE, "")
    return Reading(page.cells, page.snapshot.generation, page.snapshot.min_cell)


def baseline(goal: Mapping) -> dict:
    """The goal's figure in its baseline year and window, as published now."""
    reading = read(goal["filter"], goal["baseline_school_year"], goal["baseline_window"])
    return rules.figure_of(reading.goal_cell(goal["filter"]["student_group"]), goal["measure"])


def cell_document(cell) -> dict:
    return json_format.MessageToDict(convert.measure_cell(cell), preserving_proto_field_name=True)


def cell_message(document: Mapping) -> measures_pb2.MeasureCell:
    return json_format.ParseDict(dict(document), measures_pb2.MeasureCell(), ignore_unknown_fields=True)


@dataclass(frozen=True)
class Frozen:
    cells: list[dict]
    generation: str
    min_cell: int
    assessed: dict
    outcome: str


def freeze(goal: Mapping) -> Frozen:
    """The goal's cells in its target year and window as published at this moment, and whether the
    goal's target was met (withheld or missing figures: cannot tell)."""
    filter_ = goal["filter"]
    reading = read(filter_, filter_["school_year"], filter_["window"])
    assessed = rules.figure_of(reading.goal_cell(filter_["student_group"]), goal["measure"])
    return Frozen([cell_document(cell) for cell in reading.cells], reading.generation, reading.min_cell,
                  assessed, rules.outcome(assessed, goal["target_value"]))
