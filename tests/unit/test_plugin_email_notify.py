"""email-notify: a session reminder sent to a real local SMTP server (aiosmtpd) — headers, body,
the iCalendar attachment read back by an independent parser (vobject), plain text, STARTTLS and
TLS with a login, refusals and time limits reported as failures, and its settings."""

from __future__ import annotations

import datetime as dt
import smtplib
import socket
import ssl

import pytest
import vobject
from copnet import NOTIFY_BUDGET_SECONDS, Notification, NotificationPerson, Notifier
from copnet.events.v1 import events_pb2
from copnet.kernel.errors import InvalidArgument
from copnet.kernel.events import CloudEvent
from copnet.kernel.plugins import PluginCallFailed
from copnet.kernel.timestamps import timestamp
from copnet.scheduling.notification_text import reminder_text
from copnet.scheduling.v1 import scheduling_pb2 as pb
from copnet.testing import scope
from copnet_plugins.email_notify import EmailNotifier, MissingEmailAddress, Settings

from tests.support.smtp import CERTIFICATE, SmtpServer

REGION = "em-north"
LA = "America/Los_Angeles"
SENDER = "reminders@bay.example.org"
# aiosmtpd itself reads this deprecated attribute when a login succeeds.
LOGIN_WARNING = "ignore:Session.login_data is deprecated:DeprecationWarning"


def reminder(start: dt.datetime = dt.datetime(2026, 10, 13, 23, 0, tzinfo=dt.UTC), *, minutes: int = 180,
             event_id: str = "5be0c2f4a1d94e0f8a6b7c3d2e1f0a9b", email: str = "ana@example.org",
             **occurrence_fields) -> Notification:
    """A reminder as scheduling hands it to notifiers: the SessionReminder event's JSON as `data`,
    subject and body from scheduling's own reminder text."""
    fields = {"title": "Algebra PLC", "modality": pb.MODALITY_IN_PERSON,
              "venue": pb.Venue(name="Room 12", address="100 Main St, Oakland"),
              "meeting_url": "https://meet.example.org/algebra", **occurrence_fields}
    occurrence = pb.Occurrence(
        id=f"ses-1:{start:%Y%m%dT%H%M%SZ}", session_id="ses-1", community_id="plc-1", time_zone=LA,
        original_start_time=timestamp(start), start_time=timestamp(start),
        end_time=timestamp(start + dt.timedelta(minutes=minutes)), status=pb.OCCURRENCE_STATUS_SCHEDULED, **fields)
    event = CloudEvent.of("copnet.scheduling.session.reminder", "copnet/test/scheduling", occurrence.id,
                          events_pb2.SessionReminder(occurrence=occurrence, person_id="p-42",
                                                     community_name="Algebra PLC", lead_minutes=1440),
                          id=event_id, scope=scope(REGION))
    text = reminder_text(occurrence, "Algebra PLC")
    return Notification(id=event.id, kind="session.reminder", person=NotificationPerson("p-42", "Ana López", email),
                        subject=text.subject, body=text.body, data=event.data, link=occurrence.meeting_url)


def settings(server: SmtpServer, **values) -> Settings:
    return Settings(**{"host": server.host, "port": server.port, "security": "none", "from_address": SENDER,
                       **values})


@pytest.fixture
def smtp():
    servers = []

    def start(security="none", credentials=None, refused=(), delay=0.0):
        servers.append(SmtpServer(security, credentials, refused, delay))
        return servers[-1]

    yield start
    for server in servers:
        server.close()


@pytest.fixture
def trust_test_certificate(monkeypatch):
    """The test certificate as the only trusted authority (OpenSSL reads SSL_CERT_FILE)."""
    monkeypatch.setenv("SSL_CERT_FILE", str(CERTIFICATE))


def attachment(message):
    [part] = [part for part in message.iter_attachments() if part.get_content_type() == "text/calendar"]
    return part


