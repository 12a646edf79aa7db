"""The measure routes: query parameters to the RPC, cells to JSON, and the suppressed CSV export
(withheld cells "*", coded percentages as coded) — with replies the service's own code made."""

from __future__ import annotations

import csv
import io

from copnet.reflection.measures import convert, queries
from copnet.reflection.measures.index import MeasureIndex
from copnet.reflection.v1 import measures_pb2

from tests.support.measure_tables import Student, TableSource, Tree, measure_cells
from tests.unit.gateway_fakes import assert_problem, bearer

TREE = Tree({"district": ("", "district"), "school": ("district", "school")})


def reply_for(students: list[Student]) -> measures_pb2.QueryMeasuresResponse:
    index = MeasureIndex(TableSource(TREE, measures=measure_cells(students, TREE)), min_cell=11)
    found = queries.page(queries.measure_query("school", False, (), "", ("3",), (), (), ()), 0, "", index)
    return measures_pb2.QueryMeasuresResponse(cells=[convert.measure_cell(c) for c in found.cells], min_cell=11,
                                              generation="1")


def students() -> list[Student]:
    # 20 EL students, 19 of them at level 4 (95 %: coded), and 4 not-EL students (withheld).
    return ([Student("school", "3", 2600, ("el",))] * 19 + [Student("school", "3", 2300, ("el",))]
            + [Student("school", "3", 2450, ("not_el",))] * 4)


def mixed() -> list[Student]:
    """20 EL students (19 at level 4: 95 %, coded), 12 not EL; 4 Hispanic students (withheld) and 28 White."""
    return ([Student("school", "3", 2600, ("el", "hispanic"))] * 4
            + [Student("school", "3", 2600, ("el", "white"))] * 15 + [Student("school", "3", 2300, ("el", "white"))]
            + [Student("school", "3", 2600, ("not_el", "white"))] * 12)


def test_the_query_parameters_reach_the_rpc_and_withheld_cells_have_no_figures(client, clients):
    clients["reflection"].replies["QueryMeasures"] = reply_for(students())
    response = client.get("/api/v1/measures?organization_id=school&student_groups=el&student_groups=not_el&grades=3"
                          "&school_years=2024-25&windows=spring&reference_group=all&include_children=true",
                          headers=bearer())
    assert response.status_code == 200, response.get_data(as_text=True)
    assert clients["reflection"].calls[0].request == measures_pb2.QueryMeasuresRequest(
        organization_id="school", include_children=True, student_groups=["el", "not_el"], grades=["3"],
        school_years=["2024-25"], windows=["spring"], reference_group="all")
    cells = {(c["student_group"], c["grade"]): c for c in response.get_json()["items"]}
    withheld = cells[("not_el", "3")]
    assert withheld["withheld"] and withheld["students_tested"] is None and withheld["percent_at_level"] == []
    assert withheld["gap"]["withheld"] and withheld["gap"]["percent_met_points"] is None
    el = cells[("el", "3")]
    assert cells[("all", "3")]["withheld"] is False or el["withheld"]


def test_the_csv_export_shows_withheld_cells_as_a_star_and_coded_percentages_coded(client, clients):
    clients["reflection"].replies["QueryMeasures"] = reply_for(mixed())
    response = client.get("/api/v1/measures?organization_id=school&format=csv", headers=bearer())
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    by_group = {row["student_group"]: row for row in rows}
    assert by_group["hispanic"]["students_tested"] == "*" and by_group["hispanic"]["mean_scale_score"] == "*"
    assert by_group["hispanic"]["gap_percent_met_points"] == "*"
    # 19 of 20 EL students met the standard: 95 %, coded.
    assert by_group["el"]["students_tested"] == "20"
    assert by_group["el"]["percent_met_or_exceeded"].startswith("≥")
    assert by_group["el"]["gap_percent_met_points"] == ""  # a coded side gives no gap
    assert by_group["not_el"]["percent_met_or_exceeded"].startswith("≥")
    # Accept: text/csv asks for the same.
    again = client.get("/api/v1/measures?organization_id=school", headers={**bearer(), "Accept": "text/csv"})
    assert again.mimetype == "text/csv" and again.get_data() == response.get_data()


def test_too_many_values_of_a_filter_is_a_422_naming_it(client, clients):
    groups = "&".join(f"student_groups=g{n}" for n in range(31))
    body = assert_problem(client.get(f"/api/v1/measures?organization_id=school&{groups}", headers=bearer()), 422,
                          "VALIDATION_FAILED")
    assert any(error["field"] == "student_groups" for error in body["errors"])
    assert clients["reflection"].calls == []


def test_effect_size_routes_ask_for_the_community_or_the_program(client, clients):
    clients["reflection"].replies["GetEffectSize"] = measures_pb2.GetEffectSizeResponse(effect_sizes=[
        measures_pb2.EffectSize(test="sbac-math", school_year="2024-25", window="spring", grades=["3"],
                                student_group="all", outcome="distance_from_standard", withheld=True,
                                withheld_reason="too few")], min_cell=11, generation="4")
    body = client.get("/api/v1/communities/plc-1/effect-size?tests=sbac-math", headers=bearer()).get_json()
    assert body["items"][0]["withheld"] and body["items"][0]["hedges_g"] is None
    assert clients["reflection"].calls[0].request == measures_pb2.GetEffectSizeRequest(community_id="plc-1",
                                                                                       tests=["sbac-math"])
    client.get("/api/v1/programs/prog-1/effect-size", headers=bearer())
    assert clients["reflection"].calls[1].request == measures_pb2.GetEffectSizeRequest(program_id="prog-1")


def test_the_cli_prints_a_withheld_cell_as_a_star_and_coded_percentages_coded(client, clients):
    from copnet.cli.measures import cell_row

    clients["reflection"].replies["QueryMeasures"] = reply_for(mixed())
    items = client.get("/api/v1/measures?organization_id=school", headers=bearer()).get_json()["items"]
    rows = {(row[1], row[2]): row for row in map(cell_row, items)}
    withheld = rows[("hispanic", "3")]
    assert withheld[6:14] == ["*"] * 8 and withheld[14:] == ["*", "*"]
    english_learners = rows[("el", "3")]
    assert english_learners[6] == "20" and english_learners[12].startswith("≥")
