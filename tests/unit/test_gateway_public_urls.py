"""Feed URLs behind a reverse proxy (issue 11, item 9): built on COPNET_PUBLIC_URL when set, or on
the scheme and host the trusted proxies forwarded; never on a forwarded header nobody vouches for."""

from __future__ import annotations

from google.protobuf import timestamp_pb2

from copnet.gateway.app import create_app
from copnet.scheduling.v1 import scheduling_pb2
from tests.support import tokens
from tests.unit.gateway_fakes import FakeClients, bearer

FORWARDED = {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "copnet.example.org", "X-Forwarded-For": "203.0.113.9"}


def person_feed_url(headers: dict[str, str] | None = None, **settings) -> str:
    clients = FakeClients()
    clients["scheduling"].replies["IssueFeedToken"] = scheduling_pb2.IssueFeedTokenResponse(
        person_id="a", token="t0k", issue_time=timestamp_pb2.Timestamp(seconds=1_800_000_000))
    app = create_app(tokens.settings(**settings), clients=clients)
    reply = app.test_client().post("/api/v1/people/a/calendar-token", json={},
                                   headers={**bearer(), **(headers or {})}, base_url="http://gateway:8080")
    assert reply.status_code == 200, reply.get_data(as_text=True)
    return reply.get_json()["person_feed_url"]


def test_without_a_proxy_setting_forwarded_headers_are_ignored():
    assert person_feed_url(FORWARDED) == "http://gateway:8080/api/v1/calendars/people/a.ics?token=t0k"


def test_a_trusted_proxy_gives_the_public_scheme_and_host():
    assert person_feed_url(FORWARDED, trusted_proxies=1) == \
        "https://copnet.example.org/api/v1/calendars/people/a.ics?token=t0k"


def test_the_public_url_wins_over_the_request():
    assert person_feed_url(FORWARDED, public_url="https://cop.example.net/region/") == \
        "https://cop.example.net/region/api/v1/calendars/people/a.ics?token=t0k"
