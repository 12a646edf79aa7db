"""The facts of what happened before this service kept them: events published before participation
existed are not replayed, so once per database a job walks membership's communities and their
confirmed registrations, and scheduling's attendance per community, and applies each as if it had
come as an event (the facts make that idempotent, and a newer event always wins over an older
snapshot). Bounded: at most MAX_COMMUNITIES communities; each registration and record is its own
small transaction, so events keep flowing meanwhile.

Not recovered: registrations cancelled before the backfill (membership lists them as cancelled,
which counts nothing anyway) and people's moves before it (their placement is taken as it is now).
"""

from __future__ import annotations

import logging

from copnet.kernel.service import PeriodicJob, ServiceContext
import copnet.reflection.participation.ledger as ledger
from copnet.reflection.participation.directory import PAGE_SIZE, Directory
from copnet.reflection.participation.models import BackfillState
from copnet.scheduling.client import SCHEDULING
from copnet.scheduling.v1 import scheduling_pb2

log = logging.getLogger(__name__)
STATE_ID = "participation"
MAX_COMMUNITIES = 5000
# Checked once at start (and hourly, in case a run was cut short by a restart).
CHECK_SECONDS = 3600.0


def attendance_of(ctx: ServiceContext, community_id: str):
    token = ""
    while True:
        reply = ctx.clients.stub(SCHEDULING, token=ctx.service_token()).ListAttendance(
            scheduling_pb2.ListAttendanceRequest(community_id=community_id, page_size=PAGE_SIZE, page_token=token))
        yield from reply.records
        token = reply.next_page_token
        if not token:
            return


def backfill(ctx: ServiceContext) -> int:
    """Apply every current registration and attendance record once; the number applied."""
    if BackfillState.objects(id=STATE_ID, done=True).first() is not None:
        return 0
    directory, applied = Directory(ctx), 0
    for position, community in enumerate(directory.communities()):
        if position >= MAX_COMMUNITIES:
            log.warning("participation backfill stopped after %d communities", MAX_COMMUNITIES)
            break
        for registration in directory.confirmed_registrations(community.id):
            ctx.transaction(lambda uow, r=registration: ledger.registration_changed(uow, directory, r))
            applied += 1
        for record in attendance_of(ctx, community.id):
            ctx.transaction(lambda uow, r=record: ledger.attendance_recorded(uow, directory, r))
            applied += 1
    BackfillState.objects(id=STATE_ID).update_one(set__done=True, upsert=True)
    log.info("participation backfill: %d registration(s) and record(s) applied", applied)
    return applied


def jobs(ctx: ServiceContext) -> list[PeriodicJob]:
    return [PeriodicJob("participation-backfill", CHECK_SECONDS, lambda: backfill(ctx))]
