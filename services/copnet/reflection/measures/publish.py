"""`copnet.reflection.aggregates.published`: the suppressed measures of every district, county
office and region, per test, school year and window, sent through the outbox whenever they change.

These are the only payloads that ever leave a region (the federation builds on them), so they are
made from the published lattice only: withheld cells are marked withheld and carry no figure,
school cells are never sent, and nothing names a student, a pseudonym or a teacher.

A job watches the READY data sets' generation; when it changes, each (organization, test, school
year, window) whose figures changed is sent again with the next version, and one that has no
figures any more is sent once as withdrawn. What was sent is remembered per key (its digest and
version) in the same transaction as the outbox entries, so a replica or a restart never sends
the same version twice.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterator

import mongoengine as me

from copnet.kernel import db
from copnet.kernel.db import utcnow
from copnet.kernel.service import PeriodicJob, ServiceContext
from copnet.kernel.timestamps import timestamp
from copnet.reflection import reference
from copnet.reflection.measures.convert import figures as figures_message
from copnet.reflection.measures.index import MeasureIndex, Snapshot, process_index
from copnet.reflection.measures.lattice import GRADE, GROUP
from copnet.reflection.measures.published import Publisher
from copnet.reflection.v1 import measures_pb2

log = logging.getLogger(__name__)
EVENT_TYPE = "copnet.reflection.aggregates.published"
SCHEMA_VERSION = 1
PUBLISHED_LEVELS = frozenset({"district", "county_office", "region"})
CHECK_SECONDS = 10.0
STATE_ID = "aggregates"
# Messages sent per transaction.
BATCH = 50


class PublishedAggregate(me.Document):
    """What was last sent for one (organization, test, school year, window)."""

    key = me.StringField(primary_key=True)
    organization_id = me.StringField(required=True)
    level = me.StringField(default="")
    test = me.StringField(required=True)
    school_year = me.StringField(required=True)
    window = me.StringField(required=True)
    version = me.IntField(required=True, min_value=1)
    digest = me.StringField(required=True)
    withdrawn = me.BooleanField(default=False)
    meta = {"collection": "published_aggregates"}


class PublishedGeneration(me.Document):
    """The READY data sets' generation whose aggregates were last sent."""

    id = me.StringField(primary_key=True)
    generation = me.StringField(required=True)
    meta = {"collection": "published_generation"}


def aggregate_messages(snapshot: Snapshot, region: str) -> Iterator[tuple[str, measures_pb2.AggregatesPublished]]:
    """(key, message without version or time) for each district-level-and-above organization,
    test, school year and window of the lattice."""
    lattice = snapshot.lattice
    for organization, (start, stop) in lattice.slices.items():
        level = lattice.level_of.get(organization, "")
        if level not in PUBLISHED_LEVELS or start == stop:
            continue
        by_partition: dict[tuple[str, str, str], list] = {}
        publisher = Publisher(lattice, shown=snapshot.shown)
        for row in range(start, stop):
            key = lattice.key(row)
            cell = publisher.cell(row)
            by_partition.setdefault((key["test"], key["school_year"], key["window"]), []).append(
                measures_pb2.PublishedAggregateCell(student_group=key[GROUP], grade=key[GRADE], withheld=cell.withheld,
                                                    figures=None if cell.withheld else figures_message(cell)))
        for (test, school_year, window), cells in by_partition.items():
            yield aggregate_key(organization, test, school_year, window), measures_pb2.AggregatesPublished(
                schema_version=SCHEMA_VERSION, region=region, organization_id=organization, level=level, test=test,
                school_year=school_year, window=window, min_cell=snapshot.min_cell,
                cut_scores_version=reference.test_named(test).cut_scores_version, cells=cells)


def aggregate_key(organization: str, test: str, school_year: str, window: str) -> str:
    return f"{organization}|{test}|{school_year}|{window}"


