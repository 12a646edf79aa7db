"""Email notifications: each person's session reminder as an email, with the session attached.

A notifier (`register_notifiers`): for every `copnet.scheduling.session.reminder`, one message to
the person's email address through the region's SMTP server — the reminder's subject and
plain-text body and, unless switched off, a `text/calendar; method=PUBLISH` attachment holding
that one occurrence, so a calendar client adds it with a click. Only the standard library talks
SMTP (`smtplib`, `email`); the attachment is written by the `icalendar` library.

Any text goes: a line break or a control character in a session's title or a person's name
becomes a space in the headers (the `email` library encodes the rest), so no data makes a
message fail; a recipient that cannot be used (no or an invalid address, refused by the server)
is skipped as `copnet.UnusableInput`, which never counts toward switching the plugin off.

The server must be a public host, or in the instance's COPNET_PLUGIN_ALLOWED_NETWORKS: checked
when the settings are saved and again at every connection, which goes to the address checked
(TLS still verifies the certificate against the host name). The password is bound to the
host, port and username: changing any of them needs the password again.

Delivery is at least once: a reminder delivered again (a crash between sending and the
acknowledgement) is the same message with the same `Message-ID`, derived from the notification
id, so mail servers and clients can drop the repeat. No retries here: the notifiers of one
reminder share a few seconds, which one SMTP conversation may well need; the region's mail
server is the one that queues and retries onwards.
"""

from __future__ import annotations

import datetime as dt
import email.errors
import email.utils
import functools
import ipaddress
import re
import smtplib
import socket
import ssl
import time
import uuid
import zoneinfo
from collections.abc import Mapping
from email.headerregistry import Address
from email.message import EmailMessage
from typing import Any, Literal

import icalendar
from copnet import (NOTIFY_BUDGET_SECONDS, Notification, PluginError, PluginSettings, UnusableInput, check_destination,
                    connect_to_destination, hookimpl, saving, secret_bound_to)
from google.protobuf.timestamp_pb2 import Timestamp
from pydantic import Field, SecretStr, ValidationInfo, field_validator, model_validator

# The feeds' fix for parsers that read only the first of several comma-separated RDATEs.
from copnet_plugins.icalendar_feed import one_rdate_per_line

COPNET_HOOKSPEC_VERSION = 2

PRODID = "-//copnet//email-notify//EN"
EMAIL_PATTERN = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s.]+$")
MAX_EMAIL_LENGTH = 254
HOST_NAME = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?$")
# Characters of a notification id kept in the Message-ID (RFC 5322 dot-atom text, to be safe).
NOT_ID_TEXT = re.compile(r"[^A-Za-z0-9._-]")
SHOWS_VENUE = ("MODALITY_IN_PERSON", "MODALITY_HYBRID")
# Line breaks and other control characters (C0, DEL, C1, Unicode's line and paragraph separators).
CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]+")
# Control characters a plain-text body does not need (tab and line breaks are kept).
BODY_CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
# A surrogate in a Python string is always a lone one: it cannot be encoded.
SURROGATES = re.compile(r"[\ud800-\udfff]")


def _email_address(value: str) -> str:
    address = value.strip()
    if len(address) > MAX_EMAIL_LENGTH or not EMAIL_PATTERN.match(address):
        raise ValueError("is not an email address")
    return address


