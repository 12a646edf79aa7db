"""The share service on a real stack: after the demo network is loaded, the region's share stream
(read as its SHARE account's administrator) holds records of every kind, each a valid SharedRecord
of this region on its kind's subject; renaming a community shares the next version of its catalog
record; measures are suppressed; and nothing in any record names a person (an e-mail, a demo
person's id), a student (a synthetic id) or a pseudonym (a long hex word)."""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass

import grpc
import nats
import pytest
from copnet import seed
from copnet.kernel.federation import (
    SHARE_EVENT_TYPE,
    SHARE_KINDS,
    share_stream_name,
    share_subject,
)
from copnet.membership.v1 import membership_pb2
from copnet.share import guards
from copnet.share.client import SHARE
from copnet.share.v1 import share_pb2
from google.protobuf import json_format
from nats.js.errors import NotFoundError

from tests.support.stack import own_demo_stack

pytestmark = pytest.mark.integration

EMAIL = re.compile(r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")
SYNTHETIC_STUDENT_ID = re.compile(r"SYN[0-9]{12}")
HEX_WORD = re.compile(r"[0-9a-f]{16,}")
PEOPLE = [person.id for person in seed.DEMO_PEOPLE] + [seed.SEED_PERSON_ID]
RENAMED = "bay-ratios-plc"


@dataclass(frozen=True)
class Shared:
    subject: str
    headers: dict[str, str]
    data: bytes
    record: share_pb2.SharedRecord


def share_stream(stack) -> list[Shared]:
    """Every message of the region's share stream, by sequence, read as the SHARE account's administrator."""

    async def go() -> list[Shared]:
        connection = await nats.connect(stack.plan.share_operator_url)
        try:
            js = connection.jetstream()
            try:
                info = await js.stream_info(share_stream_name(stack.settings.region))
            except NotFoundError:
                return []
            found = []
            for sequence in range(info.state.first_seq, info.state.last_seq + 1 if info.state.messages else 0):
                message = await js.get_msg(info.config.name, sequence)
                record = json_format.Parse(message.data, share_pb2.SharedRecord())
                found.append(Shared(message.subject, dict(message.headers or {}), message.data, record))
            return found
        finally:
            await connection.close()

    return asyncio.run(go())


def kinds_of(stack) -> set[str]:
    return {shared.record.kind for shared in share_stream(stack)}


@pytest.fixture(scope="module")
def region(tmp_path_factory):
    with own_demo_stack(tmp_path_factory.mktemp("share")) as running:
        # Measures follow reflection's aggregates job, which follows the demo's data sets.
        try:
            running.wait_for(lambda: kinds_of(running) >= set(SHARE_KINDS), 180, "a record of every kind")
        except TimeoutError as timeout:
            raise AssertionError(f"shared only {sorted(kinds_of(running))}; share's log:\n{running.logs('share')}") \
                from timeout
        yield running


def test_every_kind_is_shared_as_valid_records_of_this_region(region):
    records = share_stream(region)
    assert {shared.record.kind for shared in records} == set(SHARE_KINDS)
    for shared in records:
        record = shared.record
        assert record.region == region.settings.region and record.schema_version == 1
        assert shared.subject == share_subject(region.settings.region, record.kind)
        assert shared.headers["ce-type"] == SHARE_EVENT_TYPE and shared.headers["ce-subject"] == record.key
        assert record.version >= 1 and record.key and record.HasField("publish_time")
        assert record.withdrawn or record.WhichOneof("content") is not None
    keys = {(shared.record.kind, shared.record.key) for shared in records}
    assert ("directory", "region") in keys and ("directory", "organization:eastbay-usd") in keys
    assert ("catalog", f"community:{RENAMED}") in keys and ("catalog", "program:bay-area-math-cop") in keys
    # A draft community was never public.
    assert ("catalog", "community:lakeview-grade6-plc") not in keys


def test_versions_of_one_key_follow_each_other(region):
    versions: dict[tuple[str, str], list[int]] = {}
    for shared in share_stream(region):
        versions.setdefault((shared.record.kind, shared.record.key), []).append(shared.record.version)
    for key, seen in versions.items():
        assert seen == list(range(1, len(seen) + 1)), key


def test_shared_measures_pass_the_suppression_check(region):
    measures = [s.record.measures for s in share_stream(region) if s.record.kind == "measures" and not s.record.withdrawn]
    assert measures
    for message in measures:
        guards.check_measures(message, region.settings.region, region.settings.suppression_min_cell)
        assert message.level in ("district", "county_office", "region")


def test_renaming_a_community_shares_the_next_version_of_its_catalog_record(region):
    def catalog_versions():
        return [s.record for s in share_stream(region) if s.record.key == f"community:{RENAMED}"]

    before = max(record.version for record in catalog_versions())
    region.membership(region.token("platform_admin")).UpdateCommunity(
        membership_pb2.UpdateCommunityRequest(id=RENAMED, name="Bay Area Ratios PLC (renamed)"))
    region.wait_for(lambda: any(r.community.name == "Bay Area Ratios PLC (renamed)" for r in catalog_versions()),
                    30, "the renamed community's record")
    renamed = [r for r in catalog_versions() if r.community.name == "Bay Area Ratios PLC (renamed)"]
    assert [r.version for r in renamed] == [before + 1]
    assert renamed[0].community.seats_available == renamed[0].community.capacity - 2  # the demo's two sign-ups


def test_nothing_in_a_record_names_a_person_a_student_or_a_pseudonym(region):
    records = share_stream(region)
    assert records
    for shared in records:
        text = shared.data.decode()
        assert not EMAIL.search(text), text
        assert not SYNTHETIC_STUDENT_ID.search(text), text
        assert not HEX_WORD.search(text), text
        for person in PEOPLE:
            assert f'"{person}"' not in text, (person, text)


def test_the_share_status_counts_what_was_shared_for_operators_only(region):
    stub = region.clients.stub(SHARE, token=region.token("regional_lead", "ca-bay-area"))
    status = stub.GetShareStatus(share_pb2.GetShareStatusRequest())
    counts = {kind.kind: kind.records for kind in status.kinds}
    assert set(counts) == set(SHARE_KINDS) and all(counts[kind] > 0 for kind in SHARE_KINDS)
    assert status.region == region.settings.region and status.stream_messages >= sum(counts.values())
    member = region.clients.stub(SHARE, token=region.token("member", "eastbay-usd"))
    with pytest.raises(grpc.RpcError) as refused:
        member.GetShareStatus(share_pb2.GetShareStatusRequest())
    assert refused.value.code() == grpc.StatusCode.PERMISSION_DENIED


def test_a_new_inquiry_cycle_is_counted_for_the_host_district_and_above(region):
    from copnet.reflection.v1 import cycles_pb2

    participant = region.reflection(region.token("member", "lakeview-ms", person="daniel-kim"))
    cycle = participant.CreateInquiryCycle(cycles_pb2.CreateInquiryCycleRequest(
        community_id=RENAMED, title="Ratio tables in grade 6")).cycle

    def counted(organization_id: str):
        versions = [s.record for s in share_stream(region)
                    if s.record.key == f"{organization_id}|{cycle.program_year}" and s.record.kind == "cycles"]
        latest = max(versions, key=lambda record: record.version, default=None)
        return latest is not None and latest.cycles.cycles_open == 1 and latest.cycles.communities_with_cycles == 1

    for organization_id in ("eastbay-usd", "alameda-coe", "ca-bay-area", "ca"):
        region.wait_for(lambda o=organization_id: counted(o), 30, f"the cycle counted at {organization_id}")
    schools = {org.id for org in seed.DEMO_ORGANIZATIONS if org.kind == "school"}
    counted_at = {s.record.cycles.organization_id for s in share_stream(region) if s.record.kind == "cycles"}
    assert counted_at and not counted_at & schools


def test_closing_a_community_withdraws_it_from_the_catalog(region):
    key = "community:eastbay-elementary-math-teams"

    def versions():
        return sorted((s.record for s in share_stream(region) if s.record.key == key), key=lambda r: r.version)

    before = versions()[-1]
    assert not before.withdrawn
    region.membership(region.token("platform_admin")).ChangeCommunityStatus(membership_pb2.ChangeCommunityStatusRequest(
        id="eastbay-elementary-math-teams", status=membership_pb2.COMMUNITY_STATUS_CLOSED))
    region.wait_for(lambda: versions()[-1].withdrawn, 30, "the closed community withdrawn")
    latest = versions()[-1]
    assert latest.version == before.version + 1 and latest.WhichOneof("content") is None
