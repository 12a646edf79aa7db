"""Bad input at the hub: what arrives on a share subject and is not a valid, versioned record of the
region whose link it came over is refused with its reason (statewide ListRejections) and never
applied; a region cannot overwrite another region's figures.

A hub and two regions, "north" and "south", each running only its share service (which keeps its
share stream) behind its own nats-server linked to the hub. Messages are put straight into a
region's share stream as that stream's administrator, as a bug or an intruder upstream of the
share service could: the hub is the last line, and must hold.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import uuid

import nats
import pytest
from google.protobuf import json_format

from copnet.kernel.events import CloudEvent, source_for
from copnet.kernel.federation import SHARE_EVENT_TYPE, SHARED_RECORD_SCHEMA_VERSION, share_subject
from copnet.kernel.timestamps import timestamp
from copnet.reflection.v1 import measures_pb2
from copnet.share.v1 import share_pb2
from copnet.statewide.v1 import ingest_pb2
from tests.support.federation import (Federation, hub_documents, publish_to_share_stream, running_federation,
                                      share_admin_url, statewide_stream_messages, wait_until)

pytestmark = pytest.mark.integration

NORTH, SOUTH = "north", "south"
MIN_CELL = 11
APPLY_SECONDS = 30
LEAKED_EMAIL = "leaked.person@north.example.org"


@pytest.fixture(scope="module")
def federation(tmp_path_factory):
    with running_federation(tmp_path_factory.mktemp("federation-bad-input"), (NORTH, SOUTH),
                            region_services=("share",), region_gateways=False) as running:
        yield running


# -- records, as the share service makes them ------------------------------------------------------
def community_record(region: str, community_id: str, version: int = 1, name: str = "A PLC") -> share_pb2.SharedRecord:
    return share_pb2.SharedRecord(
        schema_version=SHARED_RECORD_SCHEMA_VERSION, region=region, kind="catalog", key=f"community:{community_id}",
        version=version, publish_time=timestamp(dt.datetime.now(dt.UTC)),
        community=share_pb2.SharedCommunity(id=community_id, name=name, kind="plc", status="open", capacity=20,
                                            seats_available=12, grade_bands=["6-8"]))


def measures_record(region: str, organization_id: str, version: int = 1, students: int = 40,
                    content_region: str | None = None) -> share_pb2.SharedRecord:
    key = f"{organization_id}|sbac-math|2025-26|spring"
    now = timestamp(dt.datetime.now(dt.UTC))
    return share_pb2.SharedRecord(
        schema_version=SHARED_RECORD_SCHEMA_VERSION, region=region, kind="measures", key=key, version=version,
        publish_time=now,
        measures=measures_pb2.AggregatesPublished(
            schema_version=1, region=content_region or region, organization_id=organization_id, level="district",
            test="sbac-math", school_year="2025-26", window="spring", version=version, min_cell=MIN_CELL,
            publish_time=now,
            cells=[measures_pb2.PublishedAggregateCell(
                student_group="all", grade="6",
                figures=measures_pb2.MeasureFigures(students_tested=students, mean_scale_score=2510.0)),
                measures_pb2.PublishedAggregateCell(student_group="foster", grade="6", withheld=True)]))


def as_event(region: str, record: share_pb2.SharedRecord) -> tuple[dict[str, str], bytes]:
    """The CloudEvent's headers and body, as the share service's outbox publishes a record."""
    event = CloudEvent.of(SHARE_EVENT_TYPE, source_for(region, "share"), record.key, record)
    return event.headers(), event.body()


def with_field(body: bytes, path: tuple[str, ...], value) -> bytes:
    data = json.loads(body)
    target = data
    for name in path[:-1]:
        target = target[name]
    target[path[-1]] = value
    return json.dumps(data).encode()


def inject(federation: Federation, region: str, kind: str, data: bytes, headers: dict[str, str] | None = None) -> int:
    return publish_to_share_stream(federation.regions[region], share_subject(region, kind), data, headers)


def inject_record(federation: Federation, region: str, record: share_pb2.SharedRecord, kind: str | None = None) -> int:
    headers, body = as_event(region, record)
    return inject(federation, region, kind or record.kind, body, headers)


# -- what the hub did with them --------------------------------------------------------------------
def state_of(federation: Federation, region: str, kind: str, key: str) -> share_pb2.SharedRecord | None:
    docs = hub_documents(federation.hub, "shared_state", {"region": region, "kind": kind, "key": key})
    return json_format.ParseDict(docs[0]["record"], share_pb2.SharedRecord()) if docs else None


def applied_keys(federation: Federation) -> set[str]:
    return {doc["key"] for collection in ("shared_state", "shared_history")
            for doc in hub_documents(federation.hub, collection)}


def rejections(federation: Federation) -> list[ingest_pb2.Rejection]:
    stub = federation.hub.statewide(federation.hub.token("platform_admin"))
    found, token = [], ""
    while True:
        reply = stub.ListRejections(ingest_pb2.ListRejectionsRequest(page_size=100, page_token=token))
        found += reply.rejections
        if not (token := reply.next_page_token):
            return found


def origin_sequences(federation: Federation) -> dict[int, tuple[str, int]]:
    """The statewide stream's sequence -> (origin stream, its sequence there), from the header
    JetStream's source adds (`<stream>[:<hash>] <sequence> ...`)."""
    found = {}
    for message in statewide_stream_messages(federation.hub):
        stream, sequence = message.headers["Nats-Stream-Source"].split(" ")[:2]
        found[message.stream_sequence] = (stream.split(":", 1)[0], int(sequence))
    return found


