"""Assessment data sets imported over gRPC into a real stack (MongoDB-wire server, NATS, the
reflection process with an importer plugin installed): bad rows reported by file, row and rule
while the good rows import; the same file twice is one data set; a file of no usable row fails
and keeps nothing; a plugin that raises fails the import, not the service; delete removes the
rows; no event carries a student id or a pseudonym.
"""

from __future__ import annotations

import json
import textwrap
import time
from pathlib import Path

import grpc
import pyarrow.parquet as pq
import pytest
from copnet.kernel import db
from copnet.kernel.errors import details_of
from copnet.membership.v1 import membership_pb2
from copnet.reflection.datasets import store
from copnet.reflection.v1 import datasets_pb2

from tests.integration.jetstream_events import published
from tests.support.stack import RunningStack, settings_for_tests

pytestmark = pytest.mark.integration

PLUGIN = '''
    """Small CSV importers for the data-set tests."""
    import pyarrow as pa
    import pyarrow.csv as csv

    from copnet import AssessmentBatch, UnusableInput, hookimpl

    COPNET_HOOKSPEC_VERSION = 2
    COPNET_ENABLED_BY_DEFAULT = True
    TEXT = ("student_id", "school_code", "grade", "test", "school_year", "window", "teacher_id", "race_ethnicity",
            "proficiency_band", "class_id")


    class CsvScores:
        key, title, kind, description = "csv-scores", "CSV scores", "student_scores", "One row per student."
        tests = ("sbac-math",)

        def read(self, file, settings):
            table = csv.read_csv(file.stream, convert_options=csv.ConvertOptions(
                column_types={name: pa.string() for name in TEXT}, strings_can_be_null=True))
            if "scale_score" not in table.column_names:
                raise UnusableInput(f"{file.name} has no scale_score column")
            for start in range(0, table.num_rows, 3):  # several batches, as a large file would come
                part = table.slice(start, 3)
                yield AssessmentBatch(rows=part.append_column("row", pa.array(range(start + 2, start + 2 + part.num_rows),
                                                                               pa.int64())),
                                      bytes_read=file.size_bytes)


    class CsvEnrollments:
        key, title, kind, description = "csv-enrollments", "CSV enrollments", "class_enrollments", "Who taught whom."

        def read(self, file, settings):
            table = csv.read_csv(file.stream, convert_options=csv.ConvertOptions(
                column_types={name: pa.string() for name in TEXT}, strings_can_be_null=True))
            yield AssessmentBatch(rows=table.append_column("row", pa.array(range(2, table.num_rows + 2), pa.int64())))


    class Raising:
        key, title, kind, description = "raising-scores", "Raises", "student_scores", "Always raises."

        def read(self, file, settings):
            raise RuntimeError("a detail of the plugin's own that nobody should read")
            yield


    @hookimpl
    def register_assessment_importers():
        return [CsvScores(), CsvEnrollments(), Raising()]
'''
HEADER = ("student_id,school_code,grade,test,school_year,window,scale_score,achievement_level,english_learner,"
          "disability,economically_disadvantaged,foster,homeless,race_ethnicity,teacher_id,test_date,percentile,"
          "proficiency_band")
ROWS = [
    "S-1001,11111110000001,5,sbac-math,2024-25,spring,2530,3,true,false,true,false,false,hispanic,,,,",       # 2 ok
    "S-1002,11111110000001,5,sbac-math,2024-25,spring,2990,4,false,false,false,false,false,white,,,,",        # 3 score
    "S-1003,99999990000009,5,sbac-math,2024-25,spring,2450,1,false,false,false,false,false,asian,,,,",        # 4 school
    "S-1004,11111110000002,6,sbac-math,2024-25,spring,2600,3,false,true,false,false,false,asian,,,,",         # 5 ok
    "S-1001,11111110000001,5,sbac-math,2024-25,spring,2540,3,true,false,true,false,false,hispanic,,,,",       # 6 duplicate
    "S-1005,11111110000002,13,sbac-math,2024-25,spring,2500,,false,false,false,false,false,white,,,,",        # 7 grade
    "S-1006,11111110000002,6,sbac-math,2024-25,spring,2500,,false,false,false,false,false,filipino,,,,",      # 8 ok
]
EXPECTED_ERRORS = {(3, "SCALE_SCORE_OUT_OF_RANGE"), (4, "UNKNOWN_SCHOOL"), (6, "DUPLICATE_STUDENT"),
                   (7, "UNKNOWN_GRADE")}