def digest(message: measures_pb2.AggregatesPublished) -> str:
    return hashlib.sha256(message.SerializeToString(deterministic=True)).hexdigest()


def scope_of(snapshot: Snapshot, organization: str) -> tuple[str, ...]:
    chain, seen = [], set()
    while organization and organization not in seen:
        seen.add(organization)
        chain.append(organization)
        organization = snapshot.lattice.parent_of.get(organization, "")
    return tuple(reversed(chain))


def publish_changes(ctx: ServiceContext, index: MeasureIndex | None = None) -> int:
    """Send what changed since the last generation sent; the number of messages sent."""
    index = index or process_index()
    generation = index.generation()
    last = PublishedGeneration.objects(id=STATE_ID).first()
    if last is not None and last.generation == generation:
        return 0
    snapshot = index.measures()
    if snapshot.generation != generation:  # still being built: the next run publishes it
        return 0
    current = {key: (message, digest(message)) for key, message in aggregate_messages(snapshot, ctx.settings.region)}
    known = {doc.key: doc for doc in PublishedAggregate.objects.only("key", "digest", "withdrawn")}
    changed = [key for key, (_message, content) in current.items()
               if key not in known or known[key].digest != content or known[key].withdrawn]
    gone = [key for key, doc in known.items() if key not in current and not doc.withdrawn]
    keys = changed + gone
    sent = 0
    # A transaction per batch keeps each small; a batch sent is recorded with its outbox entries, so
    # a run cut short resends nothing and the next run sends the rest.
    for start in range(0, len(keys), BATCH):
        sent += ctx.transaction(lambda uow, batch=keys[start:start + BATCH]: _send(
            ctx, uow, snapshot, batch, current))
    ctx.transaction(lambda uow: uow.update_one(PublishedGeneration, {"_id": STATE_ID},
                                               {"$set": {"generation": snapshot.generation}}, upsert=True))
    if sent:
        log.info("aggregates.published: %d message(s) for generation %s", sent, snapshot.generation)
    return sent


def _send(ctx: ServiceContext, uow: db.UnitOfWork, snapshot: Snapshot, keys: list[str],
          current: dict[str, tuple[measures_pb2.AggregatesPublished, str]]) -> int:
    events, now = [], utcnow()
    for key in keys:
        before = uow.find_one(PublishedAggregate, {"_id": key})
        version = before.version + 1 if before is not None else 1
        if key in current:
            message, content = current[key]
            if before is not None and before.digest == content and not before.withdrawn:
                continue  # another replica sent it meanwhile
            sent = measures_pb2.AggregatesPublished()
            sent.CopyFrom(message)
            sent.version = version
            sent.publish_time.CopyFrom(timestamp(now))
            uow.update_one(PublishedAggregate, {"_id": key}, {"$set": {
                "organization_id": message.organization_id, "level": message.level, "test": message.test,
                "school_year": message.school_year, "window": message.window, "version": version,
                "digest": content, "withdrawn": False}}, upsert=True)
        else:
            if before is None or before.withdrawn:
                continue
            sent = measures_pb2.AggregatesPublished(
                schema_version=SCHEMA_VERSION, region=ctx.settings.region, organization_id=before.organization_id,
                level=before.level, test=before.test, school_year=before.school_year, window=before.window,
                version=version, min_cell=snapshot.min_cell, withdrawn=True,
                cut_scores_version=reference.test_named(before.test).cut_scores_version,
                publish_time=timestamp(now))
            uow.update_one(PublishedAggregate, {"_id": key}, {"$set": {"version": version, "withdrawn": True}})
        events.append(ctx.event(EVENT_TYPE, sent.organization_id, sent, scope=scope_of(snapshot, sent.organization_id)))
    if events:
        uow.emit_many(events)
    return len(events)


def jobs(ctx: ServiceContext) -> list[PeriodicJob]:
    return [PeriodicJob("aggregates-published", CHECK_SECONDS, lambda: publish_changes(ctx))]