def rejection_of(federation: Federation, region: str, sequence: int) -> list[ingest_pb2.Rejection]:
    """The rejections of what was put at `sequence` of `region`'s share stream."""
    origins = origin_sequences(federation)
    return [r for r in rejections(federation)
            if origins.get(r.stream_sequence) == (f"copnet-share-{region}", sequence)]


def wait_until_applied(federation: Federation, region: str, record: share_pb2.SharedRecord) -> None:
    wait_until(lambda: (state := state_of(federation, region, record.kind, record.key)) is not None
               and state.version == record.version, APPLY_SECONDS, f"{region} {record.key} v{record.version} at the hub")


# -- the tests -------------------------------------------------------------------------------------
def test_a_message_that_is_not_a_valid_versioned_record_is_refused_with_its_reason(federation):
    valid = community_record(NORTH, "bad-input-template")
    headers, body = as_event(NORTH, valid)
    version_zero = community_record(NORTH, "bad-input-version-zero", version=0)
    kind_mismatch = measures_record(NORTH, "bad-input-kind-district")
    below = measures_record(NORTH, "bad-input-small-district", students=4)
    cases = {
        "junk bytes": (inject(federation, NORTH, "catalog", b"\x00\xff not json at all"), "NOT_A_CLOUD_EVENT"),
        "no CloudEvents headers": (inject(federation, NORTH, "catalog", body), "NOT_A_CLOUD_EVENT"),
        "an e-mail field": (inject(federation, NORTH, "catalog", with_field(body, ("community", "email"), LEAKED_EMAIL),
                                   headers), "NOT_A_SHARED_RECORD"),
        "version 0": (inject_record(federation, NORTH, version_zero), "BAD_VERSION"),
        "a measures record on the catalog subject": (inject_record(federation, NORTH, kind_mismatch, kind="catalog"),
                                                     "KIND_MISMATCH"),
        "4 students, not withheld": (inject_record(federation, NORTH, below), "BELOW_THRESHOLD"),
    }
    # A valid record after them: the ingest carried on (and the refusals before it are recorded).
    after = community_record(NORTH, "bad-input-valid-after")
    inject_record(federation, NORTH, after)
    wait_until_applied(federation, NORTH, after)
    wait_until(lambda: all(rejection_of(federation, NORTH, sequence) for sequence, _ in cases.values()),
               APPLY_SECONDS, "every bad message's rejection")
    found = {}
    for case, (sequence, _) in cases.items():
        [rejection] = rejection_of(federation, NORTH, sequence)
        found[case] = rejection.reason
        assert rejection.region == NORTH, case
        assert rejection.subject.startswith(f"copnet-share.{NORTH}."), case
        assert rejection.detail, case
    assert found == {case: reason for case, (_, reason) in cases.items()}
    # The payload is not kept: not even the refused e-mail address in the reason's detail.
    assert not [r for r in rejections(federation) if LEAKED_EMAIL in r.detail]
    assert not [doc for doc in hub_documents(federation.hub, "rejections") if LEAKED_EMAIL in json.dumps(doc, default=str)]
    # Never applied, not even in part.
    assert not {"community:bad-input-template", version_zero.key, kind_mismatch.key, below.key} & applied_keys(federation)
    regions = federation.hub.statewide(federation.hub.token("platform_admin")).ListRegions(ingest_pb2.ListRegionsRequest())
    north = next(link for link in regions.regions if link.region == NORTH)
    assert north.rejections >= len(cases)


