"""Webhook notifications: selected events posted as JSON to a URL (Slack and Teams can read them).

When someone signs up, is promoted from a waiting list or cancels (and, once scheduling emits
them, when sessions are scheduled), this plugin posts the event to the region's webhook: either
copnet's plain JSON (event type, id, time, subject, data) or a `{"text": ...}` message that a
Slack or Microsoft Teams incoming webhook shows as is. Delivery happens in the plugins service's
own consumer, never inside a request; failed attempts are retried with exponential back-off
within a bounded time, and every request carries `X-Copnet-Event-Id` so a receiver can drop
repeats (delivery is at least once).

It is also a notifier (`register_notifiers`): session reminders, one per person, ready to read
(subject, body, the person's name and email), posted the same way when `events` selects
`copnet.scheduling.session.reminder`.

The URL's host must be public, or in the instance's COPNET_PLUGIN_ALLOWED_NETWORKS: checked when
the settings are saved and at every attempt, which connects to the address it checked (HTTPS
still verifies the certificate against the host name); proxies from the environment are not
used, and redirects are not followed. The signing secret is bound to the URL: a new URL needs
it again. What a lead can read of a failure is its kind ("HTTP error", "connection failed",
"timed out", "destination refused"); statuses and error texts go to the log only.
"""

from __future__ import annotations

import fnmatch
import hashlib
import hmac
import http.client
import json
import logging
import random
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Mapping
from typing import Any, Literal

from pydantic import Field, SecretStr, ValidationInfo, field_validator, model_validator

from copnet import (DestinationRefused, EventView, Notification, PluginError, PluginSettings, check_destination,
                    connect_to_destination, hookimpl, saving, secret_bound_to)

COPNET_HOOKSPEC_VERSION = 2
log = logging.getLogger(__name__)

# What this plugin can be sent; `Settings.events` picks among them.
SUBSCRIBED = [
    "copnet.membership.registration.created",
    "copnet.membership.registration.promoted",
    "copnet.membership.registration.cancelled",
    "copnet.scheduling.session.*",
]
DEFAULT_EVENTS = ["copnet.membership.registration.created", "copnet.membership.registration.promoted",
                  "copnet.membership.registration.cancelled"]
# Notifications by kind, and the event type `Settings.events` selects them by. These events are
# posted per person by the notifier, never as raw events by `react_to_event`.
NOTIFICATION_EVENT_TYPES = {"session.reminder": "copnet.scheduling.session.reminder"}
USER_AGENT = "copnet-webhook-notify/2"
# Statuses worth another try: the receiver was busy or broken, not the request.
RETRY_STATUSES = frozenset({408, 425, 429, 500, 502, 503, 504})


class Settings(PluginSettings):
    """Where to post, what, and how hard to try."""

    url: SecretStr = Field(
        description="The webhook URL (http or https). Write-only: the API shows only whether it is set, since "
                    "Slack and Teams URLs carry their own credential.")
    format: Literal["json", "slack"] = Field(
        "json", description="`json`: copnet's event as JSON (type, id, time, subject, data, scope). `slack`: "
                            "`{\"text\": ...}`, a one-line message Slack and Teams incoming webhooks show as is.")
    events: list[str] = Field(
        default_factory=lambda: list(DEFAULT_EVENTS), min_length=1, max_length=50,
        description="Which events to post, as patterns (fnmatch: `*` matches anything), e.g. "
                    "`copnet.membership.registration.*`. Only events this plugin subscribes to arrive at all: "
                    "registrations created, promoted and cancelled, and `copnet.scheduling.session.*`. "
                    "`copnet.scheduling.session.reminder` posts each person's reminder as a notification "
                    "(subject, body, name and email) instead of the raw event.")
    signing_secret: SecretStr | None = Field(
        None, description="When set, each request carries `X-Copnet-Signature: sha256=<hex>`, the HMAC-SHA256 "
                          "of the body with this secret, so the receiver can check it came from copnet. "
                          "Write-only; a new `url` needs it again.",
        json_schema_extra=secret_bound_to("url"))
    max_attempts: int = Field(3, ge=1, le=6, description="Attempts per event, the first included.")
    attempt_timeout_seconds: float = Field(
        1.0, gt=0, le=30, description="How long one attempt may wait for the receiver.")
    total_timeout_seconds: float = Field(
        1.8, gt=0, le=60,
        description="The most one event may take, back-off included; keep it below the instance's plugin hook "
                    "deadline (COPNET_PLUGIN_HOOK_TIMEOUT_SECONDS, 2 s by default).")
    backoff_seconds: float = Field(
        0.2, ge=0, le=10, description="The wait before the second attempt; it doubles for each next one "
                                      "(with up to 10% jitter).")

    @field_validator("url")
    @classmethod
    def _http_url(cls, value: SecretStr, info: ValidationInfo) -> SecretStr:
        try:
            parsed = urllib.parse.urlsplit(value.get_secret_value().strip())
            parsed.port   # noqa: B018 (raises for a port that is not a number)
        except ValueError:
            raise ValueError("is not a URL") from None
        if parsed.scheme not in ("http", "https"):
            raise ValueError("must be an http:// or https:// URL")
        if not parsed.hostname:
            raise ValueError("must name a host")
        if saving(info):
            check_destination(parsed.hostname)
        return SecretStr(value.get_secret_value().strip())

    @field_validator("events")
    @classmethod
    def _patterns(cls, patterns: list[str]) -> list[str]:
        for index, pattern in enumerate(patterns):
            if not pattern.startswith("copnet.") or any(ch.isspace() for ch in pattern):
                raise ValueError(f"[{index}] {pattern!r} is not an event type pattern like "
                                 f"'copnet.membership.registration.*'")
        return list(dict.fromkeys(patterns))

    @model_validator(mode="after")
    def _budget(self) -> "Settings":
        if self.attempt_timeout_seconds > self.total_timeout_seconds:
            raise ValueError("attempt_timeout_seconds must not exceed total_timeout_seconds")
        return self


