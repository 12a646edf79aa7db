"""A real SMTP server for tests (aiosmtpd, in a thread of the test process) that keeps every
message it accepts: plain text, STARTTLS or implicit TLS, with or without AUTH."""

from __future__ import annotations

import asyncio
import email
import email.policy
import ssl
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "smtp"
# Trusted by a client that reads it as its CA bundle (SSL_CERT_FILE); valid for 127.0.0.1.
CERTIFICATE = FIXTURES / "localhost-cert.pem"
PRIVATE_KEY = FIXTURES / "localhost-key.pem"


@dataclass(frozen=True)
class Received:
    """One accepted message: the envelope and the parsed message."""

    mail_from: str
    rcpt_tos: tuple[str, ...]
    message: EmailMessage


class _Handler:
    def __init__(self, server: SmtpServer):
        self.server = server

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        await asyncio.sleep(self.server.delay)
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        await asyncio.sleep(self.server.delay)
        if address in self.server.refused:
            return "550 5.1.1 No such mailbox here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        await asyncio.sleep(self.server.delay)
        # SMTP's CRLF line endings made local, as a mail client stores the message.
        content = (envelope.original_content or envelope.content).replace(b"\r\n", b"\n")
        parsed = email.message_from_bytes(content, policy=email.policy.default)
        self.server._accept(Received(envelope.mail_from, tuple(envelope.rcpt_tos), parsed))
        return "250 OK: queued"


class _FreePortController(Controller):
    """Listens on a port the system picks (port 0) and learns which before its self-check."""

    def _trigger_server(self):
        self.port = self.server.sockets[0].getsockname()[1]
        super()._trigger_server()


def server_tls_context() -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(CERTIFICATE, PRIVATE_KEY)
    return context


class SmtpServer:
    """`security`: "none" (plain), "starttls" (STARTTLS offered and required before mail) or "tls"
    (TLS from the first byte). With `credentials` (login, password), AUTH is required, over TLS.
    Mail to a `refused` address is refused (550); MAIL, RCPT and the end of DATA are each answered
    after `delay` seconds."""

    def __init__(self, security: str = "none", credentials: tuple[str, str] | None = None,
                 refused: Iterable[str] = (), delay: float = 0.0):
        self.delay = delay
        self.messages: list[Received] = []
        self.logins: list[str] = []
        self.refused = set(refused)
        self.credentials = credentials
        self._lock = threading.Lock()
        options: dict = {}
        if security == "starttls":
            options.update(tls_context=server_tls_context(), require_starttls=True)
        elif security == "tls":
            options.update(ssl_context=server_tls_context())
        if credentials is not None:
            # aiosmtpd counts only STARTTLS as TLS: with implicit TLS it would never offer AUTH.
            options.update(authenticator=self._authenticate, auth_required=True,
                           auth_require_tls=security != "tls")
        self.controller = _FreePortController(_Handler(self), hostname="127.0.0.1", port=0, **options)
        self.controller.start()
        self.host, self.port = "127.0.0.1", self.controller.port

    def _authenticate(self, server, session, envelope, mechanism, auth_data):
        if not isinstance(auth_data, LoginPassword) or self.credentials is None:
            return AuthResult(success=False, handled=False)
        login, password = auth_data.login.decode(), auth_data.password.decode()
        if (login, password) != self.credentials:
            return AuthResult(success=False, handled=False)
        self.logins.append(login)
        return AuthResult(success=True)

    def _accept(self, received: Received) -> None:
        with self._lock:
            self.messages.append(received)

    def received(self, where: Callable[[Received], bool] = lambda _: True) -> list[Received]:
        with self._lock:
            return [message for message in self.messages if where(message)]

    def close(self) -> None:
        self.controller.stop()
