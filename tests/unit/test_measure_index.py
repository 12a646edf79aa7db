"""The measure index: suppressed once per generation of READY data sets, the same withheld cells in
every query, pages that hold for one generation, and the published aggregates built from it."""

from __future__ import annotations

import random

import pytest
from copnet.kernel.errors import InvalidArgument
from copnet.reflection import reference
from copnet.reflection.measures import lattice as lattice_module
from copnet.reflection.measures import publish, queries
from copnet.reflection.measures.index import MeasureIndex

from tests.support.measure_tables import Student, TableSource, Tree, measure_cells

TREE = Tree({"region": ("", "region"), "county": ("region", "county_office"), "district": ("county", "district"),
             "north": ("district", "school"), "south": ("district", "school"), "east": ("district", "school")})


def population(seed: int = 7, size: int = 400) -> list[Student]:
    rnd = random.Random(seed)
    return [Student(rnd.choice(("north", "south", "east")), rnd.choice(("3", "4", "5")), rnd.uniform(2300, 2650),
                    (rnd.choices(("el", "not_el"), (1, 4))[0], rnd.choices(("swd", "not_swd"), (1, 9))[0],
                     rnd.choices(reference.RACE_ETHNICITIES, (3, 1, 4, 2, 20, 1, 10, 3, 2))[0]),
                    window=rnd.choice(("fall", "spring")))
            for _ in range(size)]


class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


def query(organization: str, include_children: bool = False, **filters) -> queries.MeasureQuery:
    return queries.measure_query(organization, include_children, filters.get("groups", ()), "",
                                 filters.get("grades", ()), (), (), filters.get("windows", ()))


def test_every_query_shows_the_same_cells_withheld():
    source = TableSource(TREE, measures=measure_cells(population(), TREE))
    index = MeasureIndex(source, min_cell=11)
    everything = {(c.organization_id, c.student_group, c.grade, c.window): c
                  for c in queries.published_cells(query("district", True), index)}
    assert any(c.withheld for c in everything.values()) and any(not c.withheld for c in everything.values())
    narrower = [query("north"), query("south", groups=("el", "not_el")), query("district", True, grades=("3",)),
                query("district", True, windows=("fall",))]
    for narrow in narrower:
        for cell in queries.published_cells(narrow, index):
            same = everything[(cell.organization_id, cell.student_group, cell.grade, cell.window)]
            assert cell.withheld == same.withheld
            assert cell == same or cell.gap != same.gap  # the same figures (a gap may be to another reference)
    # A withheld cell never carries a figure.
    for cell in everything.values():
        if cell.withheld:
            assert cell.students_tested is None and cell.mean_scale_score is None
            assert cell.percent_met_or_exceeded is None and cell.percent_at_level == ()
            assert cell.distance_from_standard is None


def test_no_withheld_count_is_the_only_withheld_member_of_a_total():
    index = MeasureIndex(TableSource(TREE, measures=measure_cells(population(11), TREE)), min_cell=11)
    cells = {(c.organization_id, c.student_group, c.grade, c.window): c
             for c in queries.published_cells(query("district", True), index)}
    relations = []
    for (organization, group, grade, window) in cells:
        if group == "all":
            relations += [[(organization, "all", grade, window), *((organization, m, grade, window)
                                                                  for m in family.groups)]
                          for family in reference.FAMILIES]
        if grade == "all":
            relations.append([(organization, group, g, window) for g in ("all", "3", "4", "5")])
        if organization == "district":
            relations.append([(o, group, grade, window) for o in ("district", "north", "south", "east")])
    checked = 0
    for members in relations:
        present = [cells[m] for m in members if m in cells]
        if len(present) >= 2:
            checked += 1
            assert sum(c.withheld for c in present) != 1, members
    assert checked > 100


def test_the_lattice_is_built_again_only_when_the_generation_changes(monkeypatch):
    builds = []
    real_build = lattice_module.build
    monkeypatch.setattr(lattice_module, "build", lambda *a, **k: builds.append(1) or real_build(*a, **k))
    clock = Clock()
    source = TableSource(TREE, measures=measure_cells(population(), TREE))
    index = MeasureIndex(source, min_cell=11, clock=clock, fresh_wait=0, check_seconds=1.0)
    for _ in range(5):
        queries.published_cells(query("north"), index)
    assert len(builds) == 1 and source.reads == 1  # within a second: the generation is not even asked again
    clock.now = 2.0
    queries.published_cells(query("north"), index)
    assert len(builds) == 1 and source.reads == 2  # asked, unchanged
    before = queries.published_cells(query("north"), index)
    source.generation, source.measures = "2", measure_cells(population(size=100), TREE)
    clock.now = 4.0
    # The new generation is built in the background; meanwhile queries read the previous one whole.
    assert queries.published_cells(query("north"), index) == before
    index.settle()
    smaller = queries.published_cells(query("north"), index)
    assert len(builds) == 2 and index.measures().generation == "2"
    assert sum(c.students_tested or 0 for c in smaller if c.student_group == "all" and c.grade == "all") <= 100


