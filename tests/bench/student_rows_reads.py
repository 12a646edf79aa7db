"""Reads of student-level rows from one store file of 1,000,000 rows (5,000 teachers at 1,000
schools in 50 districts), through the same reader the service uses: one teacher's students, a
page of a school, a later page of a district. Prints p50 and the slowest of 15 runs; asserts
nothing about speed.

    python -m tests.bench.student_rows_reads
"""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from copnet.reflection import columns
from copnet.reflection.student_rows import reading

ROWS, TEACHERS, SCHOOLS, DISTRICTS = 1_000_000, 5_000, 1_000, 50
RUNS = 15


def write_store_file(folder: Path) -> Path:
    rng = np.random.default_rng(1)
    teacher = rng.integers(0, TEACHERS, ROWS)
    given = {
        "pseudonym": pa.array([f"{i:064x}" for i in range(ROWS)]),
        "teacher_id": pa.array(np.char.add("teacher-", teacher.astype(str))),
        "school_id": pa.array(np.char.add("school-", (teacher * SCHOOLS // TEACHERS).astype(str))),
        "district_id": pa.array(np.char.add("district-", (teacher * DISTRICTS // TEACHERS).astype(str))),
        "county_office_id": pa.array(["coe"] * ROWS), "region_id": pa.array(["region"] * ROWS),
        "grade": pa.array(rng.choice(["3", "4", "5", "6", "7", "8"], ROWS)), "test": pa.array(["sbac-math"] * ROWS),
        "school_year": pa.array(rng.choice(["2023-24", "2024-25"], ROWS)),
        "window": pa.array(rng.choice(["fall", "winter", "spring"], ROWS)),
        "scale_score": pa.array(rng.normal(2500, 80, ROWS)), "row": pa.array(np.arange(ROWS) + 2),
    }
    table = pa.table([given.get(field.name, pa.nulls(ROWS, field.type)) for field in columns.STUDENT_ROWS],
                     schema=columns.STUDENT_ROWS)
    (folder / "ds").mkdir()
    path = folder / "ds" / "students.parquet"
    pq.write_table(table, path)
    return path


def timed(read) -> str:
    took = []
    for _ in range(RUNS):
        start = time.perf_counter()
        read()
        took.append((time.perf_counter() - start) * 1000)
    return f"p50 {statistics.median(took):.0f} ms, slowest {max(took):.0f} ms"


def bench_student_row_reads() -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = write_store_file(Path(folder))
        print(f"student rows: {ROWS:,} rows, {path.stat().st_size / 1e6:.0f} MB")
        cases = {
            "one teacher's students (about 200 rows)": (reading.Narrowing(teacher_id="teacher-17"), 500, 0),
            "a school, first page of 100": (reading.Narrowing(organization_id="school-3"), 100, 0),
            "a district, page of 100 at offset 5,000": (reading.Narrowing(organization_id="district-7"), 100, 5000),
        }
        for name, (narrowing, size, offset) in cases.items():
            print(f"  {name}: {timed(lambda n=narrowing, s=size, o=offset: reading.read([path], n, reading.Filter(), s, o))}")


if __name__ == "__main__":
    bench_student_row_reads()
