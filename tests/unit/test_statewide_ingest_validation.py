"""The hub's judgement of each message on the statewide stream: one test per rule (each fails if
its rule is removed), and properties over arbitrary input."""

from __future__ import annotations

import pytest
from google.protobuf import json_format
from hypothesis import given, settings
from hypothesis import strategies as st

from copnet.kernel.events import CloudEvent, source_for
from copnet.kernel.federation import SHARE_EVENT_TYPE, share_stream_name, share_subject
from copnet.reflection.v1 import measures_pb2, participation_pb2
from copnet.share.v1 import share_pb2
from copnet.statewide.ingest.validation import (MAX_BODY_BYTES, MAX_ROWS, SOURCE_HEADER, Accepted, Refusal,
                                                judge)

LINKED = ("north", "south")


# -- valid records of every kind -------------------------------------------------------------------
def measures_record(region: str = "north", **changes) -> share_pb2.SharedRecord:
    record = share_pb2.SharedRecord(
        schema_version=1, region=region, kind="measures", key="d1|caaspp-ela|2025-26|spring", version=3,
        measures=measures_pb2.AggregatesPublished(
            schema_version=1, region=region, organization_id="d1", level="district", test="caaspp-ela",
            school_year="2025-26", window="spring", version=2, min_cell=11, cut_scores_version="2024",
            cells=[measures_pb2.PublishedAggregateCell(
                       student_group="all", grade="all",
                       figures=measures_pb2.MeasureFigures(students_tested=40, mean_scale_score=2501.5)),
                   measures_pb2.PublishedAggregateCell(student_group="el", grade="all", withheld=True)]))
    for name, value in changes.items():
        setattr(record, name, value)
    return record


def participation_record(region: str = "north") -> share_pb2.SharedRecord:
    return share_pb2.SharedRecord(
        schema_version=1, region=region, kind="participation", key="d1|2025-26", version=1,
        participation=participation_pb2.ParticipationPublished(
            schema_version=1, region=region, organization_id="d1", level="district", program_year="2025-26",
            version=1, min_cell=11,
            figures=participation_pb2.ParticipationFigures(scope_id="d1", level="district", program_year="2025-26",
                                                           teachers_reached=25, learning_hours=120.5),
            children=[participation_pb2.ParticipationFigures(scope_id="s1", level="school",
                                                             program_year="2025-26", withheld=True)]))


def community_record(region: str = "north") -> share_pb2.SharedRecord:
    return share_pb2.SharedRecord(
        schema_version=1, region=region, kind="catalog", key="community:c1", version=1,
        community=share_pb2.SharedCommunity(
            id="c1", name="Grade 3 math PLC", kind="plc", description="Line one.\nLine two.", focus="fractions",
            grade_bands=["3-5"], host_organization_id="d1", status="open", capacity=30, seats_available=12,
            join_url="https://north.example.org/communities/c1"))


def region_record(region: str = "north", min_cell: int = 11) -> share_pb2.SharedRecord:
    return share_pb2.SharedRecord(
        schema_version=1, region=region, kind="directory", key="region", version=1,
        region_info=share_pb2.SharedRegion(region=region, public_url="https://north.example.org",
                                           region_organization_ids=["r1"], min_cell=min_cell))


def cycles_record(region: str = "north") -> share_pb2.SharedRecord:
    return share_pb2.SharedRecord(
        schema_version=1, region=region, kind="cycles", key="d1|2025-26", version=1,
        cycles=share_pb2.SharedCycleCounts(organization_id="d1", level="district", program_year="2025-26",
                                           cycles_open=4, cycles_closed=2, communities_with_cycles=3))


def envelope(data: dict, *, region: str = "north", kind: str = "measures", event_type: str = SHARE_EVENT_TYPE,
             source_stream: str | None = None) -> tuple[str, dict, bytes]:
    """(subject, headers, body) as the statewide stream holds a message of `region`'s link."""
    event = CloudEvent(type=event_type, source=source_for(region, "share"), subject="x", data=data)
    headers = event.headers()
    stream = share_stream_name(region) if source_stream is None else source_stream
    headers[SOURCE_HEADER] = f"{stream}:a1b2c3 17 copnet-share.{region}.> copnet-share.{region}.>"
    return share_subject(region, kind), headers, event.body()


