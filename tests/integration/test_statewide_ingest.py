"""The hub's ingest with real processes: the hub as `copnet up --hub` plans it (nats-server with
JetStream domain `hub`, the embedded MongoDB, the statewide service) and region north's
nats-server (domain `north`, accounts COPNET and SHARE) linked to it as a leaf node; the hub's
statewide stream sources the region's share stream through `$JS.north.API`.

What a region's share service would publish is published here straight onto the region's share
stream, so every kind of bad input can be sent too."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import grpc
import nats
import pymongo
import pytest
from google.protobuf import json_format
from nats.js.api import StorageType, StreamConfig

from copnet import federation_nats
from copnet import stack as stacklib
from copnet.kernel import auth, token_keys
from copnet.kernel.events import CloudEvent, source_for
from copnet.kernel.federation import (SHARE_EVENT_TYPE, STATEWIDE_STREAM, share_stream_name, share_subject,
                                      share_subjects)
from copnet.kernel.settings import Settings
from copnet.reflection.v1 import measures_pb2
from copnet.share.v1 import share_pb2
from copnet.statewide.ingest import apply as ingest_apply
from copnet.statewide.ingest.validation import Accepted
from copnet.statewide.v1 import ingest_pb2, statewide_pb2_grpc

from tests.support.processes import ManagedProcess
from tests.support.stack import settings_for_tests

pytestmark = pytest.mark.integration

REGION = "north"


# -- the hub and one region, as real processes ---------------------------------------------------
@dataclass
class Hub:
    root: Path
    settings: Settings
    plan: stacklib.StackPlan
    region_plan: stacklib.StackPlan
    processes: dict[str, ManagedProcess]

    @property
    def hub_nats_url(self) -> str:
        """The hub's NATS as its operator (the STATEWIDE account)."""
        return self.plan.nats_operator_url

    @property
    def region_nats_url(self) -> str:
        """The region's NATS as its SHARE account's administrator (the share stream's account)."""
        return self.region_plan.share_operator_url

    # -- the statewide service -------------------------------------------------------------------
    def start_statewide(self, regions: str) -> None:
        [spec] = self.plan.services
        spec.env = {**spec.env, "COPNET_HUB_REGIONS": regions}
        self.processes["statewide"] = ManagedProcess(spec, self.root / "hub").start()

    def stop_statewide(self) -> None:
        self.processes.pop("statewide").stop()

    def stub(self) -> statewide_pb2_grpc.StatewideServiceStub:
        channel = grpc.insecure_channel(self.settings.address_of("statewide"))
        return statewide_pb2_grpc.StatewideServiceStub(channel)

    def token(self, role: str, org: str = "state") -> list[tuple[str, str]]:
        token = auth.issue_token(token_keys.issuer(self.settings), "coordinator", role,
                                 "" if role == "platform_admin" else org)
        return [("authorization", f"Bearer {token}")]

    # -- the database the service writes ---------------------------------------------------------
    @property
    def mongodb_uri(self) -> str:
        return self.plan.mongodb_uri

    @property
    def db(self):
        return pymongo.MongoClient(self.mongodb_uri)[self.settings.database_name("statewide")]

    def wait_for(self, predicate, what: str, timeout: float = 60) -> None:
        stacklib.wait_until(lambda: bool(predicate()), timeout, what, interval=0.2)


@contextlib.contextmanager
def running_hub(root: Path) -> Iterator[Hub]:
    """The hub as `copnet up --hub` plans it (its nats-server, MongoDB and statewide service), and
    region north's nats-server as its `copnet up` plans it, linked to the hub (a leaf node)."""
    hub_settings = settings_for_tests(root / "hub" / "data", instance="hub", region="hub", hub_regions=REGION,
                                      statewide_port=stacklib.free_port(), embedded_leaf_port=stacklib.free_port())
    region_settings = settings_for_tests(root / "north" / "data", region=REGION,
                                         **federation_nats.link_settings(hub_settings, REGION))
    hub_plan, region_plan = stacklib.plan(hub_settings), stacklib.plan(region_settings)
    processes: dict[str, ManagedProcess] = {}
    try:
        for spec in hub_plan.infrastructure:
            processes[f"hub-{spec.name}"] = ManagedProcess(spec, root / "hub").start()
        [region_nats] = [spec for spec in region_plan.infrastructure if spec.name == "nats"]
        processes["north-nats"] = ManagedProcess(region_nats, root / "north").start()
        hub = Hub(root, hub_settings, hub_plan, region_plan, processes)
        asyncio.run(make_share_stream(hub.region_nats_url))
        hub.start_statewide(REGION)
        yield hub
    finally:
        for process in reversed(list(processes.values())):
            process.stop()


