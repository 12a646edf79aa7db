"""Replication lag from a region to the statewide hub, beside raw JetStream sourcing of the same
messages in the same run.

A hub (nats-server, MongoDB-wire server, the statewide service) and one region ("bench": its
nats-server linked to the hub as a leaf node, its MongoDB-wire server and its share service, the
relay of the share outbox), all real processes on this machine.

- raw: `rate` SharedRecords a second for `seconds` published straight into the region's share
  stream as its administrator; lag = when the hub's statewide stream stored each (the stream's own
  timestamp) - when it was published.
- copnet: the same records (other keys) committed at the same rate into the share service's outbox,
  as the share service's unit of work writes them; lag = when the hub's statewide service applied
  each (SharedHistory.applied_at, after its validation and its state + history + projections
  transaction) - the outbox entry's commit time. Also shown: the share stream's and the statewide
  stream's timestamps of the same records, so the time is told apart by stage.

The relay wakes when its own process commits; these records are committed by this process, so the
relay finds them by its sweep, set to SWEEP_SECONDS here, which adds up to that (half on average)
to the copnet figures. Prints figures and ratios; asserts nothing.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import nats
import pymongo
from nats.js.errors import NotFoundError

from copnet.kernel.db import OutboxEntry
from copnet.kernel.events import CloudEvent, source_for
from copnet.kernel.federation import SHARE_EVENT_TYPE, STATEWIDE_STREAM, share_stream_name, share_subject
from copnet.kernel.timestamps import timestamp
from copnet.share.v1 import share_pb2
from tests.support.federation import Federation, hub_documents, running_federation, share_admin_url

REGION = "bench"
SWEEP_SECONDS = 0.02
UNCLAIMED = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
APPLY_TIMEOUT_SECONDS = 600


def record(key_prefix: str, n: int) -> share_pb2.SharedRecord:
    """A catalog record of the usual size (a community of the public catalog)."""
    community_id = f"{key_prefix}-{n:06d}"
    now = dt.datetime.now(dt.UTC)
    return share_pb2.SharedRecord(
        schema_version=1, region=REGION, kind="catalog", key=f"community:{community_id}", version=1,
        publish_time=timestamp(now),
        community=share_pb2.SharedCommunity(
            id=community_id, name=f"Bench Grade 6-8 Ratios PLC {n}", kind="plc",
            description="Middle school teachers building a shared ratio and proportion unit, meeting monthly.",
            focus="Ratio and proportional reasoning", grade_bands=["6-8"], host_organization_id="bench-usd",
            county_office_id="bench-coe", status="open", capacity=24, seats_available=20, waitlist_open=True,
            signup_opens=timestamp(now - dt.timedelta(days=7)), signup_closes=timestamp(now + dt.timedelta(days=21)),
            eligible_organization_ids=["bench-region"]))


def event_of(shared: share_pb2.SharedRecord) -> CloudEvent:
    return CloudEvent.of(SHARE_EVENT_TYPE, source_for(REGION, "share"), shared.key, shared)


def paced(count: int, rate: float, send: Callable[[int, int], None]) -> float:
    """Call send(first, how_many) so that `count` items go out at `rate` a second (in small batches
    on a 5 ms tick); the seconds it took."""
    started, sent = time.perf_counter(), 0
    while sent < count:
        due = min(count, int((time.perf_counter() - started) * rate) + 1)
        if due > sent:
            send(sent, due - sent)
            sent = due
        time.sleep(0.005)
    return time.perf_counter() - started


# -- the two paths ---------------------------------------------------------------------------------
def publish_raw(region_url: str, prefix: str, count: int, rate: float) -> tuple[dict[int, float], float]:
    """Publish `count` records into the share stream at `rate`: share-stream sequence -> publish time
    (epoch seconds, taken just before each publish), and the seconds it took."""

    async def go() -> tuple[dict[int, float], float]:
        connection = await nats.connect(region_url)
        js = connection.jetstream()
        published: dict[int, float] = {}
        started, sent = time.perf_counter(), 0
        try:
            while sent < count:
                due = min(count, int((time.perf_counter() - started) * rate) + 1)
                while sent < due:
                    event = event_of(record(prefix, sent))
                    at = time.time()
                    ack = await js.publish(share_subject(REGION, "catalog"), event.body(), headers=event.headers(),
                                           stream=share_stream_name(REGION))
                    published[ack.seq] = at
                    sent += 1
                await asyncio.sleep(0.005)
            return published, time.perf_counter() - started
        finally:
            await connection.close()

    return asyncio.run(go())


def commit_to_outbox(federation: Federation, prefix: str, count: int, rate: float) -> tuple[dict[str, float], float]:
    """Commit `count` records into the share service's outbox at `rate` (a few per insert, as the
    share service's transactions write them): key -> commit time (epoch seconds, the entry's
    created_at), and the seconds it took."""
    region = federation.regions[REGION]
    committed: dict[str, float] = {}
    with pymongo.MongoClient(region.mongodb_uri, tz_aware=True) as client:
        outbox = client[region.settings.database_name("share")][OutboxEntry._meta["collection"]]

        def send(first: int, how_many: int) -> None:
            events = [event_of(record(prefix, n)) for n in range(first, first + how_many)]
            now = dt.datetime.now(dt.UTC)
            outbox.insert_many([OutboxEntry(id=event.id, subject=share_subject(REGION, "catalog"),
                                            event=event.to_document(), created_at=now,
                                            claimed_until=UNCLAIMED).to_mongo().to_dict() for event in events])
            committed.update((event.subject, now.timestamp()) for event in events)

        return committed, paced(count, rate, send)


# -- reading the timestamps back --------------------------------------------------------------------
def stored_times(url: str, stream: str, first_seq: int = 1) -> list[tuple[int, dict[str, str], float]]:
    """(sequence, headers, stored at, epoch seconds) of every message of `stream` from `first_seq`."""

    async def go():
        connection = await nats.connect(url)
        js = connection.jetstream()
        try:
            state = (await js.stream_info(stream)).state
            found = []
            for sequence in range(max(first_seq, state.first_seq or 1), state.last_seq + 1):
                try:
                    message = await js.get_msg(stream, sequence)
                except NotFoundError:
                    continue
                found.append((sequence, dict(message.headers or {}), message.time.timestamp()))
            return found
        finally:
            await connection.close()

    return asyncio.run(go())


def stream_count(url: str, stream: str) -> int:
    async def go() -> int:
        connection = await nats.connect(url)
        try:
            return (await connection.jetstream().stream_info(stream)).state.messages
        finally:
            await connection.close()

    return asyncio.run(go())


def applied(federation: Federation, prefix: str) -> list[dict]:
    return hub_documents(federation.hub, "shared_history",
                         {"region": REGION, "key": {"$regex": f"^community:{prefix}-"}})


def wait_for(predicate: Callable[[], bool], what: str) -> float:
    started = time.perf_counter()
    while not predicate():
        if time.perf_counter() - started > APPLY_TIMEOUT_SECONDS:
            raise TimeoutError(f"{what}: not within {APPLY_TIMEOUT_SECONDS} s")
        time.sleep(0.1)
    return time.perf_counter() - started


def applied_rate(docs: list[dict], first_sent: float) -> float:
    """Records applied a second, from the first one sent to the last one applied."""
    return len(docs) / (max(doc["applied_at"].timestamp() for doc in docs) - first_sent)


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def row(name: str, lags_ms: list[float], seconds: float) -> str:
    return (f"{name:<46} {len(lags_ms):>6} {len(lags_ms) / seconds:>7.0f} {statistics.median(lags_ms):>8.1f} "
            f"{percentile(lags_ms, 99):>8.1f} {max(lags_ms):>9.1f}")


HEADER = f"{'path':<46} {'recs':>6} {'rec/s':>7} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>9}"


def origin_sequence(headers: dict[str, str]) -> int:
    """The origin stream's sequence from the header JetStream's source adds (`<stream> <seq> ...`)."""
    return int(headers["Nats-Stream-Source"].split(" ")[1])


def bench_federation_lag(root: Path | None = None, rate: float = 500, seconds: float = 10) -> None:
    """A hub and region "bench" (its share service only) under `root` (a temp dir if None)."""
    count = int(rate * seconds)
    with tempfile.TemporaryDirectory(prefix="copnet-bench-federation-") as tmp, \
            running_federation(Path(root or tmp), (REGION,), region_services=("share",), region_gateways=False,
                               hub_overrides={"log_level": "WARNING"},
                               region_overrides={"log_level": "WARNING",
                                                 "outbox_sweep_seconds": SWEEP_SECONDS}) as federation:
        run(federation, count, rate)


def run(federation: Federation, count: int, rate: float) -> None:
    hub_url, region_url = federation.hub.nats_url, share_admin_url(federation.regions[REGION])
    # Warm-up, untimed: both paths once through to the hub's database.
    publish_raw(region_url, "bench-warm-raw", 20, rate)
    commit_to_outbox(federation, "bench-warm-copnet", 20, rate)
    wait_for(lambda: len(applied(federation, "bench-warm-raw")) + len(applied(federation, "bench-warm-copnet")) >= 40,
             "the warm-up's records applied")

    # raw: straight into the share stream; the statewide stream's own timestamps.
    hub_first = stream_count(hub_url, STATEWIDE_STREAM) + 1
    published, raw_seconds = publish_raw(region_url, "bench-raw", count, rate)
    wait_for(lambda: stream_count(hub_url, STATEWIDE_STREAM) >= hub_first - 1 + count, "raw records at the hub")
    raw_lags = [(at - published[origin_sequence(headers)]) * 1000
                for _, headers, at in stored_times(hub_url, STATEWIDE_STREAM, hub_first)]
    # The copnet run starts once the hub's service has applied these too (an idle hub).
    wait_for(lambda: len(applied(federation, "bench-raw")) >= count, "raw records applied")
    raw_applied_rate = applied_rate(applied(federation, "bench-raw"), min(published.values()))

    # copnet: committed into the share outbox; each stage's timestamps, and when the hub applied it.
    share_first = stream_count(region_url, share_stream_name(REGION)) + 1
    hub_first = stream_count(hub_url, STATEWIDE_STREAM) + 1
    committed, copnet_seconds = commit_to_outbox(federation, "bench-copnet", count, rate)
    wait_for(lambda: len(applied(federation, "bench-copnet")) >= count, "copnet records applied")
    in_share = {sequence: (headers["ce-subject"], at)
                for sequence, headers, at in stored_times(region_url, share_stream_name(REGION), share_first)}
    in_statewide = {in_share[origin_sequence(headers)][0]: at
                    for _, headers, at in stored_times(hub_url, STATEWIDE_STREAM, hub_first)
                    if origin_sequence(headers) in in_share}
    to_share = [(at - committed[key]) * 1000 for key, at in in_share.values() if key in committed]
    to_statewide = [(at - committed[key]) * 1000 for key, at in in_statewide.items() if key in committed]
    to_applied = [(doc["applied_at"].timestamp() - committed[doc["key"]]) * 1000
                  for doc in applied(federation, "bench-copnet")]

    print("\n== federation lag: a region's records to the statewide hub (leaf node, JetStream source)")
    print(f"{count} records at {rate:.0f}/s; outbox sweep {SWEEP_SECONDS * 1000:.0f} ms (records committed outside "
          "the share service's process)")
    print(HEADER)
    print(row("raw: share stream publish -> statewide stream", raw_lags, raw_seconds))
    print(row("copnet: outbox commit -> share stream", to_share, copnet_seconds))
    print(row("copnet: outbox commit -> statewide stream", to_statewide, copnet_seconds))
    print(row("copnet: outbox commit -> applied at the hub", to_applied, copnet_seconds))
    for name, lags in (("in the statewide stream", to_statewide), ("applied", to_applied)):
        print(f"ratio copnet ({name}) / raw: p50 {statistics.median(lags) / statistics.median(raw_lags):.1f}x  "
              f"p99 {percentile(lags, 99) / percentile(raw_lags, 99):.1f}x")
    copnet_applied_rate = applied_rate(applied(federation, "bench-copnet"), min(committed.values()))
    print(f"the hub's statewide service applied {raw_applied_rate:.0f} records/s in the raw run, "
          f"{copnet_applied_rate:.0f}/s in the copnet run (first sent to last applied)")


if __name__ == "__main__":
    import sys

    # python -m tests.bench.federation_lag [records a second] [seconds]
    bench_federation_lag(None, *(float(arg) for arg in sys.argv[1:3]))
