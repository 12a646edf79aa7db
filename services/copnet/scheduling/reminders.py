"""Session reminders: `copnet.scheduling.session.reminder` once per occurrence, person and lead,
ever, and their delivery through the notifier plugins.

Exactly once does not depend on the scan being careful: each reminder is a `ReminderSent` row
whose id ("<occurrence>|<person>|<lead>") is unique, inserted in the same transaction as the
event's outbox entry. A process killed mid-scan committed whole occurrences or nothing; a
second replica scanning at the same time either sees the rows after the driver retries its
write conflict, or fails on the duplicate id and leaves that occurrence to the winner.

Delivery is at least once (a redelivered event notifies again): `Notification.id` is the event
id, for receivers to drop repeats.
"""

from __future__ import annotations

import copy
import datetime as dt
import logging
import time
from collections.abc import Sequence

from pymongo.errors import DuplicateKeyError, PyMongoError

from copnet.events.v1 import events_pb2
from copnet.kernel import auth, db
from copnet.kernel.auth import Role
from copnet.kernel.bus import Subscription
from copnet.kernel.errors import NotFound, Unavailable
from copnet.kernel.events import CloudEvent
from copnet.kernel.inputs import instant
from copnet.kernel.plugin_host import PluginCallFailed, PluginUnavailable
from copnet.kernel.service import PeriodicJob, ServiceContext
from copnet.pluginapi import (
    NOTIFY_BUDGET_SECONDS,
    Notification,
    NotificationPerson,
    Notifier,
)
from copnet.scheduling.directory import Audiences, CommunityFacts, Directory
from copnet.scheduling.models import Occurrence, ReminderSent, Session
from copnet.scheduling.notification_text import reminder_text
from copnet.scheduling.sessions import occurrence_message
from copnet.scheduling.v1 import scheduling_pb2

log = logging.getLogger(__name__)

EVENT_TYPE = "copnet.scheduling.session.reminder"
NOTIFICATION_KIND = "session.reminder"
LIVE_STATUSES = ("scheduled", "moved")


# -- which lead is due ---------------------------------------------------------------------------
def due_leads(start_at: dt.datetime, now: dt.datetime, leads: Sequence[int],
              reminded: Sequence[int]) -> tuple[int | None, tuple[int, ...]]:
    """(the lead to remind at now, every lead this settles) for an occurrence starting at `start_at`.

    A lead is due once the start is at most that many minutes away. When several are due at once
    (an occurrence created, or the service down, inside a shorter lead) only the shortest is
    sent: one reminder, not two in the same minute; the longer ones are settled with it.
    """
    if start_at <= now:
        return None, ()
    due = tuple(sorted((lead for lead in set(leads) - set(reminded)
                        if start_at <= now + dt.timedelta(minutes=lead)), reverse=True))
    return (due[-1] if due else None), due


def reminder_id(occurrence_id: str, person_id: str, lead: int) -> str:
    return f"{occurrence_id}|{person_id}|{lead}"


