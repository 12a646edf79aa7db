"""The demo data set and its loader, against a small in-process HTTP server speaking the REST contract."""

from __future__ import annotations

import json
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from copnet import seed
from copnet.gateway.schemas import CommunityKind, OrganizationKind

ID = re.compile(r"^[a-z0-9][a-z0-9-]{1,62}$")
# The REST contract's allowed parents for the kinds the demo uses.
PARENT_KIND = {"state": None, "region": "state", "county_office": "region", "district": "county_office",
               "school": "district"}


def test_demo_ids_are_valid_and_unique():
    ids = [item.id for item in seed.demo_items()]
    assert all(ID.match(i) for i in ids), ids
    assert len(set(ids)) == len(ids)


def test_demo_organizations_come_after_their_parents_and_sit_under_the_right_kind():
    kinds: dict[str, str] = {}
    for org in seed.DEMO_ORGANIZATIONS:
        assert org.kind in {k.value for k in OrganizationKind}
        if org.parent_id is None:
            assert PARENT_KIND[org.kind] is None and org.time_zone == "America/Los_Angeles"
        else:
            assert kinds.get(org.parent_id) == PARENT_KIND[org.kind], org
        kinds[org.id] = org.kind
    assert {"state", "region", "county_office", "district", "school"} <= set(kinds.values())
    assert list(kinds.values()).count("county_office") == 3
    assert list(kinds.values()).count("region") == 2


def test_demo_communities_are_hosted_by_demo_organizations():
    orgs = {org.id for org in seed.DEMO_ORGANIZATIONS}
    for community in seed.DEMO_COMMUNITIES:
        assert community.host_organization_id in orgs
        assert community.kind in {k.value for k in CommunityKind}
    assert {"plc", "math_team", "equity_cohort"} <= {c.kind for c in seed.DEMO_COMMUNITIES}


class FakeGateway:
    """Answers POSTs like the gateway: 201 the first time an id is seen, 409 after; or `fail_with`."""

    def __init__(self):
        self.requests: list[tuple[str, dict, str]] = []
        self.seen: set[tuple[str, str]] = set()
        self.fail_with: tuple[int, dict] | None = None
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                gateway.requests.append((self.path, body, self.headers.get("Authorization", "")))
                if gateway.fail_with is not None:
                    status, payload = gateway.fail_with
                else:
                    key = (self.path, body.get("id"))
                    status, payload = (409, {"title": "Conflict"}) if key in gateway.seen else (201, body)
                    gateway.seen.add(key)
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json" if status < 400 else "application/problem+json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def gateway():
    with FakeGateway() as fake:
        yield fake


def test_load_posts_every_item_in_order_with_the_token(gateway):
    seen = []
    report = seed.load_demo(gateway.url + "/", "tok", lambda item, outcome: seen.append((item.id, outcome)))
    items = seed.demo_items()
    assert report.created == [item.id for item in items] and report.existing == []
    assert seen == [(item.id, "created") for item in items]
    paths = [path for path, _, _ in gateway.requests]
    assert paths == ["/api/v1/orgs"] * len(seed.DEMO_ORGANIZATIONS) + ["/api/v1/communities"] * len(seed.DEMO_COMMUNITIES)
    assert {auth for _, _, auth in gateway.requests} == {"Bearer tok"}
    state = gateway.requests[0][1]
    assert state == {"id": "ca", "name": "California", "kind": "state", "code": "CA", "time_zone": "America/Los_Angeles"}
    region = gateway.requests[1][1]
    assert region == {"id": "ca-bay-area", "name": "Bay Area Region", "kind": "region", "parent_id": "ca"}


def test_loading_twice_finds_everything_already_there(gateway):
    seed.load_demo(gateway.url, "tok")
    again = seed.load_demo(gateway.url, "tok")
    assert again.created == []
    assert again.existing == [item.id for item in seed.demo_items()]
    assert again.summary() == f"0 created, {len(seed.demo_items())} already there"


def test_a_refusal_stops_loading_with_the_problem_detail(gateway):
    gateway.fail_with = (422, {"title": "Unprocessable Content", "detail": "kind: unknown value"})
    with pytest.raises(seed.SeedError) as raised:
        seed.load_demo(gateway.url, "tok")
    assert "org 'ca'" in str(raised.value)
    assert "422 Unprocessable Content: kind: unknown value" in str(raised.value)
    assert len(gateway.requests) == 1


def test_an_unreachable_gateway_is_reported():
    from copnet.stack import free_port

    url = f"http://127.0.0.1:{free_port()}"
    with pytest.raises(seed.SeedError, match="cannot reach the gateway"):
        seed.load_demo(url, "tok")
