"""webhook-notify: payload formats, headers, retries with back-off against a local HTTP server,
destinations the instance does not allow, what a failure tells, settings (the signing secret
bound to the URL).

The local receiver listens on loopback, which an instance refuses unless allowed: these tests
allow it (COPNET_PLUGIN_ALLOWED_NETWORKS), except those proving the refusal.

This file: what talks to a real local server (the pure checks are in tests/unit).
"""

import hashlib
import hmac
import http.server
import json
import socket
import ssl
import threading

import pytest
from copnet import DestinationRefused, Notifier
from copnet.kernel.plugin_host import PluginCallFailed
from copnet.testing import event_view, scope
from copnet_plugins import webhook_notify
from copnet_plugins.webhook_notify import Settings, WebhookDeliveryError

from tests.support.destinations import (  # noqa: F401
    PUBLIC_ADDRESS,
    allow_loopback,
    no_allowed_networks,
    resolve,
)
from tests.support.smtp import CERTIFICATE, server_tls_context

from tests.support.webhook_notify import (REGION, CREATED, REGISTRATION, WHEN, settings,
                                          REFUSED_URLS, testbed, REMINDER, REMINDER_DATA, reminder)  # noqa: F401 (testbed is a fixture)

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("allow_loopback")]


class Receiver:
    """A local webhook receiver: answers with the next status of `statuses` (then 200)."""

    def __init__(self, statuses=(), tls=False):
        self.statuses = list(statuses)
        self.requests: list[tuple[dict, bytes]] = []
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 (http.server's name)
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                receiver.requests.append((dict(self.headers), body))
                status = receiver.statuses.pop(0) if receiver.statuses else 200
                self.send_response(status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}/hooks/copnet"
        if tls:
            self.server.socket = server_tls_context().wrap_socket(self.server.socket, server_side=True)
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.01},
                                       daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    made = []

    def make(statuses=(), tls=False):
        made.append(Receiver(statuses, tls))
        return made[-1]

    yield make
    for item in made:
        item.close()


class FakeClock:
    """Back-off without waiting: `sleep` moves the clock."""

    def __init__(self):
        self.now = 0.0
        self.sleeps: list[float] = []

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.sleeps.append(seconds)
        self.now += seconds


def registration_event(type=CREATED, data=REGISTRATION, **kwargs):  # noqa: A002
    return event_view(type, data=data, subject="reg-1", scope=scope(REGION), time=WHEN, id="ev-123", **kwargs)


def test_json_payload_carries_the_event(receiver):
    server = receiver()
    assert webhook_notify.deliver(registration_event(), settings(server.url)) == 1
    [(headers, body)] = server.requests
    payload = json.loads(body)
    assert payload == {"specversion": "1.0", "type": CREATED, "id": "ev-123", "source": "copnet/membership",
                       "time": "2026-09-01T16:30:00+00:00", "subject": "reg-1", "scope": ["state", REGION],
                       "data": REGISTRATION}
    assert headers["X-Copnet-Event-Id"] == "ev-123"
    assert headers["X-Copnet-Event-Type"] == CREATED
    assert headers["Content-Type"].startswith("application/json")
    assert "X-Copnet-Signature" not in headers


@pytest.mark.parametrize(("type_", "status", "text"), [
    (CREATED, "REGISTRATION_STATUS_CONFIRMED", "wh-teacher-1 signed up for wh-plc-6-8 and has a seat."),
    (CREATED, "REGISTRATION_STATUS_WAITLISTED", "wh-teacher-1 joined the waiting list for wh-plc-6-8 (position 2)."),
    ("copnet.membership.registration.promoted", "REGISTRATION_STATUS_CONFIRMED",
     "wh-teacher-1 moved from the waiting list to a seat in wh-plc-6-8."),
    ("copnet.membership.registration.cancelled", "REGISTRATION_STATUS_CANCELLED",
     "wh-teacher-1 cancelled their registration for wh-plc-6-8."),
])
def test_slack_format_is_one_text_message(receiver, type_, status, text):
    server = receiver()
    data = {"registration": dict(REGISTRATION["registration"], status=status, waitlist_position=2)}
    webhook_notify.deliver(registration_event(type_, data), settings(server.url, format="slack"))
    [(_, body)] = server.requests
    assert json.loads(body) == {"text": text}


