"""participation's event subscriptions: registrations (membership), attendance (scheduling) and
people's new descriptions (membership), each applied in the inbox record's transaction."""

from __future__ import annotations

from copnet.events.v1 import events_pb2
from copnet.kernel import db
from copnet.kernel.bus import Subscription
from copnet.kernel.events import CloudEvent
from copnet.kernel.service import ServiceContext
import copnet.reflection.participation.ledger as ledger
from copnet.reflection.participation.directory import Directory

REGISTRATION_CHANGED = "copnet.membership.registration.*"
ATTENDANCE_RECORDED = "copnet.scheduling.attendance.recorded"
PERSON_UPDATED = "copnet.membership.person.updated"


def subscriptions(ctx: ServiceContext) -> list[Subscription]:
    directory = Directory(ctx)

    def registration(uow: db.UnitOfWork, event: CloudEvent) -> None:
        ledger.registration_changed(uow, directory, event.payload(events_pb2.RegistrationChanged).registration)

    def attendance(uow: db.UnitOfWork, event: CloudEvent) -> None:
        ledger.attendance_recorded(uow, directory, event.payload(events_pb2.AttendanceRecorded).record)

    def person(uow: db.UnitOfWork, event: CloudEvent) -> None:
        ledger.person_updated(uow, directory, event.payload(events_pb2.PersonChanged).person_id)

    return [Subscription("participation-registrations", (REGISTRATION_CHANGED,), registration),
            Subscription("participation-attendance", (ATTENDANCE_RECORDED,), attendance),
            Subscription("participation-people", (PERSON_UPDATED,), person)]
