"""The demo loader against a small local HTTP server speaking the REST contract (the data set itself
is checked in tests/unit/test_seed.py; the loader against the real stack in test_seed.py here)."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl

import pytest

from copnet import seed
from copnet.gateway.schemas.communities import CommunityCreate, CommunityStatusChange
from copnet.gateway.schemas.data_sets import DataSetUpload
from copnet.gateway.schemas.milestones import MilestoneCreate
from copnet.gateway.schemas.organizations import OrganizationCreate
from copnet.gateway.schemas.people import PersonCreate, RoleGrantBody
from copnet.gateway.schemas.plugins import PluginConfigPut
from copnet.gateway.schemas.programs import ProgramCreate, ProposalCallOpen
from copnet.gateway.schemas.registrations import RegistrationCreate, TeamRegistrationCreate
from copnet.gateway.schemas.sessions import SessionCreate

pytestmark = pytest.mark.integration

NOW = dt.datetime(2026, 11, 23, 17, 30, tzinfo=dt.UTC)


def parse(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text)


class FakeGateway:
    """Enough of the REST contract to load the demo: creates answer 201 the first time an id is
    seen and 409 after; references (parents, people, an open community) must already exist; or
    every request answers `fail_with`."""

    def __init__(self):
        self.requests: list[tuple[str, str, dict | None, str]] = []
        self.store: dict[str, dict] = {}
        self.registrations: set[tuple[str, str]] = set()
        self.fail_with: tuple[int, dict] | None = None
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def writes(self) -> list[tuple[str, str]]:
        return [(method, path) for method, path, _, _ in self.requests if method != "GET"]

    def answer(self, method: str, path: str, body: dict | None) -> tuple[int, dict]:
        if self.fail_with is not None:
            return self.fail_with
        path, _, query = path.partition("?")
        parts = path.removeprefix("/api/v1/").split("/")
        if parts[0] == "regions" and parts[2:3] == ["plugins"] and len(parts) == 4:
            return self.plugin_config(method, parts[1], parts[3], body)
        if parts == ["session-types"]:
            return 200, {"items": [{"key": key} for key in self.session_types(query)]}
        if parts[0] == "data-sets":
            return self.data_set(method, parts, query, body)
        if method == "POST" and len(parts) == 1:
            return self.create(parts[0], body)
        resource = self.store.get(f"{parts[0]}/{parts[1]}")
        if resource is None:
            return 404, {"title": "Not Found", "reason": "NOT_FOUND"}
        if method == "GET" and len(parts) == 2:
            return 200, resource
        match (method, parts[0], parts[2]):
            case ("POST", "people", "roles"):
                resource["roles"].append({**body, "granted_by": "copnet-seed"})
                return 200, resource
            case ("PUT", "programs", "proposal-call"):
                resource["proposal_call"] = {"opened_at": "now", **body}
                return 200, resource
            case ("POST", "communities", "status"):
                resource["status"] = body["status"]
                return 200, resource
            case ("POST", "communities", "registrations"):
                return self.register(resource, [body["person_id"]])
            case ("POST", "communities", "team-registrations"):
                return self.register(resource, [m["person_id"] for m in body["members"]])
            case ("GET", "programs", "milestones"):
                return 200, {"items": resource.setdefault("milestones", []), "timeline_revision": 0}
            case ("POST", "programs", "milestones"):
                resource.setdefault("milestones", []).append({"title": "", **body})
                return 201, body
            case ("POST", "communities", "sessions"):
                return self.create_session(resource, body)
        return 404, {"title": "Not Found"}

    def data_set(self, method: str, parts: list[str], query: str, body) -> tuple[int, dict]:
        """An upload answers 202 importing (200 already_imported for the same file and organization);
        reading it back finds it ready."""
        if method == "POST":
            upload = DataSetUpload.model_validate(dict(parse_qsl(query)))
            if f"orgs/{upload.organization_id}" not in self.store:
                return 404, {"title": "Not Found", "reason": "NOT_FOUND"}
            key = f"data-sets/{upload.organization_id}-{hashlib.sha256(body).hexdigest()[:16]}"
            if key in self.store:
                return 200, {**self.store[key], "already_imported": True}
            self.store[key] = {"id": key.split("/")[1], **upload.model_dump(), "status": "importing",
                               "rows_rejected": 0, "already_imported": False}
            return 202, self.store[key]
        found = self.store.get(f"data-sets/{parts[1]}")
        if found is None:
            return 404, {"title": "Not Found", "reason": "NOT_FOUND"}
        found["status"] = "ready"
        return 200, found

    def session_types(self, query: str) -> list[str]:
        """Core types everywhere; the equity workshops where the Bay Area switched them on."""
        keys = ["regular_convening"]
        if "community_id=bay-" in query and "plugin-configs/ca-bay-area/equity-sessions" in self.store:
            keys.append("equity_culturally_responsive_tasks")
        return keys

    def create_session(self, community: dict, body: dict) -> tuple[int, dict]:
        key = f"sessions/{body['id']}"
        if key in self.store:
            return 409, {"title": "Conflict", "reason": "SESSION_EXISTS"}
        self.store[key] = {**body, "community_id": community["id"]}
        return 201, self.store[key]

    def plugin_config(self, method: str, region: str, plugin: str, body: dict | None) -> tuple[int, dict]:
        if f"orgs/{region}" not in self.store:
            return 404, {"title": "Not Found", "reason": "NOT_FOUND"}
        key = f"plugin-configs/{region}/{plugin}"
        if method == "PUT":
            self.store[key] = {"organization_id": region, "plugin": plugin, **body}
            return 200, self.store[key]
        found = self.store.get(key)
        return (200, found) if found else (404, {"title": "Not Found", "reason": "NOT_FOUND"})

    def create(self, collection: str, body: dict) -> tuple[int, dict]:
        missing = [ref for ref in self.references(collection, body) if ref not in self.store]
        if missing:
            return 422, {"title": "Unprocessable Content", "detail": f"unknown {missing}"}
        key = f"{collection}/{body['id']}"
        if key in self.store:
            return 409, {"title": "Conflict", "reason": "DUPLICATE_ID"}
        self.store[key] = {**body, "roles": [], "proposal_call": None, "status": "draft"}
        return 201, self.store[key]

    @staticmethod
    def references(collection: str, body: dict) -> list[str]:
        """What a create refers to, as store keys: it must be there first."""
        match collection:
            case "orgs":
                return [f"orgs/{body['parent_id']}"] if body.get("parent_id") else []
            case "people":
                return [f"orgs/{a['organization_id']}" for a in body["affiliations"]]
            case "programs":
                return [f"orgs/{body['owner_organization_id']}"]
            case "communities":
                return [f"orgs/{body['host_organization_id']}", *(f"people/{p}" for p in body.get("facilitator_ids", [])),
                        *([f"programs/{body['program_id']}"] if body.get("program_id") else [])]
        raise AssertionError(collection)

    def register(self, community: dict, people: list[str]) -> tuple[int, dict]:
        if community["status"] != "open":
            return 409, {"title": "Conflict", "reason": "SIGNUP_CLOSED"}
        if any(f"people/{p}" not in self.store for p in people):
            return 422, {"title": "Unprocessable Content", "reason": "UNKNOWN_PERSON"}
        keys = {(community["id"], p) for p in people}
        if keys & self.registrations:
            return 409, {"title": "Conflict", "reason": "ALREADY_REGISTERED"}
        self.registrations |= keys
        return 201, {}

    def _handler(self):
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            def handle_one(self):
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                json_body = (self.headers.get("Content-Type") or "").startswith("application/json")
                body = (json.loads(raw) if raw else None) if json_body else raw
                gateway.requests.append((self.command, self.path, body, self.headers.get("Authorization", "")))
                status, payload = gateway.answer(self.command, self.path, body)
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json" if status < 400 else "application/problem+json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PUT = handle_one

            def log_message(self, *args):
                pass

        return Handler

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


def test_load_sends_every_item_in_order_with_the_token(gateway):
    seen = []
    report = seed.load(gateway.url + "/", "tok", seed.demo_items(), lambda item, outcome: seen.append((item.id, outcome)),
                       now=NOW)
    items = seed.demo_items()
    assert report.created == [item.id for item in items] and report.existing == []
    assert seen == [(item.id, "created") for item in items]
    assert {auth for *_, auth in gateway.requests} == {"Bearer tok"}
    first = gateway.requests[0]
    assert first[:3] == ("POST", "/api/v1/orgs", {"id": "ca", "name": "California", "kind": "state", "code": "CA",
                                                 "time_zone": "America/Los_Angeles"})
    people = [body for method, path, body, _ in gateway.requests if path == "/api/v1/people"]
    assert people[0] == {"id": "maria-lopez", "name": "Maria Lopez", "email": "maria.lopez@bayside.example.org",
                         "grade_bands": ["K-2", "3-5"],
                         "affiliations": [{"organization_id": "bayside-es", "position": "specialist"}]}
    call = gateway.store[f"programs/{seed.DEMO_PROGRAM.id}"]["proposal_call"]
    assert parse(call["due_at"]) == NOW + dt.timedelta(days=21)
    plc = gateway.store["communities/bay-ratios-plc"]
    assert plc["status"] == "open" and plc["capacity"] == 24 and plc["facilitator_ids"] == ["robert-nguyen"]
    assert plc["eligibility"] == {"positions": ["teacher", "specialist", "coach"], "organization_ids": ["ca-bay-area"]}
    assert plc["signup_window"] == {"opens_at": "2026-11-16T17:30:00Z", "soft_deadline": "2026-12-07T17:30:00Z",
                                    "closes_at": "2026-12-21T17:30:00Z"}
    assert "capacity" not in gateway.store["communities/lakeview-grade6-plc"]
    assert ("bay-ratios-plc", "daniel-kim") in gateway.registrations
    assert ("eastbay-elementary-math-teams", "james-carter") in gateway.registrations
    roles = gateway.store["people/elena-torres"]["roles"]
    assert [(r["role"], r["organization_id"]) for r in roles] == [("regional_lead", "ca-bay-area")]
    assert gateway.store["plugin-configs/ca-bay-area/equity-sessions"]["enabled"] is True
    uploads = [item for item in items if isinstance(item, seed.AssessmentData)]
    assert len([key for key in gateway.store if key.startswith("data-sets/")]) == len(uploads) > 0
    assert {item.importer for item in uploads} == {"caaspp-student-scores", "benchmark-csv", "caaspp-research-file"}


# The gateway's request model for each write the loader makes (path with ids replaced by "*").
REQUEST_MODELS = {
    ("POST", "/api/v1/orgs"): OrganizationCreate, ("POST", "/api/v1/people"): PersonCreate,
    ("POST", "/api/v1/people/*/roles"): RoleGrantBody, ("POST", "/api/v1/programs"): ProgramCreate,
    ("PUT", "/api/v1/programs/*/proposal-call"): ProposalCallOpen, ("POST", "/api/v1/communities"): CommunityCreate,
    ("POST", "/api/v1/communities/*/status"): CommunityStatusChange,
    ("POST", "/api/v1/communities/*/registrations"): RegistrationCreate,
    ("POST", "/api/v1/communities/*/team-registrations"): TeamRegistrationCreate,
    ("PUT", "/api/v1/regions/*/plugins/equity-sessions"): PluginConfigPut,
    ("POST", "/api/v1/programs/*/milestones"): MilestoneCreate,
    ("POST", "/api/v1/communities/*/sessions"): SessionCreate,
}


def test_every_body_the_loader_sends_is_valid_for_the_gateway(gateway):
    seed.load_demo(gateway.url, "tok")
    writes = [(method, path, body) for method, path, body, _ in gateway.requests
              if method != "GET" and not path.startswith("/api/v1/data-sets?")]  # uploads: checked by the fake
    for method, path, body in writes:
        parts = path.split("/")
        pattern = "/".join(parts[:4] + ["*" if len(parts) > 4 else ""] + parts[5:]).rstrip("/")
        # Strict models: an unknown or misspelt field fails here as it would at the gateway (422).
        REQUEST_MODELS[(method, pattern)].model_validate(body)
    assert {(method, path.split("/")[3]) for method, path, _ in writes} >= {
        ("POST", "orgs"), ("POST", "people"), ("POST", "programs"), ("PUT", "programs"), ("POST", "communities")}


def test_loading_twice_finds_everything_already_there_and_changes_nothing(gateway):
    seed.load_demo(gateway.url, "tok")
    writes_before = len(gateway.writes())
    creates = sum(1 for item in seed.demo_items()
                  if isinstance(item, (seed.Org, seed.Person, seed.Program, seed.Community, seed.Signup,
                                       seed.TeamSignup, seed.AssessmentData)))
    again = seed.load_demo(gateway.url, "tok")
    assert again.created == []
    assert again.existing == [item.id for item in seed.demo_items()]
    assert again.summary() == f"0 created, {len(seed.demo_items())} already there"
    # Only the creates were sent again (answered 409, or already imported); no grant, call or status change.
    assert len(gateway.writes()) - writes_before == creates


def test_a_registration_refused_for_a_rule_is_an_error_not_already_there(gateway):
    items = [*seed.DEMO_ORGANIZATIONS, *seed.DEMO_PEOPLE, seed.DEMO_PROGRAM, *seed.DEMO_PROGRAM_COMMUNITIES,
             seed.Signup("bay-ratios-plc", "daniel-kim")]  # never opened: sign-up closed
    with pytest.raises(seed.SeedError) as raised:
        seed.load(gateway.url, "tok", items)
    assert "409 Conflict" in str(raised.value)
    assert "signup 'bay-ratios-plc:daniel-kim'" in str(raised.value)


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


def test_loading_sends_the_timeline_and_the_sessions(gateway):
    seed.load(gateway.url, "tok", seed.demo_items(), now=NOW)
    timeline = gateway.store[f"programs/{seed.DEMO_PROGRAM.id}"]["milestones"]
    assert [m["kind"] for m in timeline] == ["signup_opens", "soft_deadline", "signup_closes", "kick_off",
                                             "in_person_session", "final_product_due"]
    plc = gateway.store["sessions/bay-ratios-plc-monthly"]
    assert (plc["community_id"], plc["start_time"], plc["end_time"]) == (
        "bay-ratios-plc", "2027-01-12T15:30:00-08:00", "2027-01-12T17:30:00-08:00")
    assert gateway.store["sessions/bay-ratios-equity-workshop"]["start_time"] == "2027-02-06T09:00:00-08:00"


def test_a_session_type_that_never_arrives_is_a_clear_error(gateway, monkeypatch):
    monkeypatch.setattr(seed, "SESSION_TYPE_WAIT_SECONDS", 0.3)
    items = [*seed.DEMO_ORGANIZATIONS, *seed.DEMO_PEOPLE, seed.DEMO_PROGRAM, *seed.DEMO_PROGRAM_COMMUNITIES,
             seed.DEMO_SESSIONS[-1]]  # the equity workshop, with the plugin never switched on
    with pytest.raises(seed.SeedError, match="offers no session type 'equity_culturally_responsive_tasks'"):
        seed.load(gateway.url, "tok", items, now=NOW)
    assert "sessions/bay-ratios-equity-workshop" not in gateway.store
