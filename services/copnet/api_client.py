"""A small client for copnet's REST API, for the CLI and the demo loader.

Only the standard library talks HTTP here: the CLI needs nothing the gateway does not.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass

API = "/api/v1"
REQUEST_TIMEOUT_SECONDS = 30.0


class GatewayUnreachable(Exception):
    """No answer from the gateway at all."""


@dataclass
class ApiError(Exception):
    """The gateway answered with an error status; `problem` is its problem+json body (or {})."""

    method: str
    url: str
    status: int
    problem: dict

    def __str__(self) -> str:
        parts = [str(self.problem[key]) for key in ("title", "detail") if self.problem.get(key)]
        return f"{self.method} {self.url}: {self.status} {': '.join(parts)}".rstrip()

    @property
    def reason(self) -> str | None:
        return self.problem.get("reason")


class ApiClient:
    def __init__(self, base_url: str, token: str | None = None, timeout: float = REQUEST_TIMEOUT_SECONDS):
        self.base_url = base_url.rstrip("/")
        self.token = token
        self.timeout = timeout

    def request(self, method: str, path: str, body: dict | None = None, query: dict | None = None):
        """The decoded JSON answer of a 2xx (None when empty); raises ApiError / GatewayUnreachable."""
        raw = self.send(method, path, body, query)
        return json.loads(raw) if raw else None

    def text(self, path: str, accept: str, **query) -> str:
        """A GET of a page that is not JSON (the certificate's HTML), as text; errors as `request`'s."""
        return self.send("GET", path, query=query, accept=accept).decode("utf-8")

    def upload(self, path: str, stream, size: int, content_type: str, query: dict | None = None):
        """POST a file's bytes as the body, read from `stream` (anything with `read(n)`) a block at
        a time as they are sent, never whole in memory; the decoded JSON answer, as `request`."""
        raw = self.send("POST", path, query=query, data=stream,
                        headers={"Content-Type": content_type, "Content-Length": str(size)})
        return json.loads(raw) if raw else None

    def send(self, method: str, path: str, body: dict | None = None, query: dict | None = None,
             accept: str = "application/json", data=None, headers: dict | None = None) -> bytes:
        """The raw body of a 2xx answer; raises ApiError / GatewayUnreachable."""
        url = self.base_url + API + path
        if query:
            url += "?" + urllib.parse.urlencode({k: v for k, v in query.items() if v not in (None, "")},
                                                doseq=True)
        headers = {"Accept": f"{accept}, application/problem+json", **(headers or {})}
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        request = urllib.request.Request(url, data=data, method=method, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                return response.read()
        except urllib.error.HTTPError as error:
            with error:
                raise ApiError(method, url, error.code, _problem_of(error.read())) from None
        except (urllib.error.URLError, OSError) as error:
            reason = getattr(error, "reason", error)
            raise GatewayUnreachable(f"cannot reach the gateway at {self.base_url} ({reason}): "
                                     f"is `copnet up` running?") from None

    def get(self, path: str, **query):
        return self.request("GET", path, query=query)

    def post(self, path: str, body: dict | None = None):
        return self.request("POST", path, body=body if body is not None else {})

    def patch(self, path: str, body: dict):
        return self.request("PATCH", path, body=body)

    def put(self, path: str, body: dict | None = None):
        return self.request("PUT", path, body=body if body is not None else {})

    def delete(self, path: str, **query):
        return self.request("DELETE", path, query=query)

    def pages(self, path: str, **query):
        """Every item of a paged list, following next_page_token."""
        token = ""
        while True:
            page = self.get(path, **query, page_token=token)
            yield from page["items"]
            token = page.get("next_page_token") or ""
            if not token:
                return


def _problem_of(raw: bytes) -> dict:
    try:
        problem = json.loads(raw.decode("utf-8", "replace"))
    except ValueError:
        return {"detail": raw.decode("utf-8", "replace").strip()[:500]}
    return problem if isinstance(problem, dict) else {"detail": str(problem)[:500]}
