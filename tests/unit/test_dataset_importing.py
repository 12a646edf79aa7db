"""The import pipeline without bookkeeping: batches checked and written as they come, every bad
row counted while the first ones are kept to list, duplicates dropped before the roll-ups."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.parquet as pq
from copnet.pluginapi import AssessmentBatch, AssessmentRowError
from copnet.reflection import columns
from copnet.reflection.datasets import store
from copnet.reflection.datasets.importing import Reading, finish_scores
from copnet.reflection.datasets.models import MAX_LISTED_ERRORS
from copnet.reflection.datasets.pseudonyms import Pseudonymiser
from copnet.reflection.datasets.validation import OrganizationTree, Placement

TREE = OrganizationTree(schools={"0100001": Placement("north-es", "east-usd", "alameda-coe", "bay-region")},
                        parents={"north-es": ("east-usd", "school"), "east-usd": ("alameda-coe", "district"),
                                 "alameda-coe": ("bay-region", "county_office"), "bay-region": ("", "region")})


def batch(first_row: int, count: int, *, grade: str = "5", student_offset: int = 0) -> AssessmentBatch:
    rows = [dict(row=first_row + n, student_id=f"S{first_row + n + student_offset}", school_code="0100001",
                 grade=grade, test="sbac-math", school_year="2024-25", window="spring", scale_score=2530.0,
                 achievement_level=3, english_learner=n % 2 == 0) for n in range(count)]
    return AssessmentBatch(rows=pa.Table.from_pylist(rows, schema=columns.STUDENT_SCORES), bytes_read=first_row * 10)


def reading(tmp_path) -> Reading:
    return Reading("student_scores", tmp_path / "ds.partial", "scores.csv", TREE, Pseudonymiser(bytes(32)).column)


def test_every_bad_row_is_counted_and_the_first_thousand_kept_to_list(tmp_path):
    import_ = reading(tmp_path)
    import_.add(batch(2, 600, grade="13"))
    import_.add(AssessmentBatch(rows=None, errors=[AssessmentRowError("scores.csv", 602, "scale_score", "NOT_A_NUMBER",
                                                                      "scale_score is not a number")]))
    import_.add(batch(603, 600, grade="13"))
    import_.add(batch(1203, 5))
    import_.close()
    outcome = import_.outcome

    assert (outcome.rows_read, outcome.rows_rejected, outcome.rows_imported) == (1206, 1201, 5)
    assert len(outcome.errors) == MAX_LISTED_ERRORS
    assert [e.row for e in outcome.errors if e.reason == "NOT_A_NUMBER"] == [602] and outcome.bytes_read == 12030
    assert pq.read_table(import_.rows_path).num_rows == 5


def test_finishing_drops_duplicates_and_writes_the_roll_ups_beside_the_rows(tmp_path):
    import_ = reading(tmp_path)
    import_.add(batch(2, 4))
    import_.add(batch(6, 2, student_offset=-4))  # rows 6 and 7: the students of rows 2 and 3 again
    import_.close()
    finish_scores(import_, [], [], TREE.parents)
    folder, outcome = import_.directory, import_.outcome

    assert (outcome.rows_imported, outcome.rows_rejected) == (4, 2)
    assert [(e.row, e.reason) for e in outcome.errors] == [(6, "DUPLICATE_STUDENT"), (7, "DUPLICATE_STUDENT")]
    assert sorted(pq.read_table(folder / store.STUDENTS).column("row").to_pylist()) == [2, 3, 4, 5]
    cells = pq.read_table(folder / store.MEASURE_CELLS).to_pylist()
    assert {(c["organization_id"], c["students"]) for c in cells if c["student_group"] == "all"
            and c["grade"] == "all"} == {("north-es", 4), ("east-usd", 4), ("alameda-coe", 4), ("bay-region", 4)}
    parents = pq.read_table(folder / store.ORGANIZATIONS).to_pylist()
    assert {"organization_id": "north-es", "parent_id": "east-usd", "level": "school"} in parents
    assert not (folder / "students.unchecked.parquet").exists()


def test_tiny_batches_are_checked_and_written_together(tmp_path):
    import_ = reading(tmp_path)
    for first in range(2, 32, 3):
        import_.add(batch(first, 3))
    import_.close()

    assert import_.outcome.rows_imported == 30
    assert pq.ParquetFile(import_.rows_path).metadata.num_row_groups == 1