class WebhookDeliveryError(PluginError):
    """The receiver did not accept the event within the attempts and time allowed; `category`
    says how ("HTTP error", "connection failed", "timed out") without the receiver's answer."""


def wanted(event_type: str, patterns) -> bool:
    return any(fnmatch.fnmatchcase(event_type, pattern) for pattern in patterns)


# -- payloads -----------------------------------------------------------------------------------
def _label(value: Any) -> str:
    """`REGISTRATION_STATUS_WAITLISTED` -> `waitlisted` (protobuf JSON spells enums by name)."""
    text = str(value or "")
    for prefix in ("REGISTRATION_STATUS_", "SESSION_STATUS_", "SESSION_KIND_"):
        if text.startswith(prefix):
            return text.removeprefix(prefix).lower()
    return text.lower()


def json_payload(event: EventView) -> dict[str, Any]:
    return {
        "specversion": "1.0",
        "type": event.type,
        "id": event.id,
        "source": event.source,
        "time": event.time.isoformat(),
        "subject": event.subject,
        "scope": list(event.scope),
        "data": json.loads(json.dumps(dict(event.data), default=str)),
    }


def text_message(event: EventView) -> str:
    """One line a person reads in a chat channel."""
    data = event.data or {}
    registration = data.get("registration")
    if isinstance(registration, Mapping):
        person = registration.get("person_id") or "someone"
        community = registration.get("community_id") or "a community"
        status = _label(registration.get("status"))
        if event.type.endswith(".created"):
            if status == "waitlisted":
                where = registration.get("waitlist_position")
                place = f" (position {where})" if where else ""
                return f"{person} joined the waiting list for {community}{place}."
            return f"{person} signed up for {community} and has a seat."
        if event.type.endswith(".promoted"):
            return f"{person} moved from the waiting list to a seat in {community}."
        if event.type.endswith(".cancelled"):
            return f"{person} cancelled their registration for {community}."
    session = data.get("session")
    if isinstance(session, Mapping):
        title = session.get("title") or session.get("id") or event.subject
        community = session.get("community_id") or "a community"
        when = session.get("start_time") or session.get("starts_at") or ""
        verb = event.type.rsplit(".", 1)[-1].replace("_", " ")
        return f"Session {title!r} in {community} {verb}" + (f" for {when}." if when else ".")
    return f"{event.type} about {event.subject or 'copnet'} (event {event.id})."


def request_body(event: EventView, format: str) -> bytes:
    payload = {"text": text_message(event)} if format == "slack" else json_payload(event)
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def signed_headers(event_id: str, event_type: str, body: bytes, settings: Settings) -> dict[str, str]:
    headers = {"Content-Type": "application/json; charset=utf-8", "User-Agent": USER_AGENT,
               "X-Copnet-Event-Id": event_id, "X-Copnet-Event-Type": event_type}
    if settings.signing_secret is not None:
        digest = hmac.new(settings.signing_secret.get_secret_value().encode(), body, hashlib.sha256).hexdigest()
        headers["X-Copnet-Signature"] = f"sha256={digest}"
    return headers


# -- delivery -----------------------------------------------------------------------------------
class _Retryable(Exception):
    def __init__(self, message: str, category: str):
        super().__init__(message)
        self.category = category


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """A redirect would turn the POST into a GET without its body: treat it as a refusal."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


def _checked_connection(address: tuple[str, int], timeout: Any = None, source_address: Any = None):
    """http.client's `_create_connection`, to an address `copnet.connect_to_destination` checked."""
    seconds = timeout if isinstance(timeout, int | float) else None   # not socket's "default" sentinel
    return connect_to_destination(address[0], address[1], seconds, source_address)


class _CheckedHTTPConnection(http.client.HTTPConnection):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._create_connection = _checked_connection


