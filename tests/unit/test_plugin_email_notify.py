"""email-notify: what needs no server — header text, settings (the password bound to the server,
destinations refused when saved). Messages sent to a local SMTP server are in
tests/integration/test_plugin_email_notify.py."""

from __future__ import annotations


import pytest
from copnet import NOTIFY_BUDGET_SECONDS
from copnet.kernel.errors import InvalidArgument
from copnet_plugins.email_notify import body_text, header_text

from tests.support.destinations import (  # noqa: F401
    PUBLIC_ADDRESS,
    allow_loopback,
    no_allowed_networks,
    resolve,
)

from tests.support.email_notify import REGION, VALID, STORED

pytestmark = pytest.mark.usefixtures("allow_loopback")


@pytest.fixture
def testbed(plugin_testbed, resolve):
    resolve({"smtp.example.org": [PUBLIC_ADDRESS], "smtp2.example.org": [PUBLIC_ADDRESS],
             "smtp.internal.example.org": ["10.1.2.3"]})
    plugin_testbed.load("email-notify")
    return plugin_testbed


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

