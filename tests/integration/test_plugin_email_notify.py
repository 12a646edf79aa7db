"""email-notify: a session reminder sent to a real local SMTP server (aiosmtpd) — headers, body,
the iCalendar attachment read back by an independent parser (vobject), plain text, STARTTLS and
TLS with a login, refusals and time limits reported as failures, any text in names and titles,
destinations the instance does not allow, and its settings (the password bound to the server).

The local server listens on loopback, which an instance refuses unless allowed: these tests
allow it (COPNET_PLUGIN_ALLOWED_NETWORKS), except those proving the refusal.

This file: what talks to a real local server (the pure checks are in tests/unit).
"""

from __future__ import annotations

import datetime as dt
import smtplib
import socket
import ssl

import pytest
import vobject
from copnet import (
    DestinationRefused,
    Notifier,
    PluginError,
    UnusableInput,
)
from copnet.kernel.plugin_host import PluginCallFailed
from copnet.scheduling.v1 import scheduling_pb2
from copnet.testing import scope
from copnet_plugins.email_notify import (
    EmailNotifier,
    MissingEmailAddress,
    Settings,
    UnusableEmailAddress,
)

from tests.support.destinations import (  # noqa: F401
    PUBLIC_ADDRESS,
    allow_loopback,
    no_allowed_networks,
    resolve,
)
from tests.support.smtp import CERTIFICATE, SmtpServer

from tests.support.email_notify import (REGION, LA, SENDER, LOGIN_WARNING, reminder, attachment,
                                        HOSTILE, REFUSED_HOSTS)

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("allow_loopback")]


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


def calendar_summary(message) -> str:
    [event] = vobject.readOne(attachment(message).get_content()).vevent_list
    return event.summary.value


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
    EmailNotifier().notify(reminder(modality=scheduling_pb2.MODALITY_VIRTUAL, venue=None), settings(server))
    [event] = vobject.readOne(attachment(server.received()[0].message).get_content()).vevent_list
    assert event.location.value == "https://meet.example.org/algebra"
    assert event.url.value == "https://meet.example.org/algebra"


def test_no_attachment_when_attach_ics_is_off(smtp):
    server = smtp()
    EmailNotifier().notify(reminder(), settings(server, attach_ics=False))
    message = server.received()[0].message
    assert not message.is_multipart() and message.get_content_type() == "text/plain"
    assert list(message.iter_attachments()) == []


def test_a_person_without_an_email_address_is_an_error_and_nothing_is_sent(smtp):
    server = smtp()
    with pytest.raises(MissingEmailAddress, match="person p-42 has no email address"):
        EmailNotifier().notify(reminder(email=""), settings(server))
    assert server.received() == []


def test_a_refused_recipient_is_unusable_input(smtp):
    server = smtp(refused={"ana@example.org"})
    with pytest.raises(UnusableInput) as caught:
        EmailNotifier().notify(reminder(), settings(server))
    assert caught.value.__cause__.recipients["ana@example.org"][0] == 550
    assert server.received() == []


@pytest.mark.parametrize("email", ["ana lopez@example.org", "ana@example.org, eve@example.org",
                                   "ana@example.org\r\nBcc: eve@example.org", "@example.org"])
def test_an_address_that_cannot_be_used_is_unusable_input_and_nothing_is_sent(smtp, email):
    server = smtp()
    with pytest.raises(UnusableEmailAddress, match="person p-42's email address cannot be used"):
        EmailNotifier().notify(reminder(email=email), settings(server))
    assert server.received() == []


def test_starttls_is_required_never_skipped(smtp):
    server = smtp("none")   # offers no STARTTLS
    with pytest.raises(PluginError, match="STARTTLS") as caught:
        EmailNotifier().notify(reminder(), settings(server, security="starttls"))
    assert caught.value.category == "SMTP error"
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


def test_the_host_counts_a_failed_send_against_the_plugin_but_not_a_refused_recipient(plugin_testbed, smtp):
    server = smtp(refused={"nobody@example.org"})
    plugin_testbed.load("email-notify")
    plugin_testbed.configure(REGION, {"host": server.host, "port": server.port, "security": "none",
                                      "from_address": SENDER})
    assert plugin_testbed.call("register_notifiers", scope=scope("em-south")) == []
    [result] = plugin_testbed.call("register_notifiers", scope=scope(REGION))
    [notifier] = result.value
    assert isinstance(notifier, Notifier) and notifier.key == "email"
    # As scheduling calls it: isolated, with the region's settings. A recipient the server
    # refuses is the data's fault: reported, never counted toward switching the plugin off.
    with pytest.raises(PluginCallFailed, match=r"email-notify.notify failed \(input not usable\)") as refused:
        plugin_testbed.host.invoke(result.plugin, scope(REGION), "notify",
                                   lambda s: notifier.notify(reminder(email="nobody@example.org"), s))
    assert not refused.value.counted and plugin_testbed.failures[("email-notify", REGION)] == 0
    plugin_testbed.host.invoke(result.plugin, scope(REGION), "notify", lambda s: notifier.notify(reminder(), s))
    assert [received.rcpt_tos for received in server.received()] == [("ana@example.org",)]
    # A server that is gone is the plugin's (its configuration's) failure; what callers read is its kind.
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        gone = unused.getsockname()[1]
    plugin_testbed.configure(REGION, {"host": server.host, "port": gone, "security": "none", "from_address": SENDER})
    with pytest.raises(PluginCallFailed, match=r"email-notify.notify failed \(connection failed\)$"):
        plugin_testbed.host.invoke(result.plugin, scope(REGION), "notify", lambda s: notifier.notify(reminder(), s))
    assert plugin_testbed.failures[("email-notify", REGION)] == 1


