"""Benchmark: importing a synthetic 1,000,000-row state score file, against a raw load of the same
rows into the same store in the same run.

Both read the CSV with the same streaming reader (pyarrow's, in blocks). The raw load writes the
rows to Parquet as they are: no checks, no pseudonyms, no roll-ups. The import does what the
reflection service does with an upload, in this process: spools and hashes the file, reads it
through an importer plugin called by the plugin host (a thread per batch, one batch ahead), checks
and pseudonymises each batch, writes the rows, drops duplicate students, and writes the measure,
teacher and growth roll-ups. Prints both times, their ratio (raw time / import time; the target is
at least 0.7) and each one's peak memory (resident set size, sampled).
"""

from __future__ import annotations

import hashlib
import shutil
import tempfile
import threading
import time
import types
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import duckdb
import psutil
import pyarrow as pa
import pyarrow.csv as csv
import pyarrow.parquet as pq
from copnet.kernel.hookspecs import HOOKSPEC_VERSION
from copnet.kernel.plugin_host import PluginHost
from copnet.pluginapi import AssessmentBatch, AssessmentFile
from copnet.reflection.datasets.importing import Reading, finish_scores
from copnet.reflection.datasets.jobs import IMPORT_DEADLINE_SECONDS, Job, plugin_batches
from copnet.reflection.datasets.organizations import Organization
from copnet.reflection.datasets.pseudonyms import Pseudonymiser
from copnet.reflection.datasets.validation import OrganizationTree, Placement

SCHOOLS, DISTRICTS, COUNTIES = 1000, 50, 5
BLOCK_BYTES = 8 << 20
TEXT_COLUMNS = ("student_id", "school_code", "grade", "test", "school_year", "window", "proficiency_band",
                "teacher_id", "race_ethnicity")


REGION = Organization("region-1", "region", "", "", ())


def school_code(n: int) -> str:
    return f"{n // (SCHOOLS // COUNTIES) + 1:02d}{n // (SCHOOLS // DISTRICTS):05d}{n:07d}"


def organization_tree() -> OrganizationTree:
    tree = OrganizationTree()
    for n in range(SCHOOLS):
        district, county = f"district-{n // (SCHOOLS // DISTRICTS)}", f"county-{n // (SCHOOLS // COUNTIES)}"
        tree.schools[school_code(n)] = Placement(f"school-{n}", district, county, "region-1")
        tree.parents |= {f"school-{n}": (district, "school"), district: (county, "district"),
                         county: ("region-1", "county_office"), "region-1": ("", "region")}
    return tree


def write_score_file(path: Path, rows: int) -> None:
    """A CAASPP-shaped student score file: 1,000 schools, grades 3-8 and 11, the demographic flags,
    scale scores inside each grade's range with gaps between groups, a level that matches."""
    codes = ", ".join(f"'{school_code(n)}'" for n in range(SCHOOLS))
    duckdb.sql(f"""
        COPY (
          WITH base AS (
            SELECT i, ['3','4','5','6','7','8','11'][1 + i % 7] AS grade, i % 5 = 0 AS el, i % 9 = 0 AS swd,
                   i % 2 = 0 AS sed, i % 97 = 0 AS foster, i % 53 = 0 AS homeless,
                   ['hispanic','white','asian','african_american','filipino','two_or_more','american_indian',
                    'pacific_islander','race_not_reported'][1 + (i * 7) % 9] AS race,
                   (hash(i) % 1000)::INTEGER AS noise
            FROM range({rows}) t(i)),
          scored AS (
            SELECT *, least(greatest(CASE grade WHEN '3' THEN 2410 WHEN '4' THEN 2460 WHEN '5' THEN 2500
                                   WHEN '6' THEN 2520 WHEN '7' THEN 2540 WHEN '8' THEN 2560 ELSE 2600 END
                      + (noise - 500) * 0.25 - CASE WHEN el THEN 40 ELSE 0 END - CASE WHEN sed THEN 25 ELSE 0 END,
                      2300), 2620)::INTEGER AS score FROM base)
          SELECT 'SSID' || lpad((1000000000 + i)::VARCHAR, 10, '0') AS student_id,
                 [{codes}][1 + i % {SCHOOLS}] AS school_code, grade, 'sbac-math' AS test, '2024-25' AS school_year,
                 'spring' AS "window", DATE '2025-05-01' + (i % 20)::INTEGER AS test_date, score AS scale_score,
                 NULL AS achievement_level, NULL AS percentile, NULL AS proficiency_band,
                 'teacher-' || (i % {SCHOOLS}) || '-' || grade || '-' || (i % 4) AS teacher_id,
                 el AS english_learner, swd AS disability, sed AS economically_disadvantaged, foster, homeless,
                 race AS race_ethnicity
          FROM scored) TO '{path}' (FORMAT csv, HEADER true)""")


def read_batches(source) -> Iterator[AssessmentBatch]:
    """The one reader both loads use (a path or a binary stream): streaming CSV blocks as
    AssessmentBatches (a `row` column added)."""
    reader = csv.open_csv(source, read_options=csv.ReadOptions(block_size=BLOCK_BYTES),
                          convert_options=csv.ConvertOptions(column_types={
                              **{name: pa.string() for name in TEXT_COLUMNS}, "test_date": pa.date32(),
                              "scale_score": pa.float64(), "achievement_level": pa.int8(), "percentile": pa.float64()},
                              strings_can_be_null=True))
    next_row = 2
    with reader:
        for record_batch in reader:
            rows = pa.Table.from_batches([record_batch])
            numbers = pa.array(range(next_row, next_row + rows.num_rows), pa.int64())
            next_row += rows.num_rows
            yield AssessmentBatch(rows=rows.append_column("row", numbers))


