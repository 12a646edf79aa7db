"""Session reminders by email on the real stack: email-notify enabled for one region through the REST
API, a real SMTP server (aiosmtpd) in the test process, and every person expected at a session gets
one message at their own address with the session attached. Ids start with `er`."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest
import vobject
from copnet.scheduling.v1 import scheduling_pb2

from tests.integration.http import request
from tests.integration.jetstream_events import published
from tests.integration.scheduling_world import TZ, SchedulingWorld, current_program_year
from tests.support.smtp import Received, SmtpServer

pytestmark = pytest.mark.integration

SENDER = "reminders@er.example.org"


@pytest.fixture
def smtp_server():
    server = SmtpServer()
    yield server
    server.close()


def calendar_event(received: Received):
    """The one VEVENT of the message's iCalendar attachment, or None without one."""
    parts = [part for part in received.message.iter_attachments() if part.get_content_type() == "text/calendar"]
    if len(parts) != 1:
        return None
    [event] = vobject.readOne(parts[0].get_content()).vevent_list
    return event


def about(server: SmtpServer, occurrence: scheduling_pb2.Occurrence) -> list[Received]:
    """The messages whose attachment is this occurrence."""
    uid = f"{occurrence.id}@copnet"
    return server.received(lambda received: (event := calendar_event(received)) is not None and event.uid.value == uid)


def test_each_person_expected_at_a_session_gets_one_email_with_the_session_attached(stack, smtp_server):
    world = SchedulingWorld(stack, "era")
    plugin_url = f"{stack.gateway_url}/api/v1/regions/{world.region}/plugins/email-notify"
    region_lead = stack.token("regional_lead", world.region, person="era-lead")
    # Two hours ahead: due at once for the stack's 24-hour lead. The program year is the one of
    # the local (the program owner's) date.
    first = (dt.datetime.now(dt.UTC) + dt.timedelta(hours=2)).replace(second=0, microsecond=0)
    try:
        program = world.program(program_year=current_program_year(first.astimezone(zoneinfo.ZoneInfo(TZ))))
        facilitator = world.person("fac")
        members = world.people(2, "m")
        community = world.program_community("geometry", program, members=members, facilitators=[facilitator])
        reply = request("PUT", plugin_url, token=region_lead, json_body={"enabled": True, "settings": {
            "host": smtp_server.host, "port": smtp_server.port, "security": "none", "from_address": SENDER,
            "from_name": "Bay Area CoPs"}})
        assert reply.status == 200, reply.text

        # The configuration reaches scheduling by event: schedule a fresh session (ten minutes
        # after the last) until one's reminders are emailed, then check that one's.
        tried: list[scheduling_pb2.Occurrence] = []

        def emailed() -> bool:
            start = first + dt.timedelta(minutes=10 * len(tried))
            session = world.session(community, start, minutes=30, title="Geometry PLC",
                                    meeting_url="https://meet.example.org/geometry").session
            [occurrence] = world.scheduling(world.admin).ListOccurrences(scheduling_pb2.ListOccurrencesRequest(
                session_id=session.id, page_size=10)).occurrences
            tried.append(occurrence)
            world.scheduling(world.admin).RunReminders(scheduling_pb2.RunRemindersRequest())
            try:
                stack.wait_for(lambda: about(smtp_server, occurrence), 2, "a reminder emailed")
            except TimeoutError:
                return False
            return True

        stack.wait_for(emailed, 40, "a reminder emailed through the region's SMTP server")
        occurrence = tried[-1]
        everyone = {facilitator, *members}
        stack.wait_for(lambda: len(about(smtp_server, occurrence)) >= len(everyone), 20, "everyone's reminder emailed")
        messages = {received.rcpt_tos: received for received in about(smtp_server, occurrence)}
        assert sorted(messages) == sorted((f"{person}@example.org",) for person in everyone)   # one each
        events = {event.data["person_id"]: event for event in published(stack, "scheduling.session.reminder")
                  if event.subject == occurrence.id}
        start = occurrence.start_time.ToDatetime(tzinfo=dt.UTC)
        for person in everyone:
            received = messages[(f"{person}@example.org",)]
            message = received.message
            assert received.mail_from == SENDER
            assert message["From"] == f"Bay Area CoPs <{SENDER}>"
            assert message["To"] == f"{person.removeprefix('era-')} <{person}@example.org>"
            assert message["Message-ID"] == f"<copnet.{events[person].id}@er.example.org>"
            assert message["Subject"].startswith("Reminder: Geometry PLC — ")
            assert "Join: https://meet.example.org/geometry" in message.get_body(("plain",)).get_content()
            event = calendar_event(received)
            assert event.summary.value == "Geometry PLC"
            assert event.dtstart.value == start and event.dtend.value == start + dt.timedelta(minutes=30)
            assert vobject.icalendar.TimezoneComponent.pickTzid(event.dtstart.value.tzinfo) == TZ
    finally:
        request("PUT", plugin_url, json_body={"enabled": False}, token=region_lead)
        world.close()