# -- the message ----------------------------------------------------------------------------------
def test_one_message_to_the_person_with_the_reminders_subject_and_body(smtp):
    server = smtp()
    notification = reminder()
    EmailNotifier().notify(notification, settings(server, from_name="Bay Area CoPs", reply_to="help@bay.example.org"))
    [received] = server.received()
    assert received.mail_from == SENDER and received.rcpt_tos == ("ana@example.org",)
    message = received.message
    assert message["From"] == "Bay Area CoPs <reminders@bay.example.org>"
    assert message["To"] == "Ana López <ana@example.org>"
    assert message["Reply-To"] == "help@bay.example.org"
    assert message["Subject"] == "Reminder: Algebra PLC — Tue Oct 13, 4:00 PM PDT"
    assert message["Message-ID"] == "<copnet.5be0c2f4a1d94e0f8a6b7c3d2e1f0a9b@bay.example.org>"
    assert message["Auto-Submitted"] == "auto-generated"
    assert message["X-Copnet-Notification-Id"] == notification.id
    body = message.get_body(("plain",))
    assert body.get_content().rstrip("\n") == notification.body
    assert "When: Tue Oct 13, 4:00 – 7:00 PM PDT" in body.get_content()
    assert "Where: Room 12, 100 Main St, Oakland" in body.get_content()


def test_a_repeated_delivery_is_the_same_message_id_and_another_reminder_another(smtp):
    server = smtp()
    notifier = EmailNotifier()
    notifier.notify(reminder(), settings(server))
    notifier.notify(reminder(), settings(server))
    notifier.notify(reminder(event_id="0f9e8d7c6b5a49382716a5b4c3d2e1f0"), settings(server))
    ids = [received.message["Message-ID"] for received in server.received()]
    assert ids[0] == ids[1] != ids[2]


@pytest.mark.parametrize(("start", "offset", "zone_name"), [
    (dt.datetime(2026, 10, 13, 23, 0, tzinfo=dt.UTC), dt.timedelta(hours=-7), "PDT"),
    # After the change back to standard time: the same 4 PM is an hour later in UTC.
    (dt.datetime(2026, 11, 11, 0, 0, tzinfo=dt.UTC), dt.timedelta(hours=-8), "PST"),
])
def test_the_attachment_is_the_occurrence_at_the_right_instant_in_its_time_zone(smtp, start, offset, zone_name):
    server = smtp()
    EmailNotifier().notify(reminder(start, minutes=90), settings(server))
    part = attachment(server.received()[0].message)
    assert part.get_content_type() == "text/calendar"
    assert part.get_param("method") == "PUBLISH" and part.get_filename() == "session.ics"
    calendar = vobject.readOne(part.get_content())
    assert calendar.method.value == "PUBLISH" and calendar.version.value == "2.0"
    assert calendar.vtimezone.tzid.value == LA
    [event] = calendar.vevent_list
    assert event.uid.value == f"ses-1:{start:%Y%m%dT%H%M%SZ}@copnet"
    assert event.summary.value == "Algebra PLC"
    assert event.location.value == "Room 12, 100 Main St, Oakland"
    # The times are written in the zone (TZID) and read back with the zone's VTIMEZONE rules.
    assert f"DTSTART;TZID={LA}:{start.astimezone(dt.timezone(offset)):%Y%m%dT%H%M%S}" in part.get_content().splitlines()
    assert {vobject.icalendar.TimezoneComponent.pickTzid(moment.value.tzinfo)
            for moment in (event.dtstart, event.dtend)} == {LA}
    assert event.dtstart.value == start and event.dtend.value == start + dt.timedelta(minutes=90)
    assert event.dtstart.value.utcoffset() == offset and event.dtstart.value.tzname() == zone_name
    assert (event.dtstart.value.hour, event.dtstart.value.minute) == (16, 0)


