"""webhook-notify: what needs no server — payload text, subscriptions, settings (the signing secret
bound to the URL, destinations refused when saved). Deliveries to a local HTTP receiver are in
tests/integration/test_plugin_webhook_notify.py."""


import pytest
from copnet.kernel.errors import InvalidArgument
from copnet.testing import event_view
from copnet_plugins import webhook_notify

from tests.support.destinations import (  # noqa: F401
    PUBLIC_ADDRESS,
    allow_loopback,
    no_allowed_networks,
    resolve,
)

from tests.support.webhook_notify import REGION, settings, testbed, STORED  # noqa: F401 (testbed is a fixture)

pytestmark = pytest.mark.usefixtures("allow_loopback")


def test_slack_text_for_a_session_and_for_an_unknown_event():
    session = event_view("copnet.scheduling.session.scheduled", id="ev-9", subject="s-1",
                         data={"session": {"title": "Equity workshop", "community_id": "wh-plc",
                                           "start_time": "2026-10-01T16:00:00Z"}})
    assert webhook_notify.text_message(session) == ("Session 'Equity workshop' in wh-plc scheduled for "
                                                    "2026-10-01T16:00:00Z.")
    other = event_view("copnet.scheduling.session.cancelled", id="ev-10", subject="s-2", data={})
    assert webhook_notify.text_message(other) == "copnet.scheduling.session.cancelled about s-2 (event ev-10)."


def test_it_subscribes_to_registrations_and_sessions(testbed):
    assert testbed.subscriptions() == {"webhook-notify": [
        "copnet.membership.registration.created", "copnet.membership.registration.promoted",
        "copnet.membership.registration.cancelled", "copnet.scheduling.session.*"]}


@pytest.mark.parametrize(("settings_", "field"), [
    ({}, "settings.url"),
    ({"url": "ftp://example.org/hook"}, "settings.url"),
    ({"url": "file:///etc/passwd"}, "settings.url"),
    ({"url": "https://"}, "settings.url"),
    ({"url": "https://hooks.example.org/x", "format": "xml"}, "settings.format"),
    ({"url": "https://hooks.example.org/x", "events": []}, "settings.events"),
    ({"url": "https://hooks.example.org/x", "events": ["registration.*"]}, "settings.events"),
    ({"url": "https://hooks.example.org/x", "max_attempts": 0}, "settings.max_attempts"),
    ({"url": "https://hooks.example.org/x", "attempt_timeout_seconds": 5, "total_timeout_seconds": 1}, "settings"),
    ({"url": "https://hooks.example.org:99999/x"}, "settings.url"),
    ({"url": "http://127.0.0.1:8080/x"}, "settings.url"),
    ({"url": "http://169.254.169.254/latest/meta-data/"}, "settings.url"),
    ({"url": "http://10.0.0.1/x"}, "settings.url"),
    ({"url": "http://[::1]/x"}, "settings.url"),
    ({"url": "https://hooks.internal.example.org/x"}, "settings.url"),
    ({"url": "https://no-such-host.invalid/x"}, "settings.url"),
])
@pytest.mark.usefixtures("no_allowed_networks")
def test_invalid_settings_are_refused_naming_the_field(testbed, settings_, field):
    with pytest.raises(InvalidArgument) as caught:
        testbed.configure(REGION, settings_)
    assert any(v.field.startswith(field) for v in caught.value.fields), caught.value.fields


def test_url_and_signing_secret_are_secret_fields(testbed):
    [description] = testbed.describe()
    assert set(description.secret_fields) == {"url", "signing_secret"}
    assert all(prop.get("description") for prop in description.settings_schema["properties"].values())
    assert description.settings_schema["properties"]["signing_secret"]["x-copnet-bound-to"] == ["url"]


@pytest.mark.usefixtures("no_allowed_networks")
def test_a_refused_url_is_not_quoted_back(testbed):
    secret_url = "http://10.0.0.1/hooks/T000/B000/XXXXsecretXXXX"
    with pytest.raises(InvalidArgument) as caught:
        testbed.configure(REGION, {"url": secret_url})
    assert "secret" not in caught.value.message and "10.0.0.1" not in caught.value.message


@pytest.mark.parametrize("kept", [None, {"set": True}])
def test_a_new_url_without_the_signing_secret_again_is_refused(testbed, kept):
    sent = {"url": "https://hooks2.example.org/b"} | ({"signing_secret": kept} if kept else {})
    document = {**sent, "signing_secret": STORED["signing_secret"]}
    with pytest.raises(InvalidArgument) as caught:
        testbed.host.validate_settings("webhook-notify", document, previous=STORED, sent=sent)
    assert caught.value.reason == "SECRET_REQUIRED"
    assert [violation.field for violation in caught.value.fields] == ["settings.signing_secret"]


def test_the_signing_secret_is_kept_for_the_same_url_and_taken_again_for_a_new_one(testbed):
    same = {"url": {"set": True}, "format": "slack"}
    kept = testbed.host.validate_settings("webhook-notify", {**same, **STORED}, previous=STORED, sent=same)
    assert kept.signing_secret.get_secret_value() == "s3cret-for-hmac" and kept.format == "slack"
    moved = {"url": "https://hooks2.example.org/b", "signing_secret": "s3cret-for-hmac"}
    again = testbed.host.validate_settings("webhook-notify", moved, previous=STORED, sent=moved)
    assert again.url.get_secret_value() == "https://hooks2.example.org/b"

