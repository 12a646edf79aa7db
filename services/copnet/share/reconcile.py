"""The reconcile job: at start and every few minutes, page through membership's organizations,
programs and communities (and count the cycles of each organization of district level and
above) and share whatever is missing, changed or gone. A region that had data before sharing
began shares it all this way; a missed event is caught up; sign-up windows that pass (the waiting
list closing) are seen. Only what differs from the ledger is sent.

reflection's measures and participation are not read here: their events stay on the region's
event stream, and the share service's durable consumers start from its first message.
"""

from __future__ import annotations

import logging
import threading
import time

from copnet.kernel.db import utcnow
from copnet.kernel.service import PeriodicJob
from copnet.share import changes
from copnet.share.asking import Sources
from copnet.share.ledger import Change, share_all, shared_keys

log = logging.getLogger(__name__)
INTERVAL_SECONDS = 300.0
# How soon a requested reconcile runs.
CHECK_SECONDS = 10.0


def reconcile(ctx, sources: Sources | None = None) -> int:
    """Share what differs from the ledger; the number of records sent."""
    sources = sources or Sources(ctx)
    now = utcnow()
    organizations = list(sources.organizations())
    programs = list(sources.programs())
    communities = list(sources.communities())
    found: list[Change] = [changes.region(ctx, organizations)]
    found += [changes.organization(o, o.id) for o in organizations]
    found += [changes.program(p, p.id) for p in programs]
    found += [changes.community(ctx, c, c.id, now) for c in communities]
    # Whatever was shared and is no longer listed is gone.
    listed = {change.key for change in found}
    for kind, prefix in (("directory", "organization:"), ("catalog", "program:"), ("catalog", "community:")):
        found += [Change(kind, key, None) for key in sorted(shared_keys(kind, prefix) - listed)]
    years = {p.program_year for p in programs}
    for organization in organizations:
        found += changes.cycles(sources, organization, changes.cycle_years(years, organization.id))
    sent = share_all(ctx, found)
    if sent:
        log.info("share: reconcile sent %d record(s)", sent)
    return sent


class ReconcileJob:
    """Reconciles at start, every INTERVAL_SECONDS, and soon after `request()` (a new program year
    has cycle counts to share, zeros included, though no cycle event says so)."""

    def __init__(self, ctx):
        self.ctx = ctx
        self.last: float | None = None
        self.requested = threading.Event()

    def request(self) -> None:
        self.requested.set()

    def run(self) -> None:
        due = self.last is None or time.monotonic() - self.last >= INTERVAL_SECONDS
        if not (due or self.requested.is_set()):
            return
        self.requested.clear()
        reconcile(self.ctx)
        self.last = time.monotonic()


def jobs(ctx, job: ReconcileJob) -> list[PeriodicJob]:
    return [PeriodicJob("share-reconcile", CHECK_SECONDS, job.run)]

