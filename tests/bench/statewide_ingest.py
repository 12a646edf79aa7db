"""The hub's ingest of SharedRecords on the embedded MongoDB-wire server: records applied a second
one message per transaction (the baseline: how the consumer applied them before batches) beside
batches of BATCH messages in one transaction each (`apply.handle_batch`, as the bus's batch
consumer calls it, at most RAW_BATCH_BYTES of bodies each), measured in the same run on the same server, each run in a fresh database.

The records: five kinds (measures of 14 cells, participation, catalog communities, directory
organizations, inquiry-cycle counts) from two regions, each key sent in VERSIONS successive
versions spread through the stream (a batch sees several versions of one key), and one message in
50 refused (an unknown region). The inbox entry of every message is written as the bus writes it.
Two more rows: batches of catalog records only (what the federation-lag benchmark publishes: one
view row each), and the mix with the views' projections left out, to show what they cost (a
diagnostic: the service always projects). Prints figures and ratios; asserts nothing.
"""

from __future__ import annotations

import contextlib
import logging
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from unittest import mock

import mongoengine
from google.protobuf import json_format

from copnet import stack as stacklib
from copnet.kernel import db
from copnet.kernel.bus import (RAW_BATCH, RAW_BATCH_BYTES, Delivery, batches_by_size, mark_delivered,
                               mark_delivered_many)
from copnet.kernel.events import CloudEvent, source_for
from copnet.kernel.federation import SHARE_EVENT_TYPE, STATEWIDE_STREAM, share_stream_name, share_subject
from copnet.kernel.settings import load_settings
from copnet.reflection.v1 import measures_pb2, participation_pb2
from copnet.share.v1 import share_pb2
from copnet.statewide import models, projections
from copnet.statewide.ingest import apply
from copnet.statewide.ingest.validation import SOURCE_HEADER
from tests.support.processes import ManagedProcess

REGIONS = ("north", "south")
CONSUMER = "statewide-ingest"
BATCH = RAW_BATCH
VERSIONS = 3
GROUPS = ("all", "el", "not_el", "swd", "not_swd", "sed", "not_sed")


KINDS = ("measures", "participation", "catalog", "directory", "cycles")


def shared_record(region: str, n: int, version: int, kinds: Sequence[str] = KINDS) -> share_pb2.SharedRecord:
    organization = f"org-{n // 5}"
    kind = kinds[n % len(kinds)]
    record = share_pb2.SharedRecord(schema_version=1, region=region, kind=kind, version=version)
    if kind == "measures":
        record.key = f"{organization}|caaspp-ela|2025-26|spring"
        record.measures.CopyFrom(measures_pb2.AggregatesPublished(
            schema_version=1, region=region, organization_id=organization, level="district", test="caaspp-ela",
            school_year="2025-26", window="spring", version=version, min_cell=11, cut_scores_version="2024",
            cells=[measures_pb2.PublishedAggregateCell(
                student_group=group, grade=grade,
                figures=measures_pb2.MeasureFigures(students_tested=40 + version, mean_scale_score=2501.5))
                for group in GROUPS for grade in ("all", "3")]))
    elif kind == "participation":
        record.key = f"{organization}|2025-26"
        record.participation.CopyFrom(participation_pb2.ParticipationPublished(
            schema_version=1, region=region, organization_id=organization, level="district",
            program_year="2025-26", version=version, min_cell=11,
            figures=participation_pb2.ParticipationFigures(scope_id=organization, level="district",
                                                           program_year="2025-26", teachers_reached=25 + version,
                                                           learning_hours=120.5)))
    elif kind == "catalog":
        record.key = f"community:c{n}"
        record.community.CopyFrom(share_pb2.SharedCommunity(
            id=f"c{n}", name=f"Grade 3 math PLC {n}", kind="plc", description="Fractions, together.",
            grade_bands=["3-5"], host_organization_id=organization, status="open", capacity=30,
            seats_available=12 - version, join_url=f"https://{region}.example.org/communities/c{n}"))
    elif kind == "directory":
        record.key = f"organization:{organization}"
        record.organization.CopyFrom(share_pb2.SharedOrganization(id=organization, name=f"District {n} v{version}",
                                                                  kind="district"))
    else:
        record.key = f"{organization}|2025-26"
        record.cycles.CopyFrom(share_pb2.SharedCycleCounts(organization_id=organization, level="district",
                                                           program_year="2025-26", cycles_open=version,
                                                           cycles_closed=2, communities_with_cycles=3))
    return record


