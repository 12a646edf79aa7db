"""The statewide views' pure rules: gaps and totals over published figures only (withheld stays
withheld, coded percentages give no points, a total needs every linked region), and the bounds
on request fields (each refusal names its field)."""

from __future__ import annotations

import pytest

from copnet.kernel.errors import InvalidArgument
from copnet.reflection.v1 import measures_pb2
from copnet.statewide.views import figures as arithmetic
from copnet.statewide.views import requests as check


def published(students: int, met: float | None, distance: float | None = None, mean: float = 2500.0):
    figures = measures_pb2.MeasureFigures(students_tested=students, mean_scale_score=mean)
    if met is None:
        figures.percent_met_or_exceeded.text = ">95"
    else:
        figures.percent_met_or_exceeded.value, figures.percent_met_or_exceeded.text = met, f"{met:.1f}"
    if distance is not None:
        figures.distance_from_standard = distance
    return arithmetic.Cell(False, figures)


WITHHELD = arithmetic.Cell(True)


def test_gap_is_focal_minus_reference_in_points():
    gap = arithmetic.gap(published(30, 22.5, -40.0), published(300, 51.0, -5.5), "all")
    assert gap.reference_group == "all" and not gap.withheld
    assert gap.percent_met_points == pytest.approx(-28.5)
    assert gap.distance_from_standard_points == pytest.approx(-34.5)


@pytest.mark.parametrize("focal, reference", [(WITHHELD, published(300, 51.0)), (published(30, 20.0), WITHHELD),
                                              (WITHHELD, WITHHELD)])
def test_gap_is_withheld_when_either_side_is(focal, reference):
    gap = arithmetic.gap(focal, reference, "all")
    assert gap.withheld
    assert not gap.HasField("percent_met_points") and not gap.HasField("distance_from_standard_points")


def test_a_coded_percentage_or_a_missing_reference_gives_no_points_and_is_not_withheld():
    coded = arithmetic.gap(published(30, None, -3.0), published(300, 51.0, -5.0), "all")
    assert not coded.withheld and not coded.HasField("percent_met_points")
    assert coded.distance_from_standard_points == pytest.approx(2.0)
    missing = arithmetic.gap(published(30, 20.0), None, "all")
    assert not missing.withheld and not missing.HasField("percent_met_points")


def test_a_total_needs_every_linked_region_published_and_not_withheld():
    linked = ["north", "south", "east"]
    parts = arithmetic.completeness(linked, {"north": False, "south": True})
    assert (parts.missing, parts.withheld, parts.complete) == (["east"], ["south"], False)
    assert arithmetic.measure_total("all", "all", linked, {"north": published(10, 50.0),
                                                           "south": published(10, 50.0)}) is None
    assert arithmetic.measure_total("all", "all", linked, {"north": published(10, 50.0), "south": WITHHELD,
                                                           "east": published(10, 50.0)}) is None
    assert arithmetic.sum_if_complete(parts, [1, 2]) is None


def test_a_complete_total_sums_students_and_weights_by_them():
    total = arithmetic.measure_total("all", "all", ["north", "south"], {
        "north": published(300, 40.0, mean=2500.0), "south": published(100, 60.0, mean=2600.0),
        # A region no longer linked is not counted.
        "west": published(1000, 90.0)})
    assert total.students_tested == 400
    assert total.mean_scale_score == pytest.approx(2525.0)
    assert total.percent_met_or_exceeded.value == pytest.approx(45.0)


def test_a_total_has_no_percentage_when_a_region_coded_it():
    total = arithmetic.measure_total("all", "all", ["north", "south"], {"north": published(300, 40.0),
                                                                        "south": published(100, None)})
    assert total.students_tested == 400 and not total.HasField("percent_met_or_exceeded")


def refused_field(call) -> str:
    with pytest.raises(InvalidArgument) as refused:
        call()
    return refused.value.fields[0].field


def test_years_must_be_consecutive():
    assert check.year("2024-25", "school_year", required=True) == "2024-25"
    assert check.year("2099-00", "school_year", required=True) == "2099-00"
    assert check.year("", "program_year", required=False) == ""
    for bad in ("2024-26", "2024", "24-25", "2024-25x"):
        assert refused_field(lambda bad=bad: check.year(bad, "school_year", required=True)) == "school_year"
    assert refused_field(lambda: check.year("", "program_year", required=True)) == "program_year"


def test_lists_are_bounded_and_each_value_checked_by_index():
    assert check.student_groups(["all", "english_learner", "all"]) == ["all", "english_learner"]
    assert refused_field(lambda: check.student_groups([f"g{n}" for n in range(21)])) == "student_groups"
    assert refused_field(lambda: check.student_groups(["all", "bad group"])) == "student_groups[1]"
    assert check.grades(["K", "12", "all"]) == ["K", "12", "all"]
    assert refused_field(lambda: check.grades(["3", ""])) == "grades[1]"
    assert refused_field(lambda: check.grades(["13"])) == "grades[0]"


@pytest.mark.parametrize("call, field", [
    (lambda: check.optional_region("North"), "region"),
    (lambda: check.optional_region("n" * 40), "region"),
    (lambda: check.required_region(""), "region"),
    (lambda: check.optional_id("Org_1", "organization_id"), "organization_id"),
    (lambda: check.optional_id("o" * 200, "organization_id"), "organization_id"),
    (lambda: check.name("x" * 65, "test", required=True), "test"),
    (lambda: check.name("", "focal_group", required=True), "focal_group"),
    (lambda: check.window("summer", required=True), "window"),
    (lambda: check.window("", required=True), "window"),
    (lambda: check.one_of("school", "level", check.MEASURE_LEVELS), "level"),
    (lambda: check.grade_band("K-5"), "grade_band"),
    (lambda: check.kind("PLC"), "kind"),
    (lambda: check.code("a b"), "code"),
])
def test_each_bad_field_is_refused_by_name(call, field):
    assert refused_field(call) == field


def test_empty_optional_fields_mean_no_filter_and_defaults_apply():
    assert check.optional_region("") == "" and check.optional_id("", "parent_id") == ""
    assert check.grade("") == "all"
    assert check.name("", "reference_group", default="all") == "all"
    assert check.one_of("", "level", check.PARTICIPATION_LEVELS, default="region") == "region"