STUDENT_IDS = [f"{prefix}-100{n}" for prefix in "STUDE" for n in range(1, 7)]


def install_plugin(site: Path) -> None:
    package = site / "dataset_test_plugins"
    package.mkdir()
    (package / "__init__.py").write_text(textwrap.dedent(PLUGIN))
    dist_info = site / "dataset_test_plugins-1.0.dist-info"
    dist_info.mkdir()
    (dist_info / "METADATA").write_text("Metadata-Version: 2.1\nName: dataset-test-plugins\nVersion: 1.0\n")
    (dist_info / "entry_points.txt").write_text("[copnet]\ndataset-tests = dataset_test_plugins\n")


@pytest.fixture(scope="module")
def ds_stack(tmp_path_factory):
    root = tmp_path_factory.mktemp("datasets-stack")
    site = root / "site"
    site.mkdir()
    install_plugin(site)
    running = RunningStack(settings_for_tests(root / "data"), root, extra_pythonpath=[site])
    try:
        running.start_infrastructure().start_services()
        admin = running.membership(running.token("platform_admin"))
        kinds = membership_pb2
        for org_id, kind, parent, code in (
                ("ds-state", kinds.ORGANIZATION_KIND_STATE, "", ""),
                ("ds-region", kinds.ORGANIZATION_KIND_REGION, "ds-state", ""),
                ("ds-coe", kinds.ORGANIZATION_KIND_COUNTY_OFFICE, "ds-region", "11"),
                ("ds-other-coe", kinds.ORGANIZATION_KIND_COUNTY_OFFICE, "ds-region", "22"),
                ("ds-usd", kinds.ORGANIZATION_KIND_DISTRICT, "ds-coe", "1111111"),
                ("ds-north-es", kinds.ORGANIZATION_KIND_SCHOOL, "ds-usd", "11111110000001"),
                ("ds-south-ms", kinds.ORGANIZATION_KIND_SCHOOL, "ds-usd", "11111110000002")):
            admin.CreateOrganization(membership_pb2.CreateOrganizationRequest(
                organization_id=org_id, name=org_id, kind=kind, parent_id=parent, code=code,
                time_zone="America/Los_Angeles"))
        yield running
    finally:
        running.stop()


def upload(stack, token: str, content: bytes, *, importer: str = "csv-scores", organization: str = "ds-coe",
           name: str = "scores.csv", chunk: int = 100) -> datasets_pb2.DataSet:
    def messages():
        yield datasets_pb2.ImportDataSetRequest(header=datasets_pb2.ImportDataSetHeader(
            importer=importer, organization_id=organization, file_name=name, size_bytes=len(content)))
        for start in range(0, len(content), chunk):
            yield datasets_pb2.ImportDataSetRequest(chunk=content[start:start + chunk])

    return stack.reflection(token).ImportDataSet(messages(), timeout=30).data_set


def settled(stack, token: str, data_set_id: str) -> datasets_pb2.DataSet:
    reflection = stack.reflection(token)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        data_set = reflection.GetDataSet(datasets_pb2.GetDataSetRequest(id=data_set_id)).data_set
        if data_set.status != datasets_pb2.DATA_SET_STATUS_IMPORTING:
            return data_set
        time.sleep(0.2)
    raise AssertionError(f"data set {data_set_id} still importing")


def csv_file(rows) -> bytes:
    return ("\n".join([HEADER, *rows]) + "\n").encode()