async def make_share_stream(url: str) -> None:
    """The region's share stream, as the region's share service keeps it."""
    connection = await nats.connect(url)
    try:
        await connection.jetstream().add_stream(StreamConfig(name=share_stream_name(REGION),
                                                             subjects=share_subjects(REGION),
                                                             storage=StorageType.FILE))
    finally:
        await connection.close()


def publish(hub: Hub, subject: str, headers: dict, body: bytes) -> None:
    async def go():
        connection = await nats.connect(hub.region_nats_url)
        try:
            await connection.jetstream().publish(subject, body, headers=headers, timeout=5)
        finally:
            await connection.close()

    asyncio.run(go())


def share(hub: Hub, record: share_pb2.SharedRecord, *, kind: str | None = None, data: dict | None = None) -> None:
    """`record` as the region's share service sends it (a new CloudEvent each time)."""
    event = CloudEvent(type=SHARE_EVENT_TYPE, source=source_for(REGION, "share"), subject=record.key,
                       data=data if data is not None else json_format.MessageToDict(
                           record, preserving_proto_field_name=True))
    publish(hub, share_subject(REGION, kind or record.kind), event.headers(), event.body())


def measures(version: int, students: int = 40, *, region: str = REGION, key_org: str = "d1") -> share_pb2.SharedRecord:
    return share_pb2.SharedRecord(
        schema_version=1, region=region, kind="measures", key=f"{key_org}|caaspp-ela|2025-26|spring", version=version,
        measures=measures_pb2.AggregatesPublished(
            schema_version=1, region=region, organization_id=key_org, level="district", test="caaspp-ela",
            school_year="2025-26", window="spring", version=version, min_cell=11,
            cells=[measures_pb2.PublishedAggregateCell(
                student_group="all", grade="all", figures=measures_pb2.MeasureFigures(students_tested=students))]))


def directory_region(version: int = 1) -> share_pb2.SharedRecord:
    return share_pb2.SharedRecord(
        schema_version=1, region=REGION, kind="directory", key="region", version=version,
        region_info=share_pb2.SharedRegion(region=REGION, public_url="https://north.example.org", min_cell=11))


def state_id(key: str, kind: str = "measures") -> str:
    return f"{REGION} {kind} {key}"


# -- the tests ------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def hub(tmp_path_factory):
    with running_hub(tmp_path_factory.mktemp("hub")) as running:
        yield running


def test_valid_records_are_applied_with_history_and_the_links_counts(hub):
    share(hub, measures(1))
    share(hub, directory_region())
    key = measures(1).key
    hub.wait_for(lambda: hub.db.shared_state.find_one({"_id": state_id("region", "directory")}), "the region record")
    hub.wait_for(lambda: hub.db.shared_state.find_one({"_id": state_id(key)}), "the measures record")
    share(hub, measures(2, students=55))
    hub.wait_for(lambda: hub.db.shared_state.find_one({"_id": state_id(key)})["version"] == 2, "version 2")

    state = hub.db.shared_state.find_one({"_id": state_id(key)})
    assert state["region"] == REGION and state["stream_sequence"] > 0
    assert state["record"]["measures"]["cells"][0]["figures"]["students_tested"] == "55"
    assert [h["version"] for h in hub.db.shared_history.find({"key": key}).sort("version")] == [1, 2]

    [link] = hub.stub().ListRegions(ingest_pb2.ListRegionsRequest(),
                                    metadata=hub.token("state_coordinator")).regions
    assert (link.region, link.linked, link.public_url) == (REGION, True, "https://north.example.org")
    assert link.records_applied >= 3
    assert link.HasField("last_applied_time")


def test_the_hub_stream_holds_the_source_header_naming_the_regions_share_stream(hub):
    key = measures(1, key_org="header").key
    share(hub, measures(1, key_org="header"))
    hub.wait_for(lambda: hub.db.shared_state.find_one({"_id": state_id(key)}), "the record")
    sequence = hub.db.shared_state.find_one({"_id": state_id(key)})["stream_sequence"]

    async def source_header() -> str:
        connection = await nats.connect(hub.hub_nats_url)
        try:
            stored = await connection.jetstream().get_msg(STATEWIDE_STREAM, sequence)
            return stored.headers["Nats-Stream-Source"]
        finally:
            await connection.close()

    # "<stream>:<hash of the region's API prefix> <sequence there> <filter> <destination>"
    header = asyncio.run(source_header())
    assert header.split(" ", 1)[0].split(":", 1)[0] == share_stream_name(REGION)