class _CheckedHTTPSConnection(http.client.HTTPSConnection):
    """TLS over the checked connection, for the URL's host name (SNI, certificate, Host)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._create_connection = _checked_connection


class _CheckedHTTPHandler(urllib.request.HTTPHandler):
    def http_open(self, req):
        return self.do_open(_CheckedHTTPConnection, req)


class _CheckedHTTPSHandler(urllib.request.HTTPSHandler):
    def https_open(self, req):
        return self.do_open(_CheckedHTTPSConnection, req, context=self._context)


# No proxies from the environment (the destination checks would judge the proxy, not the
# receiver), no redirects, and connections only to checked addresses.
_opener = urllib.request.build_opener(urllib.request.ProxyHandler({}), _NoRedirects, _CheckedHTTPHandler,
                                      _CheckedHTTPSHandler)


def _attempt(url: str, body: bytes, headers: dict[str, str], timeout: float) -> int:
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with _opener.open(request, timeout=timeout) as response:  # noqa: S310 (scheme checked)
            response.read(65536)
            return response.status
    except urllib.error.HTTPError as exc:
        if exc.code in RETRY_STATUSES:
            raise _Retryable(f"HTTP {exc.code}", "HTTP error") from exc
        raise WebhookDeliveryError(f"the receiver refused the event: HTTP {exc.code}", category="HTTP error") from exc
    except DestinationRefused:
        raise
    except (urllib.error.URLError, TimeoutError, ConnectionError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        if isinstance(reason, DestinationRefused):
            raise reason from None
        category = "timed out" if isinstance(reason, TimeoutError) else "connection failed"
        raise _Retryable(f"{type(reason).__name__}: {reason}", category) from exc


def deliver(event: EventView, settings: Settings, *, clock: Callable[[], float] = time.monotonic,
            sleep: Callable[[float], None] = time.sleep) -> int:
    """Post one event; returns the number of attempts it took (see `post`)."""
    body = request_body(event, settings.format)
    return post(body, signed_headers(event.id, event.type, body, settings), settings, f"event {event.id}", clock=clock,
                sleep=sleep)


def post(body: bytes, headers: dict[str, str], settings: Settings, what: str, *,
         clock: Callable[[], float] = time.monotonic, sleep: Callable[[float], None] = time.sleep) -> int:
    """POST `body` to the webhook; returns the number of attempts it took.

    Retries network errors and 408/425/429/5xx with exponential back-off, never past
    `total_timeout_seconds`; raises WebhookDeliveryError when it gives up or the receiver refuses
    (another 4xx), so the failure is logged and counted against the plugin.
    """
    url = settings.url.get_secret_value()
    deadline = clock() + settings.total_timeout_seconds
    last, tried, category = "no attempt fitted in the time allowed", 0, "timed out"
    for attempt in range(1, settings.max_attempts + 1):
        remaining = deadline - clock()
        if remaining <= 0:
            break
        tried = attempt
        try:
            _attempt(url, body, headers, min(settings.attempt_timeout_seconds, remaining))
            return attempt
        except _Retryable as exc:
            last, category = str(exc), exc.category
            log.warning("webhook-notify: attempt %d for %s failed: %s", attempt, what, last)
        if attempt == settings.max_attempts:
            break
        pause = settings.backoff_seconds * (2 ** (attempt - 1)) * (1 + random.uniform(0, 0.1))
        if clock() + pause >= deadline:
            break
        sleep(pause)
    raise WebhookDeliveryError(f"{what} not delivered after {tried} attempt(s): {last}", category=category)


# -- notifications (session reminders) ------------------------------------------------------------
def notification_event_type(notification: Notification) -> str:
    return NOTIFICATION_EVENT_TYPES.get(notification.kind, f"copnet.notification.{notification.kind}")


def notification_payload(notification: Notification) -> dict[str, Any]:
    return {
        "type": notification_event_type(notification),
        "kind": notification.kind,
        "id": notification.id,
        "person": {"id": notification.person.id, "name": notification.person.name,
                   "email": notification.person.email},
        "subject": notification.subject,
        "body": notification.body,
        "link": notification.link,
        "data": json.loads(json.dumps(dict(notification.data), default=str)),
    }


def notification_message(notification: Notification) -> str:
    """What a chat channel shows: whom it is for, the subject, then the body (no email address)."""
    return f"For {notification.person.name or notification.person.id}: {notification.subject}\n\n{notification.body}"


def notification_body(notification: Notification, format: str) -> bytes:
    payload = ({"text": notification_message(notification)} if format == "slack"
               else notification_payload(notification))
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


class WebhookNotifier:
    """Posts a notification to the region's webhook, when `events` selects its kind's event type."""

    key = "webhook"

    def __init__(self, clock: Callable[[], float] = time.monotonic, sleep: Callable[[float], None] = time.sleep):
        self.clock, self.sleep = clock, sleep

    def notify(self, notification: Notification, settings: Settings | None) -> None:
        event_type = notification_event_type(notification)
        if settings is None or not wanted(event_type, settings.events):
            return
        body = notification_body(notification, settings.format)
        post(body, signed_headers(notification.id, event_type, body, settings), settings,
             f"notification {notification.id}", clock=self.clock, sleep=self.sleep)


@hookimpl
def subscribed_event_types():
    return list(SUBSCRIBED)


@hookimpl
def react_to_event(event, settings, context):
    if settings is None or event.type in NOTIFICATION_EVENT_TYPES.values() or not wanted(event.type, settings.events):
        return None
    deliver(event, settings)
    return None


@hookimpl
def register_notifiers():
    return [WebhookNotifier()]
