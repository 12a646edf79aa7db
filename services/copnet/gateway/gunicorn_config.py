"""gunicorn settings of the gateway (`gunicorn --config python:copnet.gateway.gunicorn_config`).

gunicorn answers what it cannot hand to the application itself (a request line or a header over
its limits, a malformed request) with an HTML page. The limits are set above the gateway's own
(request_line.MAX_URL_BYTES), so a long URL is refused by the gateway; and what gunicorn still
answers itself is written as problem+json too, so a client sees one error format everywhere.
"""

from __future__ import annotations

import json

from gunicorn import util

from copnet.gateway.problems import MEDIA_TYPE, problem_title, problem_type

# The longest request line gunicorn reads (its maximum): above the gateway's MAX_URL_BYTES.
limit_request_line = 8190
# Each header line (a bearer token is under 1 KiB) and the number of headers: gunicorn's defaults.
limit_request_field_size = 8190
limit_request_fields = 100
# gunicorn's own refusals, by status: the reason they carry (as the gateway names its own).
REASONS = {414: "URI_TOO_LONG", 431: "HEADERS_TOO_LARGE"}


def write_problem(sock, status_int: int, reason: str, mesg: str) -> None:
    """gunicorn's `util.write_error`, answering problem+json instead of HTML."""
    code = REASONS.get(status_int)
    body = json.dumps({"type": problem_type(code), "title": problem_title(status_int, code), "status": status_int,
                       "detail": mesg or reason, **({"reason": code} if code else {})}).encode("ascii")
    head = (f"HTTP/1.1 {status_int} {reason}\r\nConnection: close\r\nContent-Type: {MEDIA_TYPE}\r\n"
            f"Content-Length: {len(body)}\r\n\r\n").encode("latin-1")
    util.write_nonblock(sock, head + body)


util.write_error = write_problem