def store_dir(stack) -> Path:
    return Path(stack.settings.data_dir).resolve() / "reflection"


def steward(stack) -> str:
    return stack.token("data_steward", "ds-coe", person="steward-1")


def test_bad_rows_are_reported_by_row_and_rule_while_the_good_rows_import(ds_stack):
    token = steward(ds_stack)
    started = upload(ds_stack, token, csv_file(ROWS))
    data_set = settled(ds_stack, token, started.id)

    assert data_set.status == datasets_pb2.DATA_SET_STATUS_READY, data_set.failure
    assert (data_set.rows_read, data_set.rows_imported, data_set.rows_rejected) == (7, 3, 4)
    assert data_set.owner_id == "steward-1" and data_set.kind == datasets_pb2.DATA_SET_KIND_STUDENT_SCORES
    assert list(data_set.school_years) == ["2024-25"] and list(data_set.windows) == ["spring"]
    errors = ds_stack.reflection(token).ListDataSetErrors(datasets_pb2.ListDataSetErrorsRequest(id=data_set.id))
    assert {(e.row, e.reason) for e in errors.errors} == EXPECTED_ERRORS
    assert errors.total == 4 and all(e.file == "scores.csv" for e in errors.errors)
    assert all(student not in e.message for e in errors.errors for student in STUDENT_IDS)

    # The rows are kept pseudonymous, in the data set's own directory, the roll-ups beside them.
    folder = store_dir(ds_stack) / data_set.id
    students = pq.read_table(folder / "students.parquet")
    assert sorted(students.column("row").to_pylist()) == [2, 5, 8]
    assert "student_id" not in students.column_names
    assert not set(students.column("pseudonym").to_pylist()) & set(STUDENT_IDS)
    cells = pq.read_table(folder / "measure_cells.parquet").to_pylist()
    district_all = [c for c in cells if c["organization_id"] == "ds-usd" and c["student_group"] == "all"
                    and c["grade"] == "all"]
    assert [(c["students"], c["scale_sum"], c["level_3"], c["level_4"]) for c in district_all] == [
        (3, 2530.0 + 2600 + 2500, 2, 0)]


def test_the_same_file_twice_is_one_data_set(ds_stack):
    token = steward(ds_stack)
    content = csv_file(row.replace("S-", "T-") for row in (ROWS[0], ROWS[3]))
    first = settled(ds_stack, token, upload(ds_stack, token, content, name="again.csv").id)
    assert first.status == datasets_pb2.DATA_SET_STATUS_READY, first.failure
    again = upload(ds_stack, token, content, name="again-renamed.csv")

    assert again.already_imported and again.id == first.id
    listed = ds_stack.reflection(token).ListDataSets(datasets_pb2.ListDataSetsRequest(organization_id="ds-coe"))
    assert sum(1 for d in listed.data_sets if d.source_sha256 == first.source_sha256) == 1


def test_a_file_without_a_usable_row_fails_and_keeps_nothing(ds_stack):
    token = steward(ds_stack)
    failed = settled(ds_stack, token, upload(ds_stack, token, csv_file([ROWS[1], ROWS[2]]), name="bad.csv").id)

    assert failed.status == datasets_pb2.DATA_SET_STATUS_FAILED
    assert "bad.csv" in failed.failure and "no row" in failed.failure
    assert not (store_dir(ds_stack) / failed.id).exists()
    assert not (store_dir(ds_stack) / f"{failed.id}.partial").exists()

    wrong_shape = settled(ds_stack, token, upload(ds_stack, token, b"a,b\n1,2\n", name="shape.csv").id)
    assert wrong_shape.status == datasets_pb2.DATA_SET_STATUS_FAILED
    assert wrong_shape.failure == "shape.csv: shape.csv has no scale_score column"