def message(record: share_pb2.SharedRecord, **kwargs) -> tuple[str, dict, bytes]:
    kwargs.setdefault("kind", record.kind if record.kind in ("measures", "participation", "catalog", "directory",
                                                              "cycles") else "measures")
    return envelope(json_format.MessageToDict(record, preserving_proto_field_name=True), **kwargs)


def refusal(subject: str, headers: dict, body: bytes) -> Refusal:
    verdict = judge(subject, headers, body, LINKED)
    assert isinstance(verdict, Refusal), f"accepted: {verdict}"
    return verdict


def reason_of(record: share_pb2.SharedRecord, **kwargs) -> str:
    return refusal(*message(record, **kwargs)).reason


@pytest.mark.parametrize("make", [measures_record, participation_record, community_record, region_record,
                                  cycles_record])
def test_a_valid_record_of_every_kind_is_accepted_with_the_links_region(make):
    verdict = judge(*message(make("south"), region="south"), LINKED)
    assert isinstance(verdict, Accepted)
    assert (verdict.region, verdict.kind) == ("south", make().kind)
    assert verdict.record == make("south")


def test_a_withdrawn_record_needs_no_content():
    record = share_pb2.SharedRecord(schema_version=1, region="north", kind="measures", key="d1|t|y|w", version=4,
                                    withdrawn=True)
    assert isinstance(judge(*message(record), LINKED), Accepted)


# -- one test per reason -------------------------------------------------------------------------
def test_too_large_a_body():
    subject, headers, _ = message(measures_record())
    verdict = refusal(subject, headers, b"{" + b" " * MAX_BODY_BYTES + b"}")
    assert (verdict.reason, verdict.region) == ("TOO_LARGE", "")


def test_too_many_cells():
    record = measures_record()
    cell = measures_pb2.PublishedAggregateCell(student_group="all", grade="3", withheld=True)
    record.measures.cells.extend([cell] * (MAX_ROWS + 1))
    # Compact enough to stay under the byte bound: the count is what is refused.
    subject, headers, body = message(record)
    assert len(body) <= MAX_BODY_BYTES
    assert refusal(subject, headers, body).reason == "TOO_LARGE"


def test_too_many_items_in_a_list():
    record = community_record()
    record.community.eligible_organization_ids.extend([f"o{i}" for i in range(1001)])
    assert reason_of(record) == "TOO_LARGE"


def test_not_a_share_subject():
    _, headers, body = message(measures_record())
    assert refusal("copnet.north.membership.person.created", headers, body).reason == "NOT_A_SHARE_SUBJECT"
    assert refusal("copnet-share.north.people", headers, body).reason == "NOT_A_SHARE_SUBJECT"


def test_not_a_cloud_event():
    subject, headers, body = message(measures_record())
    del headers["ce-type"]
    assert refusal(subject, headers, body).reason == "NOT_A_CLOUD_EVENT"
    assert refusal(subject, message(measures_record())[1], b"[1, 2]").reason == "NOT_A_CLOUD_EVENT"
    assert refusal(subject, message(measures_record())[1], b"\xff\xfe").reason == "NOT_A_CLOUD_EVENT"


def test_another_event_type_is_not_a_shared_record():
    data = json_format.MessageToDict(measures_record(), preserving_proto_field_name=True)
    assert refusal(*envelope(data, event_type="copnet.membership.person.created")).reason == "NOT_A_SHARED_RECORD"


def test_a_field_nobody_allowed_is_refused_not_dropped():
    data = json_format.MessageToDict(community_record(), preserving_proto_field_name=True)
    data["community"]["facilitator_emails"] = ["someone@example.org"]
    verdict = refusal(*envelope(data, kind="catalog"))
    assert verdict.reason == "NOT_A_SHARED_RECORD"
    assert "facilitator_emails" in verdict.detail