@dataclass
class Run:
    seconds: float
    peak_rss: int


def measured(work: Callable[[], None]) -> Run:
    """`work`'s wall time and the process's peak resident set size while it ran (sampled every 10 ms)."""
    process = psutil.Process()
    peak, done = [process.memory_info().rss], threading.Event()

    def sample() -> None:
        while not done.is_set():
            peak[0] = max(peak[0], process.memory_info().rss)
            done.wait(0.01)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    started = time.perf_counter()
    try:
        work()
    finally:
        elapsed = time.perf_counter() - started
        done.set()
        sampler.join()
    return Run(elapsed, peak[0])


def raw_load(source: Path, store: Path) -> None:
    writer = None
    for batch in read_batches(source):
        if writer is None:
            writer = pq.ParquetWriter(store / "raw.parquet", batch.rows.schema, compression="zstd")
        writer.write_table(batch.rows)
    if writer is not None:
        writer.close()


class CsvScores:
    """The same reader as an importer plugin: the import reads it through the plugin host, as the
    service does (its own thread per batch, a deadline, one batch read ahead)."""

    key, title, kind, description = "bench-csv-scores", "Bench CSV scores", "student_scores", ""

    def read(self, file: AssessmentFile, settings) -> Iterator[AssessmentBatch]:
        yield from read_batches(file.stream)


def importer_host() -> PluginHost:
    host = PluginHost(timeout_seconds=60.0)
    host.register(types.SimpleNamespace(COPNET_HOOKSPEC_VERSION=HOOKSPEC_VERSION, COPNET_ENABLED_BY_DEFAULT=True,
                                        __doc__="The benchmark's importer."), "bench-importers")
    return host


def imported(source: Path, store: Path, tree: OrganizationTree) -> Reading:
    spool = store / "upload"
    digest = hashlib.sha256()
    with source.open("rb") as incoming, spool.open("wb") as outgoing:
        while chunk := incoming.read(1 << 20):
            digest.update(chunk)
            outgoing.write(chunk)
    reading = Reading("student_scores", store / "data-set.partial", source.name, tree,
                      Pseudonymiser(bytes(range(32))).column)
    job = Job("bench", "student_scores", "bench-importers", CsvScores(), REGION, spool, source.name,
              spool.stat().st_size)
    with spool.open("rb") as stream:
        file = AssessmentFile(source.name, stream, job.size_bytes)
        for batch in plugin_batches(importer_host(), job, file, time.monotonic() + IMPORT_DEADLINE_SECONDS):
            reading.add(batch)
    reading.close()
    finish_scores(reading, [], [], tree.parents)
    spool.unlink()
    return reading


def bench_assessment_import(rows: int = 1_000_000, rounds: int = 3) -> bool:
    """Prints the comparison; False when the import lost or invented a row. The two loads run
    `rounds` times, alternating, and the median of each is compared (a shared machine's load
    changes from one second to the next)."""
    with tempfile.TemporaryDirectory(prefix="copnet-bench-import-") as tmp:
        root = Path(tmp)
        source = root / "scores.csv"
        generated = measured(lambda: write_score_file(source, rows))
        tree = organization_tree()
        raws, imports, outcome = [], [], {}
        for round_ in range(rounds):
            raw_store, import_store = root / f"raw-{round_}", root / f"import-{round_}"
            raw_store.mkdir()
            import_store.mkdir()
            raws.append(measured(lambda raw_store=raw_store: raw_load(source, raw_store)))
            imports.append(measured(lambda import_store=import_store: outcome.__setitem__(
                "reading", imported(source, import_store, tree))))
            shutil.rmtree(raw_store)
            if round_ < rounds - 1:
                shutil.rmtree(import_store)
        reading = outcome["reading"].outcome
        kept = pq.read_metadata(import_store / "data-set.partial" / "students.parquet").num_rows
        cells = pq.read_metadata(import_store / "data-set.partial" / "measure_cells.parquet").num_rows
        teacher_cells = pq.read_metadata(import_store / "data-set.partial" / "teacher_cells.parquet").num_rows
        size = source.stat().st_size

    raw, copnet = median(raws), median(imports)
    print(f"\n== assessment import: {rows:,} student score rows ({size / 1e6:.0f} MB CSV, generated in "
          f"{generated.seconds:.1f} s); median of {rounds} alternating rounds")
    print(f"{'':44}{'seconds':>10}{'rows/s':>12}{'peak RSS':>12}")
    print(f"{'baseline: CSV -> Parquet, no checks':44}{raw.seconds:>10.2f}{rows / raw.seconds:>12,.0f}"
          f"{max(r.peak_rss for r in raws) / 2**20:>9.0f} MiB")
    print(f"{'copnet: hash, check, pseudonymise, roll up':44}{copnet.seconds:>10.2f}{rows / copnet.seconds:>12,.0f}"
          f"{max(r.peak_rss for r in imports) / 2**20:>9.0f} MiB")
    print(f"ratio (baseline time / import time): {raw.seconds / copnet.seconds:.2f}  (target >= 0.70); rounds: "
          + ", ".join(f"{r.seconds:.2f}/{i.seconds:.2f}" for r, i in zip(raws, imports)))
    print(f"kept {kept:,} rows, rejected {reading.rows_rejected:,}; {cells:,} measure cells, "
          f"{teacher_cells:,} teacher cells")
    return kept == rows == reading.rows_imported and reading.rows_rejected == 0


def median(runs: list[Run]) -> Run:
    return sorted(runs, key=lambda run: run.seconds)[len(runs) // 2]


if __name__ == "__main__":
    import sys

    sys.exit(0 if bench_assessment_import(int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000) else 1)
