"""A request's URL is bounded: one longer than MAX_URL_BYTES is refused (414) before routing,
authentication or validation, as problem+json like every other answer.

gunicorn reads request lines up to its own `limit_request_line` (set above this one in
`gunicorn_config`), so every URL the gateway refuses reaches it and is refused here.
"""

from __future__ import annotations

from flask import Flask, abort, request

from copnet.gateway.problems import problem

# Path and query string, as sent: far above any URL of this API (ids, a page token, a few filters).
MAX_URL_BYTES = 4096


def refuse_long_urls() -> None:
    length = len(request.environ.get("RAW_URI") or request.full_path.encode("utf-8", "surrogateescape"))
    if length > MAX_URL_BYTES:
        abort(problem(414, f"the URL is {length} bytes long; at most {MAX_URL_BYTES} are accepted",
                      reason="URI_TOO_LONG"))


def register(app: Flask) -> None:
    app.before_request(refuse_long_urls)
