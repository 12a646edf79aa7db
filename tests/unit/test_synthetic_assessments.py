"""The synthetic assessment files: deterministic, in the importers' shapes (they read without an
error), with the gaps, growth and cut-score levels the generator promises, aggregates that match
the student file, and memory that does not grow with the rows written."""

from __future__ import annotations

import io

import pyarrow as pa
import pyarrow.compute as pc
import pytest
from copnet import AssessmentFile
from copnet.reflection import reference
from copnet.reflection.synthetic import (
    Plan,
    SyntheticSchool,
    write_benchmark,
    write_caaspp_scores,
    write_enrollments,
    write_research_file,
)
from copnet_plugins import assessment_benchmark, assessment_caaspp, oneroster

ELEMENTARY = SyntheticSchool("01612340000001", ("3", "4", "5"), 400, {"3": ("t-a", "t-b")}, {"t-a": 0.5})
MIDDLE = SyntheticSchool("01612340000002", ("6", "7", "8"), 300)
PLAN = Plan((ELEMENTARY, MIDDLE), (2024, 2025), seed=7)


def imported(importer, write, *args, **kwargs) -> pa.Table:
    data = io.BytesIO()
    written = write(data, PLAN, *args, **kwargs)
    batches = list(importer.read(AssessmentFile("f.csv", io.BytesIO(data.getvalue())), None))
    assert [e for b in batches for e in b.errors] == []
    rows = pa.concat_tables([b.rows for b in batches])
    assert rows.num_rows == written
    return rows


@pytest.fixture(scope="module")
def scores() -> pa.Table:
    return imported(assessment_caaspp.StudentScores(), write_caaspp_scores)


def mean(table: pa.Table, mask) -> float:
    return pc.mean(pc.filter(table.column("scale_score"), mask)).as_py()


def test_the_same_plan_writes_the_same_bytes():
    first, second, other = io.BytesIO(), io.BytesIO(), io.BytesIO()
    write_caaspp_scores(first, PLAN)
    write_caaspp_scores(second, PLAN)
    write_caaspp_scores(other, Plan(PLAN.schools, PLAN.years, seed=8))
    assert first.getvalue() == second.getvalue() != other.getvalue()


def test_scores_lie_in_range_with_levels_from_the_cut_scores(scores):
    assert scores.num_rows == 2 * (3 * 400 + 3 * 300)
    for row in scores.to_pylist()[::97]:
        scale = reference.SBAC_MATH.scales[row["grade"]]
        assert scale.lowest <= row["scale_score"] <= scale.highest
        assert row["achievement_level"] == scale.level_of(row["scale_score"])
        assert row["student_id"].startswith("SYN")


def test_groups_have_realistic_shares_and_gaps(scores):
    n = scores.num_rows
    for flag, low, high in (("english_learner", 0.12, 0.26), ("disability", 0.09, 0.19),
                            ("economically_disadvantaged", 0.55, 0.75)):
        share = pc.sum(scores.column(flag)).as_py() / n
        assert low < share < high, flag
        gap = mean(scores, scores.column(flag)) - mean(scores, pc.invert(scores.column(flag)))
        assert gap < -25, flag
    race = scores.column("race_ethnicity")
    assert mean(scores, pc.equal(race, "asian")) > mean(scores, pc.equal(race, "white")) > \
        mean(scores, pc.equal(race, "hispanic")) > mean(scores, pc.equal(race, "african_american"))
    met = pc.sum(pc.greater_equal(scores.column("achievement_level"), 3)).as_py() / n
    assert 0.25 < met < 0.5


def test_a_cohort_moves_up_a_grade_each_year(scores):
    ids = scores.column("student_id")
    grade3_2024 = set(pc.filter(ids, pc.and_(pc.equal(scores.column("grade"), "3"),
                                             pc.equal(scores.column("school_year"), "2023-24"))).to_pylist())
    grade4_2025 = set(pc.filter(ids, pc.and_(pc.equal(scores.column("grade"), "4"),
                                             pc.equal(scores.column("school_year"), "2024-25"))).to_pylist())
    assert len(grade3_2024) == 400 and grade3_2024 == grade4_2025


def test_a_teacher_effect_shows_in_their_students(scores):
    teachers = scores.column("teacher_id")
    assert mean(scores, pc.equal(teachers, "t-a")) - mean(scores, pc.equal(teachers, "t-b")) > 20
    assert pc.all(pc.is_null(pc.filter(teachers, pc.equal(scores.column("grade"), "4")))).as_py()


def test_benchmark_grows_through_the_windows():
    rows = imported(assessment_benchmark.BenchmarkCsv(), write_benchmark)
    assert rows.num_rows == 3 * 2 * (3 * 400 + 3 * 300)
    window = rows.column("window")
    fall, winter, spring = (mean(rows, pc.equal(window, w)) for w in ("fall", "winter", "spring"))
    assert fall + 5 < winter < spring - 5
    assert 35 < pc.mean(rows.column("percentile")).as_py() < 65
    assert rows.column("proficiency_band").null_count == 0
    el = rows.column("english_learner")
    assert mean(rows, el) < mean(rows, pc.invert(el)) - 10