@pytest.mark.parametrize("text", HOSTILE)
def test_any_title_or_name_is_sent_on_one_header_line_and_injects_nothing(smtp, text):
    server = smtp()
    EmailNotifier().notify(reminder(title=text, name=text), settings(server))
    [received] = server.received()
    message = received.message
    assert received.rcpt_tos == ("ana@example.org",)
    assert message["Bcc"] is None and "\n" not in message["Subject"] and "\n" not in message["To"]
    assert message["To"].addresses[0].addr_spec == "ana@example.org"
    expected_name = " ".join(text.translate(
        {code: " " for code in [*range(32), *range(0x7F, 0xA0), 0x2028, 0x2029]}).split())
    # Every character survives (a long name is folded over lines, and the parser reading it back
    # may space the encoded words differently).
    assert "".join(message["To"].addresses[0].display_name.split()) == "".join(expected_name.split())
    assert calendar_summary(message) == expected_name


def test_a_hostile_title_never_fails_the_plugin(plugin_testbed, smtp):
    """Five reminders with a line break in the title used to switch email-notify off for the region."""
    server = smtp()
    plugin_testbed.load("email-notify")
    plugin_testbed.configure(REGION, {"host": server.host, "port": server.port, "security": "none",
                                      "from_address": SENDER})
    [result] = plugin_testbed.call("register_notifiers", scope=scope(REGION))
    [notifier] = result.value
    for index in range(6):
        plugin_testbed.host.invoke(result.plugin, scope(REGION), "notify",
                                   lambda s, index=index: notifier.notify(
                                       reminder(title=f"Algebra\r\nPLC {index}", name="Ana\nLópez"), s))
    assert len(server.received()) == 6
    assert plugin_testbed.failures[("email-notify", REGION)] == 0 and plugin_testbed.auto_disabled == []


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
    with pytest.raises(PluginError) as caught:
        EmailNotifier().notify(reminder(), settings(server, security="starttls", username="bay-reminders",
                                                    password="battery staple"))
    assert isinstance(caught.value.__cause__, smtplib.SMTPAuthenticationError)
    assert caught.value.category == "SMTP error"
    assert server.received() == []


@pytest.mark.usefixtures("no_allowed_networks")
@pytest.mark.parametrize("host", REFUSED_HOSTS)
def test_a_destination_that_is_not_public_is_refused_before_connecting(monkeypatch, resolve, host):
    resolve({"localhost.test": ["127.0.0.1"]})
    connections = []
    monkeypatch.setattr(socket.socket, "connect", lambda sock, address: connections.append(address))
    with pytest.raises(DestinationRefused):
        EmailNotifier().notify(reminder(), Settings(host=host, port=25, security="none", from_address=SENDER))
    assert connections == []


@pytest.mark.usefixtures("no_allowed_networks")
def test_a_name_that_resolves_to_loopback_after_it_was_saved_is_refused_when_connecting(smtp, resolve):
    """DNS rebinding: checked when saved, and again (with the connection made to the checked address) at each send."""
    server = smtp()
    names = {"mail.bay.example.org": [PUBLIC_ADDRESS]}
    resolve(names)
    configured = Settings.model_validate({"host": "mail.bay.example.org", "port": server.port, "security": "none",
                                          "from_address": SENDER}, context={"copnet.saving": True})
    names["mail.bay.example.org"] = ["127.0.0.1"]
    with pytest.raises(DestinationRefused):
        EmailNotifier().notify(reminder(), configured)
    assert server.received() == []


def test_an_allowed_network_lets_a_local_relay_through(smtp, resolve):
    server = smtp()
    resolve({"relay.bay.internal": ["127.0.0.1"]})
    EmailNotifier().notify(reminder(), Settings(host="relay.bay.internal", port=server.port, security="none",
                                                from_address=SENDER))
    assert len(server.received()) == 1