def test_a_signing_secret_signs_the_body(receiver):
    server = receiver()
    webhook_notify.deliver(registration_event(), settings(server.url, signing_secret="s3cret-for-hmac"))
    [(headers, body)] = server.requests
    expected = hmac.new(b"s3cret-for-hmac", body, hashlib.sha256).hexdigest()
    assert headers["X-Copnet-Signature"] == f"sha256={expected}"


def test_5xx_and_429_are_retried_with_doubling_back_off(receiver):
    server = receiver([503, 429])
    clock = FakeClock()
    attempts = webhook_notify.deliver(registration_event(), settings(server.url, backoff_seconds=0.2),
                                      clock=clock, sleep=clock.sleep)
    assert attempts == 3
    assert len(server.requests) == 3
    assert {headers["X-Copnet-Event-Id"] for headers, _ in server.requests} == {"ev-123"}
    assert len(clock.sleeps) == 2
    assert 0.2 <= clock.sleeps[0] <= 0.22 and 0.4 <= clock.sleeps[1] <= 0.44


def test_it_gives_up_after_max_attempts(receiver):
    server = receiver([500, 500, 500, 500])
    clock = FakeClock()
    with pytest.raises(WebhookDeliveryError, match="after 3 attempt"):
        webhook_notify.deliver(registration_event(), settings(server.url), clock=clock, sleep=clock.sleep)
    assert len(server.requests) == 3


def test_back_off_never_runs_past_the_total_time(receiver):
    server = receiver([500] * 6)
    clock = FakeClock()
    with pytest.raises(WebhookDeliveryError, match="after 2 attempt"):
        webhook_notify.deliver(registration_event(),
                               settings(server.url, max_attempts=6, backoff_seconds=0.5, total_timeout_seconds=1.2,
                                        attempt_timeout_seconds=1.0),
                               clock=clock, sleep=clock.sleep)
    assert len(server.requests) == 2
    assert sum(clock.sleeps) <= 1.2


def test_a_4xx_refusal_is_not_retried(receiver):
    server = receiver([404])
    with pytest.raises(WebhookDeliveryError, match="HTTP 404") as caught:
        webhook_notify.deliver(registration_event(), settings(server.url))
    assert caught.value.category == "HTTP error"
    assert len(server.requests) == 1


def test_a_redirect_is_not_followed(receiver):
    server = receiver([307])
    with pytest.raises(WebhookDeliveryError, match="HTTP 307"):
        webhook_notify.deliver(registration_event(), settings(server.url))
    assert len(server.requests) == 1


def test_a_network_error_is_retried_then_reported():
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
    clock = FakeClock()
    with pytest.raises(WebhookDeliveryError, match="after 2 attempt") as caught:
        webhook_notify.deliver(registration_event(), settings(f"http://127.0.0.1:{port}/x", max_attempts=2),
                               clock=clock, sleep=clock.sleep)
    assert caught.value.category == "connection failed"
    assert len(clock.sleeps) == 1


def test_a_slow_receiver_is_bounded_by_the_attempt_timeout():
    with socket.socket() as listener:  # accepts connections, never answers
        listener.bind(("127.0.0.1", 0))
        listener.listen(4)
        url = f"http://127.0.0.1:{listener.getsockname()[1]}/slow"
        with pytest.raises(WebhookDeliveryError, match="after 1 attempt") as caught:
            webhook_notify.deliver(registration_event(),
                                   settings(url, max_attempts=1, attempt_timeout_seconds=0.2,
                                            total_timeout_seconds=0.3))
        assert caught.value.category == "timed out"