def test_the_research_file_is_the_aggregate_of_the_student_file(scores):
    results = imported(assessment_caaspp.ResearchFile(), write_research_file)
    school = results.filter(pc.and_(pc.equal(results.column("entity_code"), ELEMENTARY.code),
                                    pc.equal(results.column("school_year"), "2024-25")))
    cell = school.filter(pc.and_(pc.equal(school.column("student_group"), "all"),
                                 pc.equal(school.column("grade"), "3"))).to_pylist()[0]
    students = scores.filter(pc.and_(pc.and_(pc.equal(scores.column("school_code"), ELEMENTARY.code),
                                             pc.equal(scores.column("school_year"), "2024-25")),
                                     pc.equal(scores.column("grade"), "3")))
    assert cell["students_tested"] == students.num_rows == 400
    assert cell["mean_scale_score"] == pytest.approx(pc.mean(students.column("scale_score")).as_py(), abs=0.05)
    met = pc.sum(pc.greater_equal(students.column("achievement_level"), 3)).as_py()
    assert cell["percent_met_or_exceeded"] == pytest.approx(100 * met / 400, abs=0.01)
    state = results.filter(pc.and_(pc.equal(results.column("entity_level"), "state"),
                                   pc.equal(results.column("student_group"), "all")))
    assert sum(state.filter(pc.equal(state.column("grade"), "all")).column("students_tested").to_pylist()) == \
        scores.num_rows
    small = results.filter(results.column("suppressed_by_source"))
    assert small.num_rows > 0 and small.column("students_tested").null_count == small.num_rows


def test_enrollments_pair_the_students_with_their_teachers():
    importer = oneroster.register_assessment_importers()[0]
    data = io.BytesIO()
    write_enrollments(data, PLAN, 2025)
    batches = list(importer.read(AssessmentFile("enrollments.csv", io.BytesIO(data.getvalue())), None))
    rows = pa.concat_tables([b.rows for b in batches])
    assert [e for b in batches for e in b.errors] == []
    assert rows.num_rows == 400
    assert set(rows.column("teacher_id").to_pylist()) == {"or-t-a", "or-t-b"}
    assert set(rows.column("school_year").to_pylist()) == {"2024-25"}


def test_writing_four_times_the_rows_takes_the_same_memory():
    class Peak(io.RawIOBase):
        def __init__(self):
            self.baseline, self.peak, self.size = pa.total_allocated_bytes(), 0, 0

        def writable(self) -> bool:
            return True

        def write(self, data) -> int:
            self.peak = max(self.peak, pa.total_allocated_bytes() - self.baseline)
            self.size += len(data)
            return len(data)

    def peak_of(schools: int) -> Peak:
        sink = Peak()
        plan = Plan(tuple(SyntheticSchool(f"37{n:05d}0000000", ("6", "7", "8"), 200) for n in range(schools)),
                    (2025,))
        write_caaspp_scores(sink, plan)
        return sink

    # 60,000 and 240,000 rows: both past the writer's chunk, so memory is one chunk's either way.
    small, big = peak_of(100), peak_of(400)
    assert big.size > 3.9 * small.size
    assert big.peak <= small.peak * 1.25


def test_a_school_needs_a_cds_code_and_known_grades():
    with pytest.raises(ValueError, match="14-digit CDS code"):
        SyntheticSchool("lakeview", ("6",))
    with pytest.raises(ValueError, match="not a grade"):
        SyntheticSchool("01612340000001", ("13",))


def test_the_demo_files_read_cleanly_and_name_only_the_uploading_county_offices_schools():
    import datetime as dt

    from copnet import seed

    importers = {"caaspp-student-scores": assessment_caaspp.StudentScores(),
                 "benchmark-csv": assessment_benchmark.BenchmarkCsv(),
                 "caaspp-research-file": assessment_caaspp.ResearchFile()}
    organizations = {org.id: org for org in seed.DEMO_ORGANIZATIONS}

    def county_of(org_id: str) -> str:
        while organizations[org_id].kind != "county_office":
            org_id = organizations[org_id].parent_id
        return org_id

    schools = {org.code: county_of(org.id) for org in seed.DEMO_ORGANIZATIONS if org.kind == "school"}
    items = seed.demo_assessments(dt.datetime(2026, 12, 4, tzinfo=dt.UTC))
    assert {item.file_name for item in items} >= {"demo-caaspp-math-2023-24.csv", "demo-benchmark-math-2025-26.csv",
                                                  "demo-caaspp-research-2025-26.txt"}
    for item in items:
        content = io.BytesIO()
        item.write(content)
        again = io.BytesIO()
        item.write(again)
        assert content.getvalue() == again.getvalue()
        batches = list(importers[item.importer].read(AssessmentFile(item.file_name, io.BytesIO(content.getvalue())),
                                                     None))
        assert [e for b in batches for e in b.errors] == []
        rows = pa.concat_tables([b.rows for b in batches])
        if item.importer != "caaspp-research-file":
            assert {schools[code] for code in rows.column("school_code").to_pylist()} == {item.organization_id}
            teachers = set(rows.column("teacher_id").drop_null().to_pylist())
            assert teachers <= {person.id for person in seed.DEMO_PEOPLE}