class Settings(PluginSettings):
    """The region's SMTP server and what the messages say they are from."""

    host: str = Field(min_length=1, max_length=253,
                      description="The SMTP server's host name or IP address, e.g. `smtp.example.org`.")
    port: int = Field(587, ge=1, le=65535,
                      description="587 for submission with STARTTLS, 465 for implicit TLS, 25 for a relay.")
    security: Literal["starttls", "tls", "none"] = Field(
        "starttls", description="`starttls`: connect in plain text, then require STARTTLS (a server that does "
                                "not offer it is a failure, never a fallback to plain text). `tls`: TLS from the "
                                "first byte (port 465). `none`: no encryption, for a relay on a trusted network; "
                                "refused together with credentials. With TLS the server's certificate is always checked "
                                "(against the system's trusted authorities).")
    username: str | None = Field(None, min_length=1, max_length=320,
                                 description="Log in with this name (with `password`); none: send without AUTH.")
    password: SecretStr | None = Field(None, description="The password for `username`. Write-only; changing `host`, "
                                                         "`port` or `username` needs it again.",
                                       json_schema_extra=secret_bound_to("host", "port", "username"))
    from_address: str = Field(description="The sender's address (From and the envelope sender), e.g. "
                                          "`reminders@region.example.org`.")
    from_name: str = Field("copnet", max_length=200, description="The name shown with `from_address`.")
    reply_to: str | None = Field(None, description="Where replies go (Reply-To), e.g. the region's help desk.")
    timeout_seconds: float = Field(
        5.0, gt=0, le=NOTIFY_BUDGET_SECONDS,
        description="The most one message may take, the whole SMTP conversation; at most the 6 s the notifiers "
                    "of one reminder share.")
    attach_ics: bool = Field(True, description="Attach the occurrence as an iCalendar file (`text/calendar; "
                                               "method=PUBLISH`, `session.ics`).")

    @field_validator("host")
    @classmethod
    def _host(cls, value: str, info: ValidationInfo) -> str:
        host = value.strip()
        try:
            if ":" in host:
                ipaddress.IPv6Address(host)
            elif not HOST_NAME.match(host):
                raise ValueError
        except ValueError:
            raise ValueError("must be a host name or an IP address, without scheme, port or path") from None
        if saving(info):
            check_destination(host)
        return host

    @field_validator("from_address", "reply_to")
    @classmethod
    def _address(cls, value: str | None) -> str | None:
        return None if value is None else _email_address(value)

    @field_validator("from_name")
    @classmethod
    def _one_line(cls, value: str) -> str:
        if "\r" in value or "\n" in value:
            raise ValueError("must be one line")
        return value.strip()

    @model_validator(mode="after")
    def _credentials(self) -> Settings:
        if (self.username is None) != (self.password is None):
            raise ValueError("username and password go together: set both or neither")
        if self.username is not None and self.security == "none":
            raise ValueError("credentials are never sent unencrypted: use security starttls or tls")
        return self


class MissingEmailAddress(UnusableInput):
    """The person has no email address to send the notification to."""


class UnusableEmailAddress(UnusableInput):
    """The person's email address is not one a message can be sent to."""


def header_text(value: str) -> str:
    """`value` as one line for a header: control characters (line breaks included) and runs of
    white space become one space, a lone surrogate U+FFFD; the `email` library encodes the rest."""
    return " ".join(CONTROL_CHARACTERS.sub(" ", SURROGATES.sub("\ufffd", value)).split())


def body_text(value: str) -> str:
    """`value` as a plain-text body: line breaks kept, other control characters and lone surrogates dropped."""
    return BODY_CONTROL_CHARACTERS.sub("", SURROGATES.sub("\ufffd", value))


def recipient(notification: Notification) -> Address:
    """The person's name and address as a To header; UnusableInput when there is no usable address."""
    address = notification.person.email.strip()
    if not address:
        raise MissingEmailAddress(f"person {notification.person.id} has no email address; notification "
                                  f"{notification.id} not sent by email")
    try:
        if len(address) > MAX_EMAIL_LENGTH or CONTROL_CHARACTERS.search(address):
            raise ValueError("too long, or a control character")
        return Address(display_name=header_text(notification.person.name), addr_spec=address)
    except (ValueError, email.errors.MessageError) as error:
        raise UnusableEmailAddress(f"person {notification.person.id}'s email address cannot be used ({error}); "
                                   f"notification {notification.id} not sent by email") from None


# -- the message ----------------------------------------------------------------------------------
def message_id(notification: Notification, from_address: str) -> str:
    """`<copnet.<notification id>@<sender's domain>>`: the same for every delivery of one
    notification. `email.utils.make_msgid` is not used: it adds the time, the process id and
    randomness, so a repeat would look like a new message."""
    domain = from_address.rsplit("@", 1)[1]
    return f"<copnet.{NOT_ID_TEXT.sub('-', notification.id)}@{domain}>"