# -- the scan ------------------------------------------------------------------------------------
class ReminderScan:
    """One pass over the occurrences whose reminders are due. Membership is asked once per
    community, roster and audience in a pass, not once per occurrence."""

    def __init__(self, ctx: ServiceContext, directory: Directory):
        self.ctx = ctx
        self.directory = directory
        self._communities: dict[str, CommunityFacts | None] = {}
        self._audiences = Audiences(directory)

    def run(self, now: dt.datetime | None = None) -> int:
        """Emit every reminder due at `now` (default: now); returns how many were emitted.

        Raises Unavailable when membership cannot say who to remind: what was committed stays,
        the rest waits for the next scan."""
        real_now = db.utcnow()
        now = now or real_now
        # Whatever `now` says, never a reminder for an occurrence that has begun.
        not_begun = max(now, real_now)
        leads = self.ctx.settings.reminder_leads
        emitted = 0
        for lead in leads:
            for occurrence in list(Occurrence.objects(
                    status__in=LIVE_STATUSES, start_at__gt=not_begun, start_at__lte=now + dt.timedelta(minutes=lead),
                    reminded_leads__ne=lead).order_by("start_at")):
                send, settled = due_leads(occurrence.start_at, now, leads, occurrence.reminded_leads)
                if send is not None:
                    emitted += self.remind(occurrence, send, settled)
        return emitted

    def community(self, community_id: str) -> CommunityFacts | None:
        """The community (None when it is gone), asked of membership once per pass."""
        if community_id not in self._communities:
            try:
                self._communities[community_id] = self.directory.community(community_id, field=None)
            except NotFound:
                self._communities[community_id] = None
        return self._communities[community_id]

    def remind(self, occurrence: Occurrence, lead: int, settled: Sequence[int]) -> int:
        community = self.community(occurrence.community_id)
        if community is None:
            log.warning("reminders: community %s of occurrence %s is gone; no reminders for it",
                        occurrence.community_id, occurrence.id)
            self.ctx.transaction(lambda uow: settle(uow, occurrence.id, settled))
            return 0
        try:
            people = self._audiences.at(community, occurrence)
        except Unavailable:
            log.warning("reminders: membership cannot say who occurrence %s is for; trying again next scan",
                        occurrence.id)
            raise
        try:
            return self.ctx.transaction(lambda uow: self.emit(uow, occurrence, community, sorted(people), lead,
                                                              settled))
        except DuplicateKeyError:
            log.info("reminders: another scan reminded occurrence %s (lead %d) first", occurrence.id, lead)
            return 0
        except PyMongoError as error:
            if not db.ping():
                raise Unavailable("the database does not answer", reason="DATABASE_UNAVAILABLE") from error
            # Held by a transaction nobody will finish (a process killed mid-write): the database
            # aborts it within its transaction lifetime; the other occurrences need not wait.
            log.warning("reminders: occurrence %s cannot be written now (%s); next scan", occurrence.id,
                        type(error).__name__)
            return 0

    def emit(self, uow: db.UnitOfWork, occurrence: Occurrence, community: CommunityFacts, people: list[str],
             lead: int, settled: Sequence[int]) -> int:
        ids = {reminder_id(occurrence.id, person, lead): person for person in people}
        sent = {row.id for row in uow.find_all(ReminderSent, {"_id": {"$in": list(ids)}})}
        message = occurrence_message(occurrence)
        now = db.utcnow()
        count = 0
        for row_id, person in ids.items():
            if row_id in sent:
                continue
            uow.insert(ReminderSent(id=row_id, occurrence_id=occurrence.id, person_id=person, sent_at=now))
            uow.emit(self.ctx.event(EVENT_TYPE, occurrence.id, events_pb2.SessionReminder(
                occurrence=message, person_id=person, community_name=community.name, lead_minutes=lead),
                scope=community.scope))
            count += 1
        settle(uow, occurrence.id, settled)
        return count


def settle(uow: db.UnitOfWork, occurrence_id: str, leads: Sequence[int]) -> None:
    """Mark `leads` done for the occurrence so later scans skip it."""
    uow.update_one(Occurrence, {"_id": occurrence_id}, {"$addToSet": {"reminded_leads": {"$each": list(leads)}}})


class RemindersApi:
    ctx: ServiceContext
    directory: Directory

    def RunReminders(self, request: scheduling_pb2.RunRemindersRequest,
                     _context) -> scheduling_pb2.RunRemindersResponse:
        # Platform admins only (a service token holds no role).
        auth.require({Role.PLATFORM_ADMIN}, [], "RunReminders")
        now = instant(request, "now")
        return scheduling_pb2.RunRemindersResponse(emitted=ReminderScan(self.ctx, self.directory).run(now))


