"""The producer's guard: reflection's published figures are checked again before they are shared;
a cell or row shown below the threshold, figures on a withheld cell, a school's row or another
region's message is refused (not shared, logged as an error)."""

from __future__ import annotations

import logging

import pytest
from copnet.kernel.service import ServiceContext
from copnet.kernel.settings import load_settings
from copnet.reflection.v1 import measures_pb2, participation_pb2
from copnet.share import changes, guards


def context(min_cell: int = 11) -> ServiceContext:
    return ServiceContext("share", load_settings(region="bay", suppression_min_cell=min_cell), plugins=None)


def cell(n: int | None, withheld: bool = False, group: str = "all") -> measures_pb2.PublishedAggregateCell:
    figures = None if n is None else measures_pb2.MeasureFigures(students_tested=n, mean_scale_score=2500)
    return measures_pb2.PublishedAggregateCell(student_group=group, grade="6", withheld=withheld, figures=figures)


def aggregates(*cells, min_cell: int = 11, level: str = "district", region: str = "bay"):
    return measures_pb2.AggregatesPublished(schema_version=1, region=region, organization_id="eastbay-usd",
                                            level=level, test="caaspp-math", school_year="2025-26", window="spring",
                                            version=1, min_cell=min_cell, cells=list(cells))


def test_suppressed_measures_pass():
    guards.check_measures(aggregates(cell(90), cell(11, group="ell"), cell(None, withheld=True, group="foster"),
                                     cell(0, group="none")), "bay", 11)


@pytest.mark.parametrize("message, rule", [
    (aggregates(cell(90), cell(7, group="foster")), "below the threshold 11"),
    (aggregates(cell(10)), "below the threshold 11"),
    (aggregates(cell(9), min_cell=5), "below the threshold 11"),
    (aggregates(cell(12), min_cell=13), "below the threshold 13"),
    (aggregates(cell(3, withheld=True)), "withheld yet carries figures"),
    (aggregates(cell(None)), "shown without figures"),
    (aggregates(cell(90), level="school"), "never shared"),
    (aggregates(cell(90), region="elsewhere"), "not this region's"),
])
def test_measures_that_are_not_suppressed_are_refused(message, rule):
    with pytest.raises(guards.Refused, match=rule):
        guards.check_measures(message, "bay", 11)


def test_the_floor_of_ten_holds_whatever_the_thresholds_say():
    with pytest.raises(guards.Refused, match="below the threshold 10"):
        guards.check_measures(aggregates(cell(9), min_cell=2), "bay", 2)


def test_a_refused_message_is_not_shared_and_is_logged_as_an_error(caplog):
    with caplog.at_level(logging.ERROR):
        assert changes.measures(context(), aggregates(cell(90), cell(4, group="foster"))) is None
    assert any(r.levelno == logging.ERROR and "foster" in r.getMessage() for r in caplog.records)


def test_a_withdrawn_measure_is_shared_as_withdrawn():
    message = aggregates()
    message.withdrawn = True
    message.version = 4
    change = changes.measures(context(), message)
    assert change.content is None and change.source_version == 4


def row(scope: str, level: str, teachers: int | None, withheld: bool = False, **figures):
    message = participation_pb2.ParticipationFigures(scope_id=scope, level=level, program_year="2026-27",
                                                     withheld=withheld, **figures)
    if teachers is not None:
        message.teachers_reached = teachers
    return message


def participation(figures, *children, min_cell: int = 11):
    return participation_pb2.ParticipationPublished(schema_version=1, region="bay", organization_id=figures.scope_id,
                                                    level=figures.level, program_year="2026-27", version=1,
                                                    min_cell=min_cell, figures=figures, children=list(children))


def test_suppressed_participation_passes():
    guards.check_participation(participation(row("alameda-coe", "county_office", 40, schools_reached=3),
                                             row("eastbay-usd", "district", None, withheld=True)), "bay", 11)


@pytest.mark.parametrize("message, rule", [
    (participation(row("alameda-coe", "county_office", 40), row("eastbay-usd", "district", 6)), "below the threshold"),
    (participation(row("alameda-coe", "county_office", 5)), "below the threshold"),
    (participation(row("alameda-coe", "county_office", 40), row("eastbay-usd", "district", None, withheld=True,
                                                                schools_reached=2)), "withheld yet carries"),
    (participation(row("alameda-coe", "county_office", 40), row("lakeview-ms", "school", 30)), "never shared"),
    (participation(row("alameda-coe", "county_office", 40), row("bay-ratios-plc", "community", 30)), "never shared"),
    (participation(row("alameda-coe", "county_office", None)), "without teachers reached"),
])
def test_participation_that_is_not_suppressed_is_refused(message, rule):
    with pytest.raises(guards.Refused, match=rule):
        guards.check_participation(message, "bay", 11)
    assert changes.participation(context(), message) is None