def test_a_replay_and_an_older_version_change_nothing(hub):
    key = measures(1, key_org="d7").key
    share(hub, measures(1, key_org="d7"))
    share(hub, measures(3, students=70, key_org="d7"))
    hub.wait_for(lambda: (hub.db.shared_state.find_one({"_id": state_id(key)}) or {}).get("version") == 3, "version 3")
    applied = hub.db.region_links.find_one({"_id": REGION})["records_applied"]

    share(hub, measures(3, students=99, key_org="d7"))   # the same version again, other figures
    share(hub, measures(2, students=12, key_org="d7"))   # an older one arriving late
    share(hub, directory_region(version=1))             # a replay of an applied record
    # A marker after them: once it is applied, everything before it was handled.
    share(hub, measures(1, key_org="marker-1"))
    hub.wait_for(lambda: hub.db.shared_state.find_one({"_id": state_id(measures(1, key_org="marker-1").key)}),
                 "the marker")

    state = hub.db.shared_state.find_one({"_id": state_id(key)})
    assert state["version"] == 3
    assert state["record"]["measures"]["cells"][0]["figures"]["students_tested"] == "70"
    assert [h["version"] for h in hub.db.shared_history.find({"key": key}).sort("version")] == [1, 3]
    assert hub.db.region_links.find_one({"_id": REGION})["records_applied"] == applied + 1  # the marker only
    assert hub.db.rejections.count_documents({"detail": {"$regex": "d7"}}) == 0


BAD_INPUTS = {
    "NOT_A_CLOUD_EVENT": lambda hub: publish(hub, share_subject(REGION, "measures"), {}, b"not json at all"),
    "NOT_A_SHARED_RECORD": lambda hub: share(hub, measures(1, key_org="bad-1"), data={
        **json_format.MessageToDict(measures(1, key_org="bad-1"), preserving_proto_field_name=True),
        "teacher_email": "someone@example.org"}),
    "REGION_MISMATCH": lambda hub: share(hub, measures(9, region="south", key_org="bad-2")),
    "KIND_MISMATCH": lambda hub: share(hub, measures(1, key_org="bad-3"), kind="participation"),
    "BAD_VERSION": lambda hub: share(hub, measures(0, key_org="bad-4")),
    "BELOW_THRESHOLD": lambda hub: share(hub, measures(1, students=4, key_org="bad-5")),
}


def test_each_bad_input_is_refused_with_its_reason_and_nothing_applied(hub):
    before = hub.db.shared_state.count_documents({})
    applied = (hub.db.region_links.find_one({"_id": REGION}) or {}).get("records_applied", 0)
    for send in BAD_INPUTS.values():
        send(hub)
    share(hub, measures(1, key_org="marker-2"))
    hub.wait_for(lambda: hub.db.shared_state.find_one({"_id": state_id(measures(1, key_org="marker-2").key)}),
                 "the marker")
    hub.wait_for(lambda: hub.db.rejections.count_documents({}) >= len(BAD_INPUTS), "the rejections")

    response = hub.stub().ListRejections(ingest_pb2.ListRejectionsRequest(region=REGION, page_size=100),
                                         metadata=hub.token("platform_admin"))
    reasons = [rejection.reason for rejection in response.rejections]
    assert sorted(reasons) == sorted(BAD_INPUTS)
    for rejection in response.rejections:
        assert rejection.region == REGION
        assert rejection.subject.startswith(f"copnet-share.{REGION}.")
        assert rejection.stream_sequence > 0 and rejection.size_bytes > 0
    # Newest first.
    times = [r.receive_time.ToDatetime() for r in response.rejections]
    assert times == sorted(times, reverse=True)
    # Nothing of them applied; only the marker was.
    assert hub.db.shared_state.count_documents({}) == before + 1
    assert hub.db.region_links.find_one({"_id": REGION})["records_applied"] == applied + 1
    assert hub.db.region_links.find_one({"_id": REGION})["rejections"] == len(BAD_INPUTS)
    # The payload is not kept: the e-mail the refused message carried is nowhere in the hub's database.
    for collection in hub.db.list_collection_names():
        assert "someone@example.org" not in json.dumps(list(hub.db[collection].find()), default=str)