def jobs(ctx: ServiceContext) -> list[PeriodicJob]:
    directory = Directory(ctx)

    def run() -> int:
        try:
            emitted = ReminderScan(ctx, directory).run()
        except Unavailable as error:
            log.warning("reminders: scan stopped (%s); the next one picks up the rest", error)
            return 0
        if emitted:
            log.info("reminders: %d emitted", emitted)
        return emitted

    return [PeriodicJob("reminders", ctx.settings.reminder_interval_seconds, run)]


# -- delivery ------------------------------------------------------------------------------------
class ReminderDelivery:
    """Hands each reminder to every notifier enabled for its community (the event's scope)."""

    def __init__(self, ctx: ServiceContext, directory: Directory):
        self.ctx = ctx
        self.directory = directory

    def __call__(self, _uow: db.UnitOfWork, event: CloudEvent) -> None:
        reminder = event.payload(events_pb2.SessionReminder)
        occurrence = Occurrence.objects(id=reminder.occurrence.id).only("status").first()
        if occurrence is None or occurrence.status == "cancelled":
            log.info("reminders: occurrence %s was cancelled since; reminder %s not delivered",
                     reminder.occurrence.id, event.id)
            return
        try:
            person = self.directory.person(reminder.person_id, field=None)
        except NotFound:
            log.warning("reminders: person %s is gone; reminder %s not delivered", reminder.person_id, event.id)
            return
        # Unavailable propagates: the bus delivers the event again later.
        self.notify(event, self.notification(event, reminder, person))

    def notification(self, event: CloudEvent, reminder: events_pb2.SessionReminder, person) -> Notification:
        session = Session.objects(id=reminder.occurrence.session_id).only("agenda").first()
        text = reminder_text(reminder.occurrence, reminder.community_name, session.agenda if session else "")
        return Notification(id=event.id, kind=NOTIFICATION_KIND,
                            person=NotificationPerson(id=person.id, name=person.name, email=person.email),
                            subject=text.subject, body=text.body, data=copy.deepcopy(event.data),
                            link=reminder.occurrence.meeting_url or "")

    def notify(self, event: CloudEvent, notification: Notification) -> int:
        """Every enabled notifier gets the notification; a failing one is already logged and
        counted by the plugin host and never stops the others. Returns how many delivered."""
        plugins = self.ctx.plugins
        # Delivery runs inside the consumer's inbox transaction (10 s at most): the notifiers of
        # one reminder share NOTIFY_BUDGET_SECONDS, so a slow one cannot make the transaction time
        # out and the reminder be delivered again and again.
        deadline = time.monotonic() + NOTIFY_BUDGET_SECONDS
        notifiers = []
        for result in plugins.call("register_notifiers", scope=event.scope):
            for notifier in result.value if isinstance(result.value, list | tuple) else [result.value]:
                if isinstance(notifier, Notifier):
                    notifiers.append((result.plugin, notifier))
                else:
                    log.warning("plugins: %s returned %r from register_notifiers, not a Notifier; skipped",
                                result.plugin, notifier)
        delivered = 0
        for position, (plugin, notifier) in enumerate(notifiers):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                log.error("reminders: no time left for %s's notifier %r; reminder %s not delivered there",
                          plugin, getattr(notifier, "key", "?"), event.id)
                continue
            # Off the request path, a notifier may take longer than the hook deadline (an SMTP
            # conversation needs seconds): its fair share of what is left, at least the hook
            # deadline, so one that hangs leaves time for the others.
            share = max(plugins.timeout_seconds, remaining / (len(notifiers) - position))
            try:
                plugins.invoke(plugin, event.scope, "notify",
                               lambda settings, notifier=notifier: notifier.notify(notification, settings),
                               timeout_seconds=min(share, remaining))
                delivered += 1
            except (PluginCallFailed, PluginUnavailable):
                continue
        return delivered


def subscriptions(ctx: ServiceContext) -> list[Subscription]:
    return [Subscription("reminder-delivery", (EVENT_TYPE,), ReminderDelivery(ctx, Directory(ctx)))]
