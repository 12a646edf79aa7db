"""`copnet data`'s own logic, without a gateway: the upload reads the file through the progress
reader, the students command wants one of --data-set and --org, rows print pseudonyms shortened."""

from __future__ import annotations

import io

from copnet.cli import data
from copnet.cli.root import app
from typer.testing import CliRunner


def test_the_upload_advances_the_bar_by_what_it_reads():
    advanced = []
    reader = data.ReadProgress(io.BytesIO(b"x" * 10_000), advanced.append)
    while reader.read(4096):
        pass
    assert advanced == [4096, 4096, 1808, 0]


def test_students_needs_a_data_set_or_an_organization_not_both():
    for args in ([], ["--data-set", "ds1", "--org", "coe"]):
        result = CliRunner().invoke(app, ["data", "students", *args, "--gateway", "http://127.0.0.1:9", "--token", "t"])
        assert result.exit_code == 2
        assert "give --data-set or --org" in result.output


def test_result_rows_shorten_pseudonyms_and_show_missing_values_as_dashes():
    row = {"pseudonym": "ab" * 32, "school_id": "s1", "grade": "6", "test": "sbac-math", "school_year": "2024-25",
           "window": "spring", "scale_score": 2500.0, "achievement_level": 3, "distance_from_standard": None,
           "percentile": None, "proficiency_band": None, "data_set_id": "ds1"}
    assert data.result_rows([row]) == [["abababababab", "s1", "6", "sbac-math", "2024-25", "spring", "2500", "3", "-",
                                        "-", "-", "ds1"]]