def test_pages_cover_the_query_and_a_token_does_not_outlive_its_generation():
    clock = Clock()
    source = TableSource(TREE, measures=measure_cells(population(), TREE))
    index = MeasureIndex(source, min_cell=11, clock=clock)
    wanted = query("district", True)
    everything = queries.published_cells(wanted, index)
    seen, token = [], ""
    while True:
        page = queries.page(wanted, 50, token, index)
        seen += page.cells
        token = page.next_page_token
        if not token:
            break
    assert seen == everything
    page = queries.page(wanted, 50, "", index)
    source.generation, clock.now = "2", 5.0
    index.measures()
    index.settle()
    with pytest.raises(InvalidArgument) as refused:
        queries.page(wanted, 50, page.next_page_token, index)
    assert refused.value.reason == "PAGE_TOKEN_EXPIRED"
    with pytest.raises(InvalidArgument) as refused:
        queries.page(query("north"), 50, page.next_page_token, index)
    assert "different query" in str(refused.value)


@pytest.mark.parametrize(("field", "value", "reason"), [
    ("student_groups", ["martians"], "UNKNOWN_STUDENT_GROUP"), ("grades", ["13"], "UNKNOWN_GRADE"),
    ("school_years", ["2024-26"], "INVALID_SCHOOL_YEAR"), ("windows", ["summer"], "UNKNOWN_WINDOW"),
    ("tests", ["Not A Test"], "UNKNOWN_TEST"), ("student_groups", ["el"] * 31, "TOO_MANY_VALUES")])
def test_a_bad_filter_is_refused_naming_the_field(field, value, reason):
    arguments = {"organization": "north", "include_children": False, "student_groups": (), "reference_group": "",
                 "grades": (), "tests": (), "school_years": (), "windows": ()}
    with pytest.raises(InvalidArgument) as refused:
        queries.measure_query(**{**arguments, field: value})
    assert refused.value.reason == reason and refused.value.fields[0].field.startswith(field)


def test_published_aggregates_hold_district_level_and_above_only_and_no_figure_of_a_withheld_cell():
    index = MeasureIndex(TableSource(TREE, measures=measure_cells(population(), TREE)), min_cell=11)
    messages = dict(publish.aggregate_messages(index.measures(), "ca-bay-area"))
    assert {m.organization_id for m in messages.values()} == {"district", "county", "region"}
    assert {(m.window, m.test, m.school_year) for m in messages.values()} == {
        ("fall", "sbac-math", "2024-25"), ("spring", "sbac-math", "2024-25")}
    for message in messages.values():
        assert message.region == "ca-bay-area" and message.min_cell == 11
        assert message.cut_scores_version == "smarter-balanced-2014"
        for cell in message.cells:
            assert cell.withheld != cell.HasField("figures")
            if not cell.withheld:
                assert cell.figures.students_tested >= 11
    district = messages[publish.aggregate_key("district", "sbac-math", "2024-25", "spring")]
    published = {(c.student_group, c.grade): c for c in queries.published_cells(
        query("district", windows=("spring",)), index)}
    assert {(c.student_group, c.grade): c.withheld for c in district.cells} == {
        key: cell.withheld for key, cell in published.items()}
    # The same figures give the same digest: nothing is sent again for an unchanged generation.
    again = dict(publish.aggregate_messages(MeasureIndex(TableSource(
        TREE, measures=measure_cells(population(), TREE)), min_cell=11).measures(), "ca-bay-area"))
    assert {k: publish.digest(m) for k, m in again.items()} == {k: publish.digest(m) for k, m in messages.items()}


def test_a_query_after_a_small_import_waits_for_the_new_lattice():
    clock = Clock()
    source = TableSource(TREE, measures=measure_cells(population(), TREE))
    index = MeasureIndex(source, min_cell=11, clock=clock)
    assert index.measures().generation == "1"
    source.generation, source.measures, clock.now = "2", measure_cells(population(size=100), TREE), 2.0
    assert index.measures().generation == "2"


def test_rendered_cells_are_kept_for_the_generation_and_equal_fresh_ones():
    from copnet.reflection.measures import convert

    index = MeasureIndex(TableSource(TREE, measures=measure_cells(population(), TREE)), min_cell=11)
    wanted = query("district", True)
    first = queries.page(wanted, 100, "", index, render=convert.measure_cell)
    again = queries.page(wanted, 100, "", index, render=convert.measure_cell)
    assert all(a is b for a, b in zip(first.cells, again.cells, strict=True))
    fresh = [convert.measure_cell(c) for c in queries.page(wanted, 100, "", index).cells]
    assert first.cells == fresh