@pytest.mark.usefixtures("no_allowed_networks")
@pytest.mark.parametrize("url", REFUSED_URLS)
def test_a_destination_that_is_not_public_is_refused_before_connecting(monkeypatch, resolve, url):
    resolve({"metadata.test": ["169.254.169.254"], "mixed.test": [PUBLIC_ADDRESS, "10.0.0.1"]})
    connections = []
    monkeypatch.setattr(socket.socket, "connect", lambda sock, address: connections.append(address))
    clock = FakeClock()
    with pytest.raises(DestinationRefused) as caught:
        webhook_notify.deliver(registration_event(), settings(url), clock=clock, sleep=clock.sleep)
    assert caught.value.category == "destination refused" and str(caught.value).startswith("destination refused")
    assert connections == [] and clock.sleeps == []     # not retried either


@pytest.mark.usefixtures("no_allowed_networks")
def test_a_name_that_resolves_to_loopback_after_it_was_saved_is_refused_when_connecting(receiver, resolve):
    """DNS rebinding: checked when saved, and again (connecting to the checked address) at each attempt."""
    server = receiver()
    names = {"hooks.bay.example.org": [PUBLIC_ADDRESS]}
    resolve(names)
    configured = Settings.model_validate({"url": f"http://hooks.bay.example.org:{server.port}/x"},
                                         context={"copnet.saving": True})
    names["hooks.bay.example.org"] = ["127.0.0.1"]
    with pytest.raises(DestinationRefused):
        webhook_notify.deliver(registration_event(), configured)
    assert server.requests == []


@pytest.mark.usefixtures("no_allowed_networks")
def test_proxies_from_the_environment_are_not_used(monkeypatch, resolve):
    monkeypatch.setenv("http_proxy", "http://hooks.bay.example.org:3128")
    resolve({"hooks.bay.example.org": [PUBLIC_ADDRESS]})
    connections = []
    monkeypatch.setattr(socket.socket, "connect", lambda sock, address: connections.append(address))
    with pytest.raises(DestinationRefused):
        webhook_notify.deliver(registration_event(), settings("http://127.0.0.1:9/x"))
    assert connections == []


def test_https_checks_the_certificate_against_the_host_name_not_the_address(receiver, resolve, monkeypatch):
    monkeypatch.setenv("SSL_CERT_FILE", str(CERTIFICATE))
    server = receiver(tls=True)
    # Both names resolve to the receiver's address; its certificate is for `localhost` only.
    resolve({"localhost": ["127.0.0.1"], "hooks.bay.test": ["127.0.0.1"]})
    assert webhook_notify.deliver(registration_event(), settings(f"https://localhost:{server.port}/x")) == 1
    assert server.requests[0][0]["Host"] == f"localhost:{server.port}"
    with pytest.raises(WebhookDeliveryError, match="SSLCertVerificationError") as caught:
        webhook_notify.deliver(registration_event(), settings(f"https://hooks.bay.test:{server.port}/x",
                                                              max_attempts=1))
    assert caught.value.category == "connection failed"
    assert len(server.requests) == 1
    assert ssl.HAS_SNI


def test_only_the_selected_events_are_posted_and_only_where_enabled(testbed, receiver):
    server = receiver()
    testbed.configure(REGION, {"url": server.url, "events": ["copnet.membership.registration.promoted"]})
    assert testbed.deliver(registration_event(CREATED)) == ["webhook-notify"]
    assert server.requests == []  # delivered to the plugin, not selected by its settings
    testbed.deliver(registration_event("copnet.membership.registration.promoted"))
    assert len(server.requests) == 1
    elsewhere = event_view("copnet.membership.registration.promoted", data=REGISTRATION, scope=scope("wh-south"))
    assert testbed.deliver(elsewhere) == []
    assert len(server.requests) == 1


def test_a_delivery_that_fails_is_counted_against_the_plugin(testbed, receiver):
    server = receiver([400])
    testbed.configure(REGION, {"url": server.url})
    testbed.deliver(registration_event())
    assert testbed.failures[("webhook-notify", REGION)] == 1


def test_switched_off_for_failing_the_reason_tells_the_kind_of_failure_only(testbed, receiver):
    server = receiver([403] * 5)
    testbed.configure(REGION, {"url": server.url})
    for _ in range(5):
        testbed.deliver(registration_event())
    [(plugin, organization, reason)] = testbed.auto_disabled
    assert (plugin, organization) == ("webhook-notify", REGION)
    assert reason == "react_to_event failed 5 times in a row (HTTP error)"


