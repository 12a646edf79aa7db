"""email-notify: what needs no server — header text, settings (the password bound to the server,
destinations refused when saved). Messages sent to a local SMTP server are in
tests/integration/test_plugin_email_notify.py."""

from __future__ import annotations

import datetime as dt

import pytest
from copnet import NOTIFY_BUDGET_SECONDS, Notification, NotificationPerson
from copnet.events.v1 import events_pb2
from copnet.kernel.errors import InvalidArgument
from copnet.kernel.events import CloudEvent
from copnet.kernel.timestamps import timestamp
from copnet.scheduling.notification_text import reminder_text
from copnet.scheduling.v1 import scheduling_pb2
from copnet.testing import scope
from copnet_plugins.email_notify import body_text, header_text

from tests.support.destinations import (  # noqa: F401
    PUBLIC_ADDRESS,
    allow_loopback,
    no_allowed_networks,
    resolve,
)

pytestmark = pytest.mark.usefixtures("allow_loopback")
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


@pytest.fixture
def testbed(plugin_testbed, resolve):
    resolve({"smtp.example.org": [PUBLIC_ADDRESS], "smtp2.example.org": [PUBLIC_ADDRESS],
             "smtp.internal.example.org": ["10.1.2.3"]})
    plugin_testbed.load("email-notify")
    return plugin_testbed


VALID = {"host": "smtp.example.org", "from_address": SENDER}
STORED = {**VALID, "port": 587, "username": "bay-reminders", "password": "correct horse"}


def test_header_and_body_text_replace_what_cannot_be_encoded():
    assert header_text("lone \ud800 surrogate\r\n  next") == "lone \ufffd surrogate next"
    assert body_text("a\x00b\r\nc\td\udfff") == "ab\r\nc\td\ufffd"


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
    ({"host": "169.254.169.254"}, "settings.host"),
    ({"host": "10.0.0.1"}, "settings.host"),
    ({"host": "::1"}, "settings.host"),
    ({"host": "smtp.internal.example.org"}, "settings.host"),
    ({"host": "no-such-host.invalid"}, "settings.host"),
])
@pytest.mark.usefixtures("no_allowed_networks")
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


@pytest.mark.usefixtures("no_allowed_networks")
def test_a_refused_host_says_nothing_of_what_it_resolves_to(testbed):
    messages = set()
    for host in ("smtp.internal.example.org", "no-such-host.invalid", "127.0.0.1"):
        with pytest.raises(InvalidArgument) as caught:
            testbed.configure(REGION, {**VALID, "host": host})
        [violation] = caught.value.fields
        messages.add(violation.description)
    [message] = messages     # the same for a private name, a name that does not resolve, and loopback
    assert "destination refused" in message and "10.1.2.3" not in message


@pytest.mark.parametrize("change", [{"host": "smtp2.example.org"}, {"port": 465, "security": "tls"},
                                    {"username": "eve"}])
@pytest.mark.parametrize("password", [None, {"set": True}])
def test_changing_the_server_without_the_password_again_is_refused(testbed, change, password):
    sent = {**STORED, **change, "password": password}
    if password is None:
        del sent["password"]
    document = {**sent, "password": STORED["password"]}     # what the plugins service validates: the kept secret
    with pytest.raises(InvalidArgument) as caught:
        testbed.host.validate_settings("email-notify", document, previous=STORED, sent=sent)
    assert caught.value.reason == "SECRET_REQUIRED"
    assert [violation.field for violation in caught.value.fields] == ["settings.password"]
    assert "correct horse" not in caught.value.message


@pytest.mark.parametrize("change", [{"host": "smtp2.example.org"}, {"username": "eve"}])
def test_changing_the_server_with_the_password_given_again_is_accepted(testbed, change):
    sent = {**STORED, **change, "password": "correct horse"}
    validated = testbed.host.validate_settings("email-notify", sent, previous=STORED, sent=sent)
    assert validated.password.get_secret_value() == "correct horse"


def test_the_password_is_kept_when_the_server_stays_the_same(testbed):
    sent = {**STORED, "host": " smtp.example.org ", "from_name": "Bay Area CoPs", "password": {"set": True}}
    document = {**sent, "password": STORED["password"]}
    validated = testbed.host.validate_settings("email-notify", document, previous=STORED, sent=sent)
    assert validated.password.get_secret_value() == "correct horse" and validated.from_name == "Bay Area CoPs"


def test_the_schema_names_what_the_password_is_bound_to(testbed):
    [description] = testbed.describe()
    assert description.settings_schema["properties"]["password"]["x-copnet-bound-to"] == ["host", "port", "username"]

