"""A tiny stdlib HTTP client for talking to the real gateway (no third-party HTTP library)."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from dataclasses import dataclass

_UNSET = object()


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    text: str

    @property
    def media_type(self) -> str:
        return self.headers.get("content-type", "").split(";")[0].strip()

    def json(self):
        return json.loads(self.text)


def request(method: str, url: str, *, json_body=_UNSET, raw: bytes | str | None = None,
            token: str | None = None, headers: dict[str, str] | None = None, timeout: float = 30) -> Reply:
    """One HTTP exchange; error statuses are returned, not raised."""
    all_headers = {"Accept": "application/json, application/problem+json", **(headers or {})}
    data = None
    if json_body is not _UNSET:
        data = json.dumps(json_body).encode()
        all_headers.setdefault("Content-Type", "application/json")
    elif raw is not None:
        data = raw.encode() if isinstance(raw, str) else raw
        all_headers.setdefault("Content-Type", "application/json")
    if token:
        all_headers["Authorization"] = f"Bearer {token}"
    req = urllib.request.Request(url, data=data, method=method, headers=all_headers)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as response:
            return Reply(response.status, {k.lower(): v for k, v in response.headers.items()},
                         response.read().decode())
    except urllib.error.HTTPError as error:
        with error:
            return Reply(error.code, {k.lower(): v for k, v in error.headers.items()}, error.read().decode())
