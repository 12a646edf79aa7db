"""AIP-158 pagination: page_size / page_token / next_page_token over an indexed key."""

from __future__ import annotations

import base64
import json

from copnet.kernel.errors import InvalidArgument

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 1000


def page_size(requested: int) -> int:
    if requested < 0:
        raise InvalidArgument.for_field("page_size", "must not be negative")
    return min(requested or DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)


def encode_token(after: str, query: dict) -> str:
    raw = json.dumps({"after": after, "query": query}, sort_keys=True, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_token(token: str, query: dict) -> str | None:
    """The key to continue after; the token must come from the same query (AIP-158)."""
    if not token:
        return None
    try:
        padded = token + "=" * (-len(token) % 4)
        decoded = json.loads(base64.urlsafe_b64decode(padded.encode()))
        after, original = decoded["after"], decoded["query"]
    except (ValueError, KeyError, TypeError):
        raise InvalidArgument.for_field("page_token", "is not a token this service issued") from None
    if original != query:
        raise InvalidArgument.for_field("page_token", "belongs to a different query (filters changed)")
    return str(after)


def page_of(document_class, query: dict, requested_size: int, page_token: str, key: str = "id"):
    """One page of `document_class` matching `query`, ordered by `key` (which must be indexed).

    Returns (documents, next_page_token); the token is "" on the last page.
    """
    size = page_size(requested_size)
    after = decode_token(page_token, query)
    filters = dict(query)
    if after is not None:
        filters[f"{key}__gt"] = after
    found = list(document_class.objects(**filters).order_by(key).limit(size + 1))
    token = encode_token(getattr(found[size - 1], key), query) if len(found) > size else ""
    return found[:size], token
