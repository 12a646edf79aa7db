"""W3C trace context: carried in gRPC metadata, captured into events when they are written."""

from __future__ import annotations

import contextvars
import re
import secrets

METADATA_KEY = "traceparent"
_VALID = re.compile(r"^00-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$")
_current: contextvars.ContextVar[str | None] = contextvars.ContextVar("copnet_traceparent", default=None)


def current_traceparent() -> str | None:
    return _current.get()


def set_traceparent(value: str | None) -> contextvars.Token:
    return _current.set(value if value and _VALID.match(value) else None)


def reset_traceparent(token: contextvars.Token) -> None:
    _current.reset(token)


def new_traceparent() -> str:
    return f"00-{secrets.token_hex(16)}-{secrets.token_hex(8)}-01"