def test_a_region_cannot_overwrite_another_regions_figures(federation):
    south_figures = measures_record(SOUTH, "shared-district", students=40)
    inject_record(federation, SOUTH, south_figures)
    wait_until_applied(federation, SOUTH, south_figures)
    # North claims south's key, newer version and other figures: in the record ...
    claimed = measures_record(SOUTH, "shared-district", version=2, students=99)
    claim = inject_record(federation, NORTH, claimed, kind="measures")
    # ... or only inside its content.
    hidden = measures_record(NORTH, "shared-district", version=3, students=98, content_region=SOUTH)
    hidden_claim = inject_record(federation, NORTH, hidden)
    after = community_record(NORTH, "region-claims-valid-after")
    inject_record(federation, NORTH, after)
    wait_until_applied(federation, NORTH, after)
    wait_until(lambda: rejection_of(federation, NORTH, claim) and rejection_of(federation, NORTH, hidden_claim),
               APPLY_SECONDS, "the claims' rejections")
    for sequence in (claim, hidden_claim):
        [rejection] = rejection_of(federation, NORTH, sequence)
        assert (rejection.reason, rejection.region) == ("REGION_MISMATCH", NORTH)
    # South's figures are as south shared them; north got nothing under that key either.
    assert state_of(federation, SOUTH, "measures", south_figures.key) == south_figures
    assert state_of(federation, NORTH, "measures", south_figures.key) is None
    assert [doc["version"] for doc in hub_documents(federation.hub, "shared_history", {"key": south_figures.key})] == [1]


def test_a_region_cannot_even_store_a_record_on_another_regions_subject(federation):
    """North's share stream holds north's subjects only: a record on south's subject is stored by no
    stream of north's, so it cannot cross (the leaf's deny lists would stop it as well)."""
    headers, body = as_event(SOUTH, community_record(SOUTH, "north-on-south-subject"))

    async def publish() -> None:
        connection = await nats.connect(share_admin_url(federation.regions[NORTH]))
        try:
            await connection.jetstream().publish(share_subject(SOUTH, "catalog"), body, headers=headers, timeout=2)
        finally:
            await connection.close()

    with pytest.raises((nats.js.errors.NoStreamResponseError, nats.errors.NoRespondersError, nats.errors.TimeoutError)):
        asyncio.run(publish())
    assert "community:north-on-south-subject" not in applied_keys(federation)


def test_the_same_version_sent_twice_is_applied_once(federation):
    """The same version sent twice (a re-publish with another event id) is applied once."""
    record = community_record(NORTH, "twice-sent", version=1, name="First")
    inject_record(federation, NORTH, record)
    again = community_record(NORTH, "twice-sent", version=1, name="Second")
    headers, body = as_event(NORTH, again)
    headers["ce-id"] = headers["Nats-Msg-Id"] = uuid.uuid4().hex
    inject(federation, NORTH, "catalog", body, headers)
    after = community_record(NORTH, "twice-sent-after")
    inject_record(federation, NORTH, after)
    wait_until_applied(federation, NORTH, after)
    assert state_of(federation, NORTH, "catalog", record.key).community.name == "First"
    assert len(hub_documents(federation.hub, "shared_history", {"region": NORTH, "key": record.key})) == 1