def test_a_raising_importer_fails_its_import_with_its_category_only(ds_stack):
    token = steward(ds_stack)
    failed = settled(ds_stack, token, upload(ds_stack, token, csv_file(ROWS[:1]), importer="raising-scores").id)

    assert failed.status == datasets_pb2.DATA_SET_STATUS_FAILED
    assert failed.failure == "scores.csv: the importer raising-scores failed (error)"
    # The service goes on serving.
    assert ds_stack.reflection(token).ListAssessmentImporters(
        datasets_pb2.ListAssessmentImportersRequest()).importers


def test_importing_needs_a_steward_of_the_organization_before_any_chunk_is_read(ds_stack):
    outsider = ds_stack.token("data_steward", "ds-other-coe", person="steward-2")
    teacher = ds_stack.token("member", "ds-coe", person="teacher-1")
    for token in (outsider, teacher):
        with pytest.raises(grpc.RpcError) as refused:
            upload(ds_stack, token, csv_file(ROWS[:1]))
        assert details_of(refused.value).reason == "OUT_OF_SCOPE"
    with pytest.raises(grpc.RpcError) as too_large:
        ds_stack.reflection(steward(ds_stack)).ImportDataSet(iter([datasets_pb2.ImportDataSetRequest(
            header=datasets_pb2.ImportDataSetHeader(importer="csv-scores", organization_id="ds-coe", file_name="big.csv",
                                                    size_bytes=ds_stack.settings.assessment_file_max_bytes + 1))]))
    assert details_of(too_large.value).reason == "FILE_TOO_LARGE"
    with pytest.raises(grpc.RpcError) as unknown:
        upload(ds_stack, steward(ds_stack), csv_file(ROWS[:1]), importer="no-such-importer")
    assert details_of(unknown.value).reason == "UNKNOWN_IMPORTER"
    # Another county's steward does not even learn the data set exists.
    mine = ds_stack.reflection(steward(ds_stack)).ListDataSets(datasets_pb2.ListDataSetsRequest()).data_sets
    with pytest.raises(grpc.RpcError) as hidden:
        ds_stack.reflection(outsider).GetDataSet(datasets_pb2.GetDataSetRequest(id=mine[0].id))
    assert hidden.value.code() == grpc.StatusCode.NOT_FOUND


def test_a_student_already_imported_for_the_window_is_refused_in_a_later_file(ds_stack):
    token = steward(ds_stack)
    later = settled(ds_stack, token, upload(ds_stack, token, csv_file([ROWS[0].replace("2530,3", "2531,3"),
                                                                      ROWS[0].replace("S-1001", "U-1001")]),
                                            name="later.csv").id)
    assert (later.rows_imported, later.rows_rejected) == (1, 1)
    errors = ds_stack.reflection(token).ListDataSetErrors(datasets_pb2.ListDataSetErrorsRequest(id=later.id)).errors
    assert [(e.row, e.field, e.reason) for e in errors] == [(2, "student_id", "DUPLICATE_STUDENT_IMPORTED")]


def test_a_deleted_data_set_is_gone_with_its_rows_and_can_be_imported_again(ds_stack):
    token = steward(ds_stack)
    content = csv_file([ROWS[6].replace("S-", "D-")])
    data_set = settled(ds_stack, token, upload(ds_stack, token, content, name="delete-me.csv").id)
    assert data_set.status == datasets_pb2.DATA_SET_STATUS_READY

    ds_stack.reflection(token).DeleteDataSet(datasets_pb2.DeleteDataSetRequest(id=data_set.id))
    with pytest.raises(grpc.RpcError) as gone:
        ds_stack.reflection(token).GetDataSet(datasets_pb2.GetDataSetRequest(id=data_set.id))
    assert gone.value.code() == grpc.StatusCode.NOT_FOUND
    assert not (store_dir(ds_stack) / data_set.id).exists()

    again = settled(ds_stack, token, upload(ds_stack, token, content, name="delete-me.csv").id)
    assert not again.already_imported and again.id != data_set.id and again.status == datasets_pb2.DATA_SET_STATUS_READY