def test_a_virtual_sessions_location_is_its_meeting_link(smtp):
    server = smtp()
    EmailNotifier().notify(reminder(modality=pb.MODALITY_VIRTUAL, venue=None), settings(server))
    [event] = vobject.readOne(attachment(server.received()[0].message).get_content()).vevent_list
    assert event.location.value == "https://meet.example.org/algebra"
    assert event.url.value == "https://meet.example.org/algebra"


def test_no_attachment_when_attach_ics_is_off(smtp):
    server = smtp()
    EmailNotifier().notify(reminder(), settings(server, attach_ics=False))
    message = server.received()[0].message
    assert not message.is_multipart() and message.get_content_type() == "text/plain"
    assert list(message.iter_attachments()) == []


# -- failures -------------------------------------------------------------------------------------
def test_a_person_without_an_email_address_is_an_error_and_nothing_is_sent(smtp):
    server = smtp()
    with pytest.raises(MissingEmailAddress, match="person p-42 has no email address"):
        EmailNotifier().notify(reminder(email=""), settings(server))
    assert server.received() == []


def test_a_refused_recipient_is_an_error(smtp):
    server = smtp(refused={"ana@example.org"})
    with pytest.raises(smtplib.SMTPRecipientsRefused) as caught:
        EmailNotifier().notify(reminder(), settings(server))
    assert caught.value.recipients["ana@example.org"][0] == 550
    assert server.received() == []


def test_starttls_is_required_never_skipped(smtp):
    server = smtp("none")   # offers no STARTTLS
    with pytest.raises(smtplib.SMTPNotSupportedError, match="STARTTLS"):
        EmailNotifier().notify(reminder(), settings(server, security="starttls"))
    assert server.received() == []


def test_a_certificate_the_client_does_not_trust_is_refused(smtp):
    server = smtp("tls")
    with pytest.raises(ssl.SSLCertVerificationError):
        EmailNotifier().notify(reminder(), settings(server, security="tls"))
    assert server.received() == []


def test_a_server_that_never_answers_is_given_up_on_within_timeout_seconds():
    # Connections are taken by the listen backlog, but no greeting ever comes.
    with socket.create_server(("127.0.0.1", 0)) as silent:
        port = silent.getsockname()[1]
        with pytest.raises(TimeoutError):
            EmailNotifier().notify(reminder(), Settings(host="127.0.0.1", port=port, security="none",
                                                        from_address=SENDER, timeout_seconds=0.2))


def test_timeout_seconds_bounds_the_whole_conversation_not_each_reply(smtp):
    # Each answer comes well within the time allowed, all of them together do not.
    server = smtp(delay=0.2)
    with pytest.raises(TimeoutError, match="within 0.5s"):
        EmailNotifier().notify(reminder(), settings(server, timeout_seconds=0.5))


def test_the_host_counts_a_failed_send_against_the_plugin(copnet_plugins, smtp):
    server = smtp(refused={"nobody@example.org"})
    copnet_plugins.load("email-notify")
    copnet_plugins.configure(REGION, {"host": server.host, "port": server.port, "security": "none",
                                      "from_address": SENDER})
    assert copnet_plugins.call("register_notifiers", scope=scope("em-south")) == []
    [result] = copnet_plugins.call("register_notifiers", scope=scope(REGION))
    [notifier] = result.value
    assert isinstance(notifier, Notifier) and notifier.key == "email"
    # As scheduling calls it: isolated, with the region's settings; a failure is the plugin's.
    with pytest.raises(PluginCallFailed, match="SMTPRecipientsRefused"):
        copnet_plugins.host.invoke(result.plugin, scope(REGION), "notify",
                                   lambda s: notifier.notify(reminder(email="nobody@example.org"), s))
    assert copnet_plugins.failures[("email-notify", REGION)] == 1
    copnet_plugins.host.invoke(result.plugin, scope(REGION), "notify", lambda s: notifier.notify(reminder(), s))
    assert [received.rcpt_tos for received in server.received()] == [("ana@example.org",)]