def build_message(notification: Notification, settings: Settings, *, now: dt.datetime | None = None) -> EmailMessage:
    message = EmailMessage()
    message["From"] = Address(display_name=header_text(settings.from_name), addr_spec=settings.from_address)
    message["To"] = recipient(notification)
    if settings.reply_to:
        message["Reply-To"] = settings.reply_to
    message["Subject"] = header_text(notification.subject)
    message["Date"] = email.utils.format_datetime(now or dt.datetime.now(dt.UTC))
    message["Message-ID"] = message_id(notification, settings.from_address)
    # RFC 3834: automatic, so vacation responders do not answer it.
    message["Auto-Submitted"] = "auto-generated"
    message["X-Copnet-Notification-Id"] = NOT_ID_TEXT.sub("-", notification.id)
    message.set_content(body_text(notification.body))
    if settings.attach_ics and (calendar := occurrence_ics(notification, now=now)) is not None:
        message.add_attachment(calendar, maintype="text", subtype="calendar", filename="session.ics",
                               params={"method": "PUBLISH", "charset": "utf-8"})
    return message


# -- the attachment -------------------------------------------------------------------------------
def _instant(value: Any) -> dt.datetime | None:
    """A protobuf JSON timestamp ("2026-10-13T23:00:00Z"), read by protobuf itself."""
    if not isinstance(value, str) or not value:
        return None
    stamp = Timestamp()
    try:
        stamp.FromJsonString(value)
    except ValueError:
        return None
    return stamp.ToDatetime(tzinfo=dt.UTC)


def _zone(name: Any) -> dt.tzinfo:
    """The occurrence's IANA zone; UTC when it is missing or unknown (the attachment still goes)."""
    try:
        return zoneinfo.ZoneInfo(name) if isinstance(name, str) and name else dt.UTC
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return dt.UTC


def _location(occurrence: Mapping[str, Any]) -> str:
    """The room ("name, address") of an in-person or hybrid session, else the meeting link, as
    the calendar feeds put it."""
    venue = occurrence.get("venue") if isinstance(occurrence.get("venue"), Mapping) else {}
    room = ", ".join(str(part).strip() for part in (venue.get("name"), venue.get("address")) if part and str(part).strip())
    if occurrence.get("modality") in SHOWS_VENUE and room:
        return room
    return str(occurrence.get("meeting_url") or "") or room


def occurrence_ics(notification: Notification, *, now: dt.datetime | None = None) -> bytes | None:
    """One VEVENT for the occurrence in `notification.data` (the SessionReminder event's JSON),
    with its time zone's VTIMEZONE; None when the data holds no occurrence with a start and end."""
    occurrence = notification.data.get("occurrence") if isinstance(notification.data, Mapping) else None
    if not isinstance(occurrence, Mapping) or not occurrence.get("id"):
        return None
    start, end = _instant(occurrence.get("start_time")), _instant(occurrence.get("end_time"))
    if start is None or end is None:
        return None
    zone = _zone(occurrence.get("time_zone"))
    # The calendar's own UID (RFC 7986), which the library would otherwise make up: the same for
    # every delivery of this notification.
    calendar = icalendar.Calendar.new(prodid=PRODID, calscale="GREGORIAN", method="PUBLISH",
                                      uid=str(uuid.uuid5(uuid.NAMESPACE_URL, f"copnet:{notification.id}")))
    meeting_url = header_text(str(occurrence.get("meeting_url") or ""))
    event = icalendar.Event.new(
        uid=f"{header_text(str(occurrence['id']))}@copnet",
        summary=header_text(str(occurrence.get("title") or notification.subject)),
        start=start.astimezone(zone), end=end.astimezone(zone), stamp=(now or dt.datetime.now(dt.UTC)).astimezone(dt.UTC),
        sequence=int(occurrence.get("sequence") or 0), location=header_text(_location(occurrence)) or None,
        url=meeting_url or None, description=body_text(notification.body) or None, status="CONFIRMED")
    calendar.add_component(event)
    if zone is not dt.UTC:
        calendar.add_missing_timezones(first_date=dt.date(start.year - 1, 1, 1), last_date=dt.date(end.year + 2, 1, 1))
        one_rdate_per_line(calendar)
    return calendar.to_ical()


# -- sending --------------------------------------------------------------------------------------
@functools.cache
def _local_hostname() -> str:
    # What EHLO says; smtplib would look it up (possibly a reverse DNS query) for every message.
    return socket.getfqdn()