def test_no_event_carries_a_student_id_or_a_pseudonym(ds_stack):
    token = steward(ds_stack)
    settled(ds_stack, token, upload(ds_stack, token, csv_file(row.replace("S-", "E-") for row in ROWS),
                                    name="events.csv").id)
    pseudonyms = set()
    for folder in store_dir(ds_stack).iterdir():
        if (folder / "students.parquet").exists():
            pseudonyms |= set(pq.read_table(folder / "students.parquet").column("pseudonym").to_pylist())
    assert pseudonyms

    def seen() -> list:
        events = published(ds_stack, "reflection.dataset.*")
        return events if {e.type for e in events} >= {"copnet.reflection.dataset.imported",
                                                       "copnet.reflection.dataset.failed",
                                                       "copnet.reflection.dataset.deleted"} else []

    ds_stack.wait_for(seen, timeout=30, what="the data-set events published")
    for event in seen():
        body = json.dumps(event.data)
        assert not any(secret in body for secret in (*STUDENT_IDS, *pseudonyms)), event.type


def test_growth_enrollments_and_the_store_readers_follow_the_ready_data_sets(ds_stack):
    """What other areas read (`datasets.store`), against the stack's own database and store: growth
    between two imports of the same students, teachers from an enrollment file, and both gone
    with the data sets that made them."""
    token = steward(ds_stack)
    fall = [row.replace("S-", "G-").replace("spring", "fall").replace(",2530,3,", ",2480,2,")
            for row in (ROWS[0], ROWS[3])]
    spring = [row.replace("S-", "G-") for row in (ROWS[0], ROWS[3])]
    first = settled(ds_stack, token, upload(ds_stack, token, csv_file(fall), name="fall.csv").id)
    second = settled(ds_stack, token, upload(ds_stack, token, csv_file(spring), name="spring.csv").id)
    assert (first.rows_imported, second.rows_imported) == (2, 2), (first.failure, second.failure)
    enrollments = settled(ds_stack, token, upload(
        ds_stack, token, b"student_id,teacher_id,class_id,school_code,school_year\n"
                         b"G-1001,teacher-n,math-5,11111110000001,2024-25\n", importer="csv-enrollments",
        name="enrollments.csv").id)
    assert enrollments.status == datasets_pb2.DATA_SET_STATUS_READY, enrollments.failure

    db.connect(ds_stack.mongodb_uri, ds_stack.settings.database_name("reflection"))
    store.use_directory(store_dir(ds_stack))
    try:
        growth = [c for c in store.growth_cells().to_pylist() if c["organization_id"] == "ds-north-es"
                  and c["student_group"] == "all" and c["grade"] == "all"]
        assert [(c["from_window"], c["to_window"], c["students"], c["change_sum"]) for c in growth] == [
            ("fall", "spring", 1, 50.0)]
        teachers = {c["teacher_id"] for c in store.teacher_cells().to_pylist()}
        assert "teacher-n" in teachers
        assert store.organization_parents()["ds-north-es"] == ("ds-usd", "school")
        assert store.data_set_dir(second.id) / "students.parquet" in store.student_files()
        assert store.enrollment_files() == [store.data_set_dir(enrollments.id) / "enrollments.parquet"]
        generation = store.ready_generation()

        reflection = ds_stack.reflection(token)
        reflection.DeleteDataSet(datasets_pb2.DeleteDataSetRequest(id=enrollments.id))
        reflection.DeleteDataSet(datasets_pb2.DeleteDataSetRequest(id=first.id))
        assert store.ready_generation() != generation
        assert "teacher-n" not in {c["teacher_id"] for c in store.teacher_cells().to_pylist()}
        assert not [c for c in store.growth_cells().to_pylist() if c["organization_id"] == "ds-north-es"]
        assert store.data_set_dir(first.id) / "students.parquet" not in store.student_files()
    finally:
        store.use_directory(None)
        db.mongoengine.disconnect()