# -- encryption and login -------------------------------------------------------------------------
@pytest.mark.filterwarnings(LOGIN_WARNING)
# The test server's own warning: it cannot tell that an implicit-TLS connection is encrypted.
@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS:UserWarning")
@pytest.mark.parametrize("security", ["starttls", "tls"])
def test_it_logs_in_over_an_encrypted_connection(smtp, trust_test_certificate, security):
    server = smtp(security, credentials=("bay-reminders", "correct horse"))
    EmailNotifier().notify(reminder(), settings(server, security=security, username="bay-reminders",
                                                password="correct horse"))
    assert server.logins == ["bay-reminders"]
    [received] = server.received()
    assert received.rcpt_tos == ("ana@example.org",)


def test_a_wrong_password_is_an_error(smtp, trust_test_certificate):
    server = smtp("starttls", credentials=("bay-reminders", "correct horse"))
    with pytest.raises(smtplib.SMTPAuthenticationError):
        EmailNotifier().notify(reminder(), settings(server, security="starttls", username="bay-reminders",
                                                    password="battery staple"))
    assert server.received() == []


# -- settings -------------------------------------------------------------------------------------
@pytest.fixture
def testbed(copnet_plugins):
    copnet_plugins.load("email-notify")
    return copnet_plugins


VALID = {"host": "smtp.example.org", "from_address": SENDER}


def test_defaults(testbed):
    configured = testbed.configure(REGION, VALID)
    assert (configured.port, configured.security, configured.from_name) == (587, "starttls", "copnet")
    assert (configured.timeout_seconds, configured.attach_ics) == (5.0, True)
    assert configured.username is None and configured.password is None and configured.reply_to is None


@pytest.mark.parametrize(("values", "field"), [
    ({"from_address": None}, "settings.from_address"),
    ({"from_address": "reminders"}, "settings.from_address"),
    ({"from_address": "reminders@bay example.org"}, "settings.from_address"),
    ({"reply_to": "help desk"}, "settings.reply_to"),
    ({"security": "ssl"}, "settings.security"),
    ({"host": ""}, "settings.host"),
    ({"host": "smtp://smtp.example.org:587"}, "settings.host"),
    ({"port": 0}, "settings.port"),
    ({"timeout_seconds": 0}, "settings.timeout_seconds"),
    ({"timeout_seconds": 6.5}, "settings.timeout_seconds"),
    ({"from_name": "copnet\r\nBcc: everyone@example.org"}, "settings.from_name"),
    ({"username": "bay-reminders"}, "settings"),
    ({"password": "correct horse"}, "settings"),
    ({"security": "none", "username": "bay-reminders", "password": "correct horse"}, "settings"),
    ({"smtp_host": "smtp.example.org"}, "settings.smtp_host"),
])
def test_invalid_settings_are_refused_naming_the_field(testbed, values, field):
    document = {key: value for key, value in {**VALID, **values}.items() if value is not None}
    with pytest.raises(InvalidArgument) as caught:
        testbed.configure(REGION, document)
    assert any(violation.field.startswith(field) for violation in caught.value.fields), caught.value.fields


def test_timeout_seconds_may_take_at_most_the_budget_the_notifiers_share(testbed):
    assert NOTIFY_BUDGET_SECONDS == 6.0
    assert testbed.configure(REGION, {**VALID, "timeout_seconds": NOTIFY_BUDGET_SECONDS}).timeout_seconds == 6.0
    with pytest.raises(InvalidArgument):
        testbed.configure(REGION, {**VALID, "timeout_seconds": NOTIFY_BUDGET_SECONDS + 0.1})


def test_the_password_is_a_secret_field_never_shown(testbed):
    [description] = testbed.describe()
    assert description.secret_fields == ("password",)
    assert all(prop.get("description") for prop in description.settings_schema["properties"].values())
    configured = testbed.configure(REGION, {**VALID, "username": "bay-reminders", "password": "correct horse"})
    assert configured.password.get_secret_value() == "correct horse"
    assert "correct horse" not in repr(configured) and "correct horse" not in str(configured.model_dump())