def test_the_notifier_posts_a_reminder_as_json_signed(receiver):
    server = receiver()
    notifier = webhook_notify.WebhookNotifier()
    notifier.notify(reminder(), settings(server.url, events=[REMINDER], signing_secret="s3cret-for-hmac"))
    [(headers, body)] = server.requests
    assert json.loads(body) == {
        "type": REMINDER, "kind": "session.reminder", "id": "ev-77",
        "person": {"id": "wh-teacher-1", "name": "Ana Lopez", "email": "ana@example.org"},
        "subject": "Reminder: Algebra PLC — Tue Oct 13, 4:00 PM PDT",
        "body": "Algebra PLC.\nWhen: Tue Oct 13, 4:00 – 7:00 PM PDT", "link": "https://meet.example.org/algebra",
        "data": REMINDER_DATA}
    assert (headers["X-Copnet-Event-Id"], headers["X-Copnet-Event-Type"]) == ("ev-77", REMINDER)
    expected = hmac.new(b"s3cret-for-hmac", body, hashlib.sha256).hexdigest()
    assert headers["X-Copnet-Signature"] == f"sha256={expected}"


def test_the_notifier_in_slack_format_names_the_person_not_their_email(receiver):
    server = receiver()
    webhook_notify.WebhookNotifier().notify(reminder(), settings(server.url, format="slack",
                                                                 events=["copnet.scheduling.session.*"]))
    [(_, body)] = server.requests
    assert json.loads(body) == {"text": "For Ana Lopez: Reminder: Algebra PLC — Tue Oct 13, 4:00 PM PDT\n\n"
                                        "Algebra PLC.\nWhen: Tue Oct 13, 4:00 – 7:00 PM PDT"}


def test_reminders_are_posted_only_when_the_events_select_them(receiver):
    server = receiver()
    webhook_notify.WebhookNotifier().notify(reminder(), settings(server.url))   # the default: registrations
    assert server.requests == []


def test_the_notifier_retries_with_the_same_back_off_and_then_reports(receiver):
    server = receiver([503, 500, 500])
    clock = FakeClock()
    with pytest.raises(WebhookDeliveryError, match="notification ev-77 not delivered after 3 attempt"):
        webhook_notify.WebhookNotifier(clock=clock, sleep=clock.sleep).notify(
            reminder(), settings(server.url, events=[REMINDER]))
    assert len(server.requests) == 3
    assert {headers["X-Copnet-Event-Id"] for headers, _ in server.requests} == {"ev-77"}


def test_a_reminder_event_is_never_posted_raw_by_react_to_event(testbed, receiver):
    server = receiver()
    testbed.configure(REGION, {"url": server.url, "events": ["copnet.scheduling.session.*"]})
    testbed.deliver(event_view(REMINDER, data=REMINDER_DATA, subject="s-1:20261013T230000Z", scope=scope(REGION)))
    assert server.requests == []   # the notifier posts it, once per person, with names


def test_register_notifiers_gives_the_webhook_notifier_where_enabled(testbed, receiver):
    server = receiver([404])
    testbed.configure(REGION, {"url": server.url, "events": [REMINDER]})
    assert "register_notifiers" in testbed.describe()[0].hooks
    assert testbed.call("register_notifiers", scope=scope("wh-south")) == []
    [result] = testbed.call("register_notifiers", scope=scope(REGION))
    [notifier] = result.value
    assert isinstance(notifier, Notifier) and notifier.key == "webhook"
    # As scheduling calls it: isolated, with the region's settings; a refusal is the plugin's failure,
    # and the caller learns its kind only.
    with pytest.raises(PluginCallFailed, match=r"^webhook-notify.notify failed \(HTTP error\)$"):
        testbed.host.invoke(result.plugin, scope(REGION), "notify", lambda s: notifier.notify(reminder(), s))
    assert testbed.failures[("webhook-notify", REGION)] == 1
    testbed.host.invoke(result.plugin, scope(REGION), "notify", lambda s: notifier.notify(reminder(id="ev-78"), s))
    assert [headers["X-Copnet-Event-Id"] for headers, _ in server.requests] == ["ev-77", "ev-78"]