def test_data_of_the_wrong_shape_is_not_a_shared_record():
    data = json_format.MessageToDict(measures_record(), preserving_proto_field_name=True)
    data["version"] = "three"
    assert refusal(*envelope(data)).reason == "NOT_A_SHARED_RECORD"


def test_unknown_region():
    verdict = refusal(*message(measures_record("east"), region="east"))
    assert (verdict.reason, verdict.region) == ("UNKNOWN_REGION", "east")


def test_a_record_claiming_another_region_than_its_link():
    verdict = refusal(*message(measures_record("south"), region="north"))
    assert (verdict.reason, verdict.region) == ("REGION_MISMATCH", "north")


def test_content_claiming_another_region_than_its_link():
    record = measures_record()
    record.measures.region = "south"
    assert reason_of(record) == "REGION_MISMATCH"
    info = region_record()
    info.region_info.region = "south"
    assert reason_of(info) == "REGION_MISMATCH"


def test_a_source_header_naming_another_regions_share_stream():
    verdict = refusal(*message(measures_record(), source_stream=share_stream_name("south")))
    assert verdict.reason == "REGION_MISMATCH"


def test_subject_kind_against_record_kind():
    assert reason_of(measures_record(), kind="participation") == "KIND_MISMATCH"


def test_record_kind_against_its_content():
    record = community_record()
    record.kind = "directory"
    assert reason_of(record, kind="directory") == "KIND_MISMATCH"


def test_content_is_required_unless_withdrawn():
    record = share_pb2.SharedRecord(schema_version=1, region="north", kind="measures", key="k", version=1)
    assert reason_of(record) == "KIND_MISMATCH"


@pytest.mark.parametrize("version", [0, -1, 2 ** 53 + 1])
def test_bad_version(version):
    assert reason_of(measures_record(version=version)) == "BAD_VERSION"


def test_schema_version():
    assert reason_of(measures_record(schema_version=2)) == "SCHEMA_VERSION"


@pytest.mark.parametrize("key", ["", " padded", "a" * 301, "line\nbreak"])
def test_bad_key(key):
    assert reason_of(measures_record(key=key)) == "BAD_KEY"


def test_a_catalog_key_must_name_its_community():
    record = community_record()
    record.key = "community:c2"
    assert reason_of(record) == "BAD_KEY"


def test_min_cell_below_ten():
    record = measures_record()
    record.measures.min_cell = 9
    assert reason_of(record) == "BELOW_THRESHOLD"
    assert reason_of(region_record(min_cell=5)) == "BELOW_THRESHOLD"


def test_a_small_cell_not_withheld():
    record = measures_record()
    record.measures.cells[0].figures.students_tested = 10
    assert reason_of(record) == "BELOW_THRESHOLD"


def test_a_withheld_cell_with_figures():
    record = measures_record()
    record.measures.cells[1].figures.students_tested = 3
    assert reason_of(record) == "BELOW_THRESHOLD"


def test_few_teachers_not_withheld():
    record = participation_record()
    record.participation.figures.teachers_reached = 4
    assert reason_of(record) == "BELOW_THRESHOLD"


def test_a_withheld_participation_row_with_figures():
    record = participation_record()
    record.participation.children[0].teachers_reached = 3
    assert reason_of(record) == "BELOW_THRESHOLD"


def test_a_name_too_long():
    record = community_record()
    record.community.name = "n" * 201
    verdict = refusal(*message(record))
    assert verdict.reason == "TOO_LONG"
    assert "community.name" in verdict.detail


def test_a_control_character_in_a_name():
    record = community_record()
    record.community.name = "PLC\x1b[31m"
    assert reason_of(record) == "CONTROL_CHARACTER"


def test_a_line_break_in_a_name_but_not_in_a_description():
    record = community_record()
    record.community.name = "two\nlines"
    assert reason_of(record) == "CONTROL_CHARACTER"
    assert isinstance(judge(*message(community_record()), LINKED), Accepted)  # its description has one


