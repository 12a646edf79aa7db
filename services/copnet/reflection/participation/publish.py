"""`copnet.reflection.participation.published`: the suppressed participation figures of every
district, county office, region and the state, per program year, with their children of district
level and above. A job looks every few seconds at the years whose roll-ups changed (so a burst of
attendance records makes one message, not one per record) and sends each (organization, year)
whose figures changed with the next version. What was sent is remembered (digest and version) in
the same transaction as the outbox entries. Nothing in a message names a person.
"""

from __future__ import annotations

import hashlib
import logging

from copnet.kernel import db
from copnet.kernel.db import utcnow
from copnet.kernel.service import PeriodicJob, ServiceContext
from copnet.kernel.timestamps import timestamp
import copnet.reflection.participation.convert as convert
import copnet.reflection.participation.reads as reads
from copnet.reflection.participation.models import (
    ParticipationYear,
    PublishedParticipation,
)
from copnet.reflection.v1 import participation_pb2

log = logging.getLogger(__name__)
EVENT_TYPE = "copnet.reflection.participation.published"
SCHEMA_VERSION = 1
PUBLISHED_LEVELS = frozenset({"district", "county_office", "region", "state"})
COALESCE_SECONDS = 5.0


def messages(program_year: str, min_cell: int, region: str) -> dict[str, tuple[participation_pb2.ParticipationPublished, tuple[str, ...]]]:
    """(message without version or time, scope) per published organization of the year."""
    rollups, figures = reads.organization_tree(program_year, min_cell)
    parent_of = {r.scope_id: r.parent_id for r in rollups}
    found = {}
    for rollup in rollups:
        if rollup.level not in PUBLISHED_LEVELS:
            continue
        children = [convert.figures(f) for f in reads.children(rollups, figures, rollup.scope_id)
                    if f.level in PUBLISHED_LEVELS]
        message = participation_pb2.ParticipationPublished(
            schema_version=SCHEMA_VERSION, region=region, organization_id=rollup.scope_id, level=rollup.level,
            program_year=program_year, min_cell=min_cell, figures=convert.figures(figures[rollup.scope_id]),
            children=children)
        chain, scope = rollup.scope_id, []
        while chain and chain not in scope:
            scope.append(chain)
            chain = parent_of.get(chain, "")
        found[f"{rollup.scope_id}|{program_year}"] = (message, tuple(reversed(scope)))
    return found


def digest(message: participation_pb2.ParticipationPublished) -> str:
    return hashlib.sha256(message.SerializeToString(deterministic=True)).hexdigest()


def publish_year(ctx: ServiceContext, program_year: str, observed: int) -> int:
    """Send the year's changed messages as of roll-up revision `observed`; messages sent."""
    current = messages(program_year, ctx.settings.suppression_min_cell, ctx.settings.region)

    def work(uow: db.UnitOfWork) -> int:
        events, now = [], utcnow()
        for key, (message, scope) in current.items():
            before = uow.find_one(PublishedParticipation, {"_id": key})
            content = digest(message)
            if before is not None and before.digest == content:
                continue
            version = before.version + 1 if before is not None else 1
            out = participation_pb2.ParticipationPublished()
            out.CopyFrom(message)
            out.version = version
            out.publish_time.CopyFrom(timestamp(now))
            events.append(ctx.event(EVENT_TYPE, message.organization_id, out, scope=scope))
            uow.update_one(PublishedParticipation, {"_id": key}, {"$set": {"version": version, "digest": content}},
                           upsert=True)
        if events:
            uow.emit_many(events)
        # Only as of what was read: a change made meanwhile leaves the year to look at again.
        uow.update_one(ParticipationYear, {"_id": program_year, "revision": observed},
                       {"$set": {"published_revision": observed}})
        return len(events)

    return ctx.transaction(work)


def publish_changes(ctx: ServiceContext) -> int:
    """Send what changed in every year whose roll-ups changed since last sent; messages sent."""
    # A handful of program years: filtered here rather than by a query operator the store may lack.
    changed = [(y.program_year, y.revision) for y in ParticipationYear.objects() if y.revision != y.published_revision]
    sent = sum(publish_year(ctx, year, observed) for year, observed in changed)
    if sent:
        log.info("participation.published: %d message(s)", sent)
    return sent


def jobs(ctx: ServiceContext) -> list[PeriodicJob]:
    return [PeriodicJob("participation-published", COALESCE_SECONDS, lambda: publish_changes(ctx))]