class _Deadline:
    def __init__(self, seconds: float):
        self.seconds = seconds
        self.at = time.monotonic() + seconds

    def remaining(self) -> float:
        left = self.at - time.monotonic()
        if left <= 0:
            raise TimeoutError(f"the SMTP server did not finish within {self.seconds:g}s")
        return left


def _bounded(base: type[smtplib.SMTP]) -> type[smtplib.SMTP]:
    """`base` whose every command and reply waits only as long as the message's deadline leaves
    (smtplib's own timeout is per socket operation, and one message takes several)."""

    class Bounded(base):
        def __init__(self, *args, deadline: _Deadline, **kwargs):
            self.deadline = deadline
            super().__init__(*args, timeout=deadline.remaining(), **kwargs)

        def _within_deadline(self) -> None:
            if self.sock is None:
                return
            try:
                self.sock.settimeout(self.deadline.remaining())
            except TimeoutError:
                self.close()
                raise

        def send(self, s):
            self._within_deadline()
            super().send(s)

        def getreply(self):
            self._within_deadline()
            try:
                return super().getreply()
            except smtplib.SMTPServerDisconnected as error:
                # smtplib reports a read that timed out as a lost connection: say what happened.
                if isinstance(error.__context__, TimeoutError):
                    raise TimeoutError(f"the SMTP server did not answer within {self.deadline.seconds:g}s") from error
                raise

    return Bounded


class _CheckedSMTP(smtplib.SMTP):
    """Connects only to an address the instance allows, the one it checked (see
    `copnet.connect_to_destination`); STARTTLS still checks the certificate against the host name."""

    def _get_socket(self, host, port, timeout):
        return connect_to_destination(host, port, timeout, self.source_address)


class _CheckedSMTP_SSL(smtplib.SMTP_SSL, _CheckedSMTP):  # noqa: N801 (smtplib's spelling)
    """SMTP_SSL wraps the checked connection in TLS for the host name (SNI, certificate)."""


_SMTP, _SMTP_SSL = _bounded(_CheckedSMTP), _bounded(_CheckedSMTP_SSL)


def connect(settings: Settings, deadline: _Deadline) -> smtplib.SMTP:
    """A connection to the server, encrypted as `security` says (the certificate checked against
    the system's trusted authorities, or SSL_CERT_FILE's) and logged in if credentials are set."""
    if settings.security == "tls":
        smtp = _SMTP_SSL(settings.host, settings.port, local_hostname=_local_hostname(), deadline=deadline,
                         context=ssl.create_default_context())
    else:
        smtp = _SMTP(settings.host, settings.port, local_hostname=_local_hostname(), deadline=deadline)
    try:
        smtp.ehlo()
        if settings.security == "starttls":
            smtp.starttls(context=ssl.create_default_context())
            smtp.ehlo()
        if settings.username is not None and settings.password is not None:
            smtp.login(settings.username, settings.password.get_secret_value())
    except BaseException:
        smtp.close()
        raise
    return smtp


def send(message: EmailMessage, recipient: str, settings: Settings) -> None:
    """One SMTP conversation for one message to `recipient`; every SMTP or network error propagates
    (a refused recipient as UnusableInput, another SMTP answer as a PluginError "SMTP error")."""
    deadline = _Deadline(settings.timeout_seconds)
    try:
        smtp = connect(settings, deadline)
        try:
            smtp.send_message(message, from_addr=settings.from_address, to_addrs=[recipient])
            try:
                smtp.quit()
            except (smtplib.SMTPException, OSError):
                pass   # the message was accepted; a QUIT lost on the way changes nothing
        finally:
            smtp.close()
    except smtplib.SMTPRecipientsRefused as error:
        raise UnusableInput(f"the SMTP server refused the recipient: {error.recipients}") from error
    except (smtplib.SMTPResponseException, smtplib.SMTPNotSupportedError) as error:
        raise PluginError(f"the SMTP server answered: {error}", category="SMTP error") from error


class EmailNotifier:
    """Emails a notification to its person (`copnet.Notifier`)."""

    key = "email"

    def notify(self, notification: Notification, settings: Settings | None) -> None:
        if settings is None:
            raise ValueError("email-notify has no settings here: configure the region's SMTP server")
        message = build_message(notification, settings)
        send(message, message["To"].addresses[0].addr_spec, settings)


@hookimpl
def register_notifiers():
    return [EmailNotifier()]
