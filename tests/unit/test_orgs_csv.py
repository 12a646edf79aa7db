"""`copnet orgs import`: reading the CSV (dialect, BOM, header) and ordering parents first."""

from __future__ import annotations

import pytest
from copnet.api_client import ApiError
from copnet.cli.orgs import (
    CsvRow,
    UnreadableFile,
    describe_error,
    import_rows,
    organization_body,
    parents_first,
    read_rows,
)


def write(tmp_path, text: str, encoding: str = "utf-8"):
    path = tmp_path / "orgs.csv"
    path.write_text(text, encoding=encoding)
    return path


@pytest.mark.parametrize("text", [
    "id,name,kind,parent_id\nd1,\"District, One\",district,c1\n",
    "\ufeffid;name;kind;parent_id\nd1;District, One;district;c1\n",
    "ID\tName\tKind\tParent_ID\nd1\tDistrict, One\tdistrict\tc1\n",
])
def test_the_dialect_is_sniffed_and_a_bom_accepted(tmp_path, text):
    [row] = read_rows(write(tmp_path, text))
    assert row.values == {"id": "d1", "name": "District, One", "kind": "district", "parent_id": "c1"}
    assert row.line == 2


def test_blank_lines_are_skipped_and_rows_keep_their_line_numbers(tmp_path):
    rows = read_rows(write(tmp_path, "id,name,kind\n\na,A,state\n \nb,B,region\n"))
    assert [(row.line, row.id) for row in rows] == [(3, "a"), (5, "b")]


@pytest.mark.parametrize(("text", "message"), [
    ("", "empty"),
    ("id,name\na,A\n", "missing column(s) kind"),
    ("id,name,kind,parnt_id\na,A,state,\n", "unknown column(s) parnt_id"),
])
def test_a_file_without_a_proper_header_is_unreadable(tmp_path, text, message):
    with pytest.raises(UnreadableFile, match=message.replace("(", r"\(").replace(")", r"\)")):
        read_rows(write(tmp_path, text))


def test_a_missing_or_undecodable_file_is_unreadable(tmp_path):
    with pytest.raises(UnreadableFile):
        read_rows(tmp_path / "absent.csv")
    path = tmp_path / "latin1.csv"
    path.write_bytes("id,name,kind\na,Café,state\n".encode("latin-1"))
    with pytest.raises(UnreadableFile):
        read_rows(path)


def row(org_id: str, parent: str = "", line: int = 0) -> CsvRow:
    return CsvRow(line, {"id": org_id, "name": org_id, "kind": "x", "parent_id": parent})


def test_parents_come_before_their_children_and_file_order_is_kept_otherwise():
    rows = [row("school", "district"), row("other", "outside"), row("district", "county"), row("county", "state"),
            row("state")]
    assert [r.id for r in parents_first(rows)] == ["other", "state", "county", "district", "school"]


def test_a_parent_cycle_is_left_for_the_gateway_to_refuse():
    rows = [row("a", "b"), row("b", "a"), row("c")]
    assert [r.id for r in parents_first(rows)] == ["c", "a", "b"]


def test_the_body_has_only_the_columns_with_a_value():
    assert organization_body({"id": "a", "name": "A", "kind": "state", "parent_id": "", "code": None,
                              "extra": "x"}) == {"id": "a", "name": "A", "kind": "state"}


class FakeClient:
    def __init__(self, refusals: dict[str, ApiError]):
        self.refusals = refusals
        self.posted: list[str] = []

    def post(self, path: str, body: dict):
        self.posted.append(body["id"])
        if body["id"] in self.refusals:
            raise self.refusals[body["id"]]
        return body


def api_error(status: int, reason: str, detail: str = "no", errors=None) -> ApiError:
    return ApiError("POST", "http://gw/api/v1/orgs", status, {"reason": reason, "detail": detail,
                                                               **({"errors": errors} if errors else {})})


def test_import_counts_created_already_there_and_failed_rows():
    client = FakeClient({"b": api_error(409, "DUPLICATE_ID"), "c": api_error(409, "DUPLICATE_CODE", "code taken"),
                         "d": api_error(422, "VALIDATION_FAILED", "bad", [{"field": "kind", "message": "no"}])})
    outcomes = []
    report = import_rows(client, [row("a", line=2), row("b", line=3), row("c", line=4), row("d", line=5),
                                  row("", line=6)], lambda r, outcome: outcomes.append(outcome))
    assert (report.created, report.already_there) == (1, 1)
    assert [(r.line, why) for r, why in report.failures] == [
        (4, "409 DUPLICATE_CODE: code taken"), (5, "422 VALIDATION_FAILED: bad (kind: no)"),
        (6, "id is required (it is what makes a re-import safe)")]
    assert outcomes == ["created", "already there", "failed", "failed", "failed"]
    assert client.posted == ["a", "b", "c", "d"]  # a row without an id is never sent


def test_describe_error_of_something_without_a_problem_is_its_text():
    assert describe_error(RuntimeError("cannot reach the gateway")) == "cannot reach the gateway"
