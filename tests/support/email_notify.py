"""email-notify's test data, shared by its unit and integration tests: a reminder as scheduling
hands it over, hostile texts, refused hosts."""

from __future__ import annotations

import datetime as dt

from copnet import Notification, NotificationPerson
from copnet.events.v1 import events_pb2
from copnet.kernel.events import CloudEvent
from copnet.kernel.timestamps import timestamp
from copnet.scheduling.notification_text import reminder_text
from copnet.scheduling.v1 import scheduling_pb2
from copnet.testing import scope


REGION = "em-north"
LA = "America/Los_Angeles"
SENDER = "reminders@bay.example.org"
LOGIN_WARNING = "ignore:Session.login_data is deprecated:DeprecationWarning"


def reminder(start: dt.datetime = dt.datetime(2026, 10, 13, 23, 0, tzinfo=dt.UTC), *, minutes: int = 180,
             event_id: str = "5be0c2f4a1d94e0f8a6b7c3d2e1f0a9b", email: str = "ana@example.org",
             name: str = "Ana López", **occurrence_fields) -> Notification:
    """A reminder as scheduling hands it to notifiers: the SessionReminder event's JSON as `data`,
    subject and body from scheduling's own reminder text."""
    fields = {"title": "Algebra PLC", "modality": scheduling_pb2.MODALITY_IN_PERSON,
              "venue": scheduling_pb2.Venue(name="Room 12", address="100 Main St, Oakland"),
              "meeting_url": "https://meet.example.org/algebra", **occurrence_fields}
    occurrence = scheduling_pb2.Occurrence(
        id=f"ses-1:{start:%Y%m%dT%H%M%SZ}", session_id="ses-1", community_id="plc-1", time_zone=LA,
        original_start_time=timestamp(start), start_time=timestamp(start),
        end_time=timestamp(start + dt.timedelta(minutes=minutes)), status=scheduling_pb2.OCCURRENCE_STATUS_SCHEDULED, **fields)
    event = CloudEvent.of("copnet.scheduling.session.reminder", "copnet/test/scheduling", occurrence.id,
                          events_pb2.SessionReminder(occurrence=occurrence, person_id="p-42",
                                                     community_name="Algebra PLC", lead_minutes=1440),
                          id=event_id, scope=scope(REGION))
    text = reminder_text(occurrence, "Algebra PLC")
    return Notification(id=event.id, kind="session.reminder", person=NotificationPerson("p-42", name, email),
                        subject=text.subject, body=text.body, data=event.data, link=occurrence.meeting_url)


def attachment(message):
    [part] = [part for part in message.iter_attachments() if part.get_content_type() == "text/calendar"]
    return part


HOSTILE = ["Algebra\nBcc: eve@example.org", "Line\r\nbreak", "tab\tand\x00nul\x7f", "sep\u2028ara\u2029tors\x85",
           "Ünïcödé “quotes”, commas, and \"quotes\" " * 8]


REFUSED_HOSTS = ["127.0.0.1", "10.0.0.1", "169.254.169.254", "::1", "192.168.1.20", "100.64.0.1", "0.0.0.0",
                 "::ffff:127.0.0.1", "fe80::1", "fd00::1", "localhost.test"]


VALID = {"host": "smtp.example.org", "from_address": SENDER}
STORED = {**VALID, "port": 587, "username": "bay-reminders", "password": "correct horse"}