def deliveries(records: int, kinds: Sequence[str] = KINDS) -> list[Delivery]:
    """`records` messages as the statewide stream delivers them: each key's versions in order,
    interleaved with other keys' (one in 50 from a region that is not linked)."""
    keys = max(records // VERSIONS, 1)
    found = []
    for sequence in range(1, records + 1):
        n, version = (sequence - 1) % keys, (sequence - 1) // keys + 1
        region = "elsewhere" if sequence % 50 == 0 else REGIONS[n % 2]
        record = shared_record(region, n, version, kinds)
        event = CloudEvent(type=SHARE_EVENT_TYPE, source=source_for(region, "share"), subject=record.key,
                           data=json_format.MessageToDict(record, preserving_proto_field_name=True))
        headers = event.headers()
        headers[SOURCE_HEADER] = f"{share_stream_name(region)}:a1b2 {sequence} copnet-share.{region}.> x"
        found.append(Delivery(stream=STATEWIDE_STREAM, subject=share_subject(region, record.kind), headers=headers,
                              body=event.body(), stream_sequence=sequence, num_delivered=1))
    return found


def one_per_transaction(items: Sequence[Delivery]) -> None:
    for delivery in items:
        def work(uow, delivery=delivery):
            mark_delivered(uow, delivery, CONSUMER)
            apply.handle(uow, delivery, REGIONS)

        db.run_in_transaction(work, "hub")


def in_batches(items: Sequence[Delivery]) -> None:
    """As the bus hands them over: fetched BATCH at a time, split at RAW_BATCH_BYTES."""
    for start in range(0, len(items), BATCH):
        for batch in batches_by_size(items[start:start + BATCH], RAW_BATCH_BYTES, lambda d: len(d.body)):
            def work(uow, batch=batch):
                apply.handle_batch(uow, mark_delivered_many(uow, batch, CONSUMER), REGIONS)

            db.run_in_transaction(work, "hub")


def rate(label: str, uri: str, database: str, run: Callable[[Sequence[Delivery]], None],
         items: Sequence[Delivery]) -> float:
    db.connect(uri, database)
    db.ensure_indexes(db.InboxEntry, *models.DOCUMENTS, *projections.PROJECTION_DOCUMENTS)
    started = time.perf_counter()
    run(items)
    seconds = time.perf_counter() - started
    applied = models.SharedHistory.objects.count()
    per_second = len(items) / seconds
    print(f"{label:<58} {len(items):>6} msgs {seconds:7.2f} s {per_second:8.0f} msgs/s  ({applied} versions applied)")
    mongoengine.disconnect()
    return per_second


def bench_statewide_ingest(baseline_records: int = 300, records: int = 2000) -> None:
    print(f"\n== statewide ingest: SharedRecords applied by the hub (embedded MongoDB-wire server), batches of {BATCH}")
    # Every refusal is logged as a warning: not what this measures.
    logging.getLogger(apply.__name__).setLevel(logging.ERROR)
    with tempfile.TemporaryDirectory(prefix="copnet-bench-ingest-") as tmp, contextlib.ExitStack() as cleanup:
        root = Path(tmp)
        settings = load_settings(region="bench", data_dir=root / "data", embedded_mongodb_port=stacklib.free_port())
        spec, uri = stacklib.mongodb_spec(settings)
        mongodb = ManagedProcess(spec, root).start()
        cleanup.callback(mongodb.stop)
        baseline = rate("baseline: one message per transaction", uri, "bench_one", one_per_transaction,
                        deliveries(baseline_records))
        batched = rate("copnet: one transaction per batch", uri, "bench_batched", in_batches, deliveries(records))
        rate("copnet: one transaction per batch, catalog records only", uri, "bench_catalog", in_batches,
             deliveries(records, ("catalog",)))
        with mock.patch.object(projections, "project", lambda uow, region, record: None):
            unprojected = rate("diagnostic: batches without the views' projections", uri, "bench_unprojected",
                               in_batches, deliveries(records))
    print(f"ratio batched/baseline: {batched / baseline:.1f}x; "
          f"the projections take {1 - batched / unprojected:.0%} of the batched time")


if __name__ == "__main__":
    bench_statewide_ingest()