def test_a_record_claiming_another_region_cannot_overwrite_its_figures(hub):
    south_key = measures(1, region="south", key_org="d1").key
    share(hub, measures(50, region="south", key_org="d1"))
    share(hub, measures(1, key_org="marker-3"))
    hub.wait_for(lambda: hub.db.shared_state.find_one({"_id": state_id(measures(1, key_org="marker-3").key)}),
                 "the marker")
    assert hub.db.shared_state.find_one({"_id": f"south measures {south_key}"}) is None
    assert hub.db.shared_state.count_documents({"region": "south"}) == 0
    assert hub.db.rejections.find_one({"reason": "REGION_MISMATCH", "detail": {"$regex": "south"}})


def test_the_rpcs_are_for_the_hubs_readers_only(hub):
    with pytest.raises(grpc.RpcError) as refused:
        hub.stub().ListRejections(ingest_pb2.ListRejectionsRequest(), metadata=hub.token("county_admin", "c1"))
    assert refused.value.code() == grpc.StatusCode.PERMISSION_DENIED
    # The refusals are the hub operators' record; a coordinator sees each region's count in ListRegions.
    with pytest.raises(grpc.RpcError) as coordinator:
        hub.stub().ListRejections(ingest_pb2.ListRejectionsRequest(), metadata=hub.token("state_coordinator"))
    assert coordinator.value.code() == grpc.StatusCode.PERMISSION_DENIED
    assert hub.stub().ListRegions(ingest_pb2.ListRegionsRequest(), metadata=hub.token("state_coordinator")).regions
    with pytest.raises(grpc.RpcError) as anonymous:
        hub.stub().ListRegions(ingest_pb2.ListRegionsRequest())
    assert anonymous.value.code() == grpc.StatusCode.UNAUTHENTICATED


def test_paging_rejections(hub):
    before = hub.db.rejections.count_documents({})
    for version in (0, -1, -2):
        share(hub, measures(version, key_org="paging"))
    hub.wait_for(lambda: hub.db.rejections.count_documents({}) >= before + 3, "three more rejections")
    first = hub.stub().ListRejections(ingest_pb2.ListRejectionsRequest(page_size=2),
                                      metadata=hub.token("platform_admin"))
    assert len(first.rejections) == 2 and first.next_page_token
    rest = hub.stub().ListRejections(ingest_pb2.ListRejectionsRequest(page_size=100, page_token=first.next_page_token),
                                     metadata=hub.token("platform_admin"))
    ids = [r.id for r in [*first.rejections, *rest.rejections]]
    assert len(ids) == len(set(ids)) == hub.db.rejections.count_documents({})


def test_a_region_added_and_a_restart_adds_its_source_and_keeps_what_arrived(hub):
    async def sources() -> tuple[list[str], int]:
        connection = await nats.connect(hub.hub_nats_url)
        try:
            info = await connection.jetstream().stream_info(STATEWIDE_STREAM)
            return sorted(source.name for source in info.config.sources), info.state.messages
        finally:
            await connection.close()

    names, messages = asyncio.run(sources())
    assert names == [share_stream_name(REGION)]
    hub.stop_statewide()
    hub.start_statewide(f"{REGION},south")
    hub.wait_for(lambda: asyncio.run(sources())[0] == [share_stream_name(REGION), share_stream_name("south")],
                 "the south source")
    assert asyncio.run(sources())[1] >= messages
    # The north link goes on: a new record is applied after the restart.
    share(hub, measures(1, key_org="after-restart"))
    hub.wait_for(lambda: hub.db.shared_state.find_one({"_id": state_id(measures(1, key_org="after-restart").key)}),
                 "a record after the restart")
    regions = hub.stub().ListRegions(ingest_pb2.ListRegionsRequest(), metadata=hub.token("platform_admin")).regions
    assert [(r.region, r.linked) for r in regions] == [(REGION, True), ("south", True)]


# -- apply against the real database, without the stream -------------------------------------------
def test_apply_keeps_the_highest_version_whatever_the_order(hub):
    from copnet.kernel import db

    db.connect(hub.mongodb_uri, hub.settings.database_name("statewide"))
    try:
        outcomes = [db.run_in_transaction(lambda uow, v=v: ingest_apply.apply(
            uow, Accepted(REGION, "measures", measures(v, students=20 + v, key_org="order"))), "hub")
            for v in (2, 1, 4, 3, 4)]
    finally:
        import mongoengine
        mongoengine.disconnect()
    assert outcomes == ["applied", "stale", "applied", "stale", "stale"]
    key = measures(1, key_org="order").key
    assert hub.db.shared_state.find_one({"_id": state_id(key)})["version"] == 4
    assert [h["version"] for h in hub.db.shared_history.find({"key": key}).sort("version")] == [2, 4]