def test_a_focus_is_a_longer_text_as_membership_bounds_it():
    record = community_record()
    record.community.focus = "fractions\n" + "f" * 489
    assert isinstance(judge(*message(record), LINKED), Accepted)
    record.community.focus = "f" * 501
    assert reason_of(record) == "TOO_LONG"


def test_a_join_url_that_is_not_http():
    record = community_record()
    record.community.join_url = "javascript:alert(1)"
    assert reason_of(record) == "BAD_URL"


def test_an_instant_out_of_range():
    record = community_record()
    record.community.signup_opens.seconds = -3_000_000_000  # 1874
    assert reason_of(record) == "INSTANT_OUT_OF_RANGE"


# -- properties ------------------------------------------------------------------------------------
@settings(max_examples=200, deadline=None)
@given(subject=st.text(max_size=60), headers=st.dictionaries(st.text(max_size=20), st.text(max_size=40), max_size=8),
       body=st.binary(max_size=400))
def test_any_message_is_judged_without_an_error(subject, headers, body):
    assert isinstance(judge(subject, headers, body, LINKED), (Accepted, Refusal))


@settings(max_examples=100, deadline=None)
@given(claimed=st.from_regex(r"[a-z][a-z0-9-]{1,31}", fullmatch=True), link=st.sampled_from(LINKED))
def test_a_record_is_accepted_only_from_the_region_it_names(claimed, link):
    verdict = judge(*message(measures_record(claimed), region=link), LINKED)
    assert isinstance(verdict, Accepted) == (claimed == link)
    if isinstance(verdict, Accepted):
        assert verdict.region == link


@settings(max_examples=100, deadline=None)
@given(name=st.from_regex(r"[a-z][a-z_]{0,30}", fullmatch=True), value=st.one_of(st.text(max_size=20), st.integers()))
def test_any_field_the_proto_does_not_have_is_refused(name, value):
    data = json_format.MessageToDict(measures_record(), preserving_proto_field_name=True)
    if name in share_pb2.SharedRecord.DESCRIPTOR.fields_by_name or name in {
            f.json_name for f in share_pb2.SharedRecord.DESCRIPTOR.fields}:
        return
    data[name] = value
    assert refusal(*envelope(data)).reason == "NOT_A_SHARED_RECORD"


@settings(max_examples=100, deadline=None)
@given(students=st.integers(min_value=0, max_value=200), min_cell=st.integers(min_value=10, max_value=50))
def test_a_published_cell_is_accepted_exactly_when_it_reaches_min_cell(students, min_cell):
    record = measures_record()
    record.measures.min_cell = min_cell
    record.measures.cells[0].figures.students_tested = students
    verdict = judge(*message(record), LINKED)
    assert isinstance(verdict, Accepted) == (students >= min_cell)



# -- a refusal's detail never repeats what the sender wrote ----------------------------------------
SECRET = "jane.doe@example.org"


def injected(where: str) -> tuple[str, dict, bytes]:
    record = measures_record()
    data = json_format.MessageToDict(record, preserving_proto_field_name=True)
    if where == "value of a known field":
        data["version"] = SECRET
    elif where == "name of an unknown field":
        data[SECRET] = 1
    elif where == "claimed region":
        data["region"] = SECRET
    elif where == "kind":
        data["kind"] = SECRET
    elif where == "event type":
        return envelope(data, event_type=SECRET)
    elif where == "ce-time":
        subject, headers, body = envelope(data)
        return subject, {**headers, "ce-time": SECRET}, body
    elif where == "key":
        record = community_record()
        record.key = f"community:{SECRET}"
        return message(record)
    elif where == "small count":
        record.measures.cells[0].figures.students_tested = 7
        return message(record)
    return envelope(data)


@pytest.mark.parametrize("where", ["value of a known field", "name of an unknown field", "claimed region", "kind",
                                   "event type", "ce-time", "key", "small count"])
def test_a_refusals_detail_does_not_repeat_what_the_sender_wrote(where):
    verdict = refusal(*injected(where))
    assert SECRET not in verdict.detail
    assert "7" not in verdict.detail.replace("min_cell 11", "")
