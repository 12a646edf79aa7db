"""The built-in plugins in the real stack: configured per region through the REST API and used by the
services that call them — a veto in one region only, webhooks for one region's sign-ups, a
OneRoster import that a second run leaves unchanged. Ids start with `bp`."""

from __future__ import annotations

import http.server
import json
import pathlib
import threading

import grpc
import pytest
from copnet.membership.v1 import membership_pb2

from tests.integration.http import request
from tests.integration.signup_world import World

pytestmark = pytest.mark.integration

FIXTURES = pathlib.Path(__file__).resolve().parents[1] / "fixtures" / "oneroster"


class Region:
    """A region of its own (own state) with an open PLC hosted by its district."""

    def __init__(self, stack, prefix: str):
        self.stack = stack
        self.world = World(stack, prefix)
        self.id = f"{prefix}-region"
        self.lead = stack.token("regional_lead", self.id, person=f"{prefix}-lead")
        self.community = self.world.community("plc", 200)
        self.people = 0

    def teacher(self, position: str = "teacher") -> str:
        self.people += 1
        return self.world.person(f"p{self.people}", (self.world.school, position))

    def sign_up(self, position: str = "teacher") -> grpc.RpcError | membership_pb2.Registration:
        person = self.teacher(position)
        try:
            return self.world.register(self.community, person)
        except grpc.RpcError as error:
            return error

    def configure(self, plugin: str, body: dict, organization: str | None = None):
        reply = request("PUT", f"{self.stack.gateway_url}/api/v1/regions/{organization or self.id}/plugins/{plugin}",
                        json_body=body, token=self.lead)
        assert reply.status == 200, reply.text
        return reply.json()


@pytest.fixture(scope="module")
def regions(stack):
    north, south = Region(stack, "bpn"), Region(stack, "bps")
    yield north, south
    north.world.close()
    south.world.close()


def test_the_built_in_plugins_are_listed_with_their_hooks_and_settings(stack):
    reply = request("GET", f"{stack.gateway_url}/api/v1/plugins")
    assert reply.status == 200, reply.text
    listed = {plugin["name"]: plugin for plugin in reply.json()["items"]}
    assert set(listed["equity-sessions"]["hooks"]) == {"register_session_types"}
    assert set(listed["local-eligibility"]["hooks"]) == {"validate_registration"}
    assert set(listed["webhook-notify"]["hooks"]) == {"subscribed_event_types", "react_to_event",
                                                      "register_notifiers"}
    assert set(listed["icalendar-feed"]["hooks"]) == {"register_calendar_exporters"}
    assert set(listed["email-notify"]["hooks"]) == {"register_notifiers"}
    assert listed["email-notify"]["settings_schema"]["required"] == ["host", "from_address"]
    assert set(listed["oneroster"]["hooks"]) == {"register_roster_sources", "register_assessment_importers"}
    for assessments in ("caaspp", "benchmark-csv", "edfi"):
        assert set(listed[assessments]["hooks"]) == {"register_assessment_importers"}
    assert set(listed["reflection-metrics"]["hooks"]) == {"register_reflection_metrics"}
    assert listed["oneroster"]["title"].startswith("OneRoster roster import")
    assert "url" in listed["webhook-notify"]["settings_schema"]["properties"]


# -- equity-sessions -----------------------------------------------------------------------------
EQUITY_KEYS = {"equity_culturally_responsive_tasks", "equity_grouping_and_tracking",
               "equity_student_voice_belonging", "equity_multilingual_learners"}


def test_equity_session_types_appear_for_the_enabled_regions_communities_only(stack, regions):
    north, south = regions
    north.configure("equity-sessions", {"enabled": True, "settings": {
        "hidden": ["equity_grouping_and_tracking"],
        "extra_session_types": [{"key": "bp_family_math_night", "title": "Family math night",
                                 "default_duration_minutes": 90}]}})

    def keys(region: Region) -> set[str]:
        reply = request("GET", f"{stack.gateway_url}/api/v1/session-types?community_id={region.community}")
        assert reply.status == 200, reply.text
        return {item["key"] for item in reply.json()["items"]}

    # A region without the plugin never sees its types (checked first: it needs no waiting).
    assert "regular_convening" in keys(south)
    assert not (EQUITY_KEYS | {"bp_family_math_night"}) & keys(south)
    wanted = EQUITY_KEYS - {"equity_grouping_and_tracking"} | {"bp_family_math_night"}
    stack.wait_for(lambda: wanted <= keys(north), 30, "the north community's equity session types")
    assert "equity_grouping_and_tracking" not in keys(north)
    assert not (EQUITY_KEYS | {"bp_family_math_night"}) & keys(south)


# -- local-eligibility ---------------------------------------------------------------------------
def test_local_eligibility_vetoes_sign_ups_in_its_region_only(stack, regions):
    north, south = regions
    config = north.configure("local-eligibility", {"enabled": True, "settings": {
        "allowed_positions": ["coach", "specialist"],
        "message": "North's communities are for {requirement}."}})
    assert config["enabled"] is True and config["settings"]["allowed_positions"] == ["coach", "specialist"]

    refusals = []

    def refused() -> bool:
        refusals.append(north.sign_up("teacher"))
        return isinstance(refusals[-1], grpc.RpcError)

    stack.wait_for(refused, 30, "local-eligibility's veto in the north region")
    refusal = refusals[-1]
    assert refusal.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert "local-eligibility" in refusal.details()
    assert "North's communities are for coaches or math specialists." in refusal.details()

    assert isinstance(north.sign_up("coach"), membership_pb2.Registration)
    assert isinstance(south.sign_up("teacher"), membership_pb2.Registration)   # no configuration in the south

    north.configure("local-eligibility", {"enabled": False, "settings": {}})
    stack.wait_for(lambda: isinstance(north.sign_up("teacher"), membership_pb2.Registration), 30,
                   "sign-ups in the north region after local-eligibility is switched off")


def test_a_veto_through_rest_is_409_plugin_veto(stack, regions):
    north, _ = regions
    north.configure("local-eligibility", {"enabled": True, "settings": {"allowed_grade_bands": ["9-12"]}})
    person = north.teacher()
    token = north.world.token_of(person)

    def status():
        reply = request("POST", f"{stack.gateway_url}/api/v1/communities/{north.community}/registrations",
                        json_body={"acknowledge_commitment": True}, token=token)
        return reply

    replies = []
    stack.wait_for(lambda: replies.append(status()) or replies[-1].status == 409, 30, "a 409 veto through REST")
    problem = replies[-1].json()
    assert problem["reason"] == "PLUGIN_VETO"
    assert "teaching grades 9-12" in problem["detail"]
    north.configure("local-eligibility", {"enabled": False, "settings": {}})


# -- webhook-notify ------------------------------------------------------------------------------
class Receiver:
    def __init__(self):
        self.requests: list[tuple[dict, dict]] = []
        self.arrived = threading.Condition()
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))))
                with receiver.arrived:
                    receiver.requests.append((dict(self.headers), body))
                    receiver.arrived.notify_all()
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/copnet"
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()

    def about(self, registration_id: str) -> list[tuple[dict, dict]]:
        with self.arrived:
            return [(h, b) for h, b in self.requests if b["subject"] == registration_id]

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    made = Receiver()
    yield made
    made.close()


def test_webhook_notify_posts_a_regions_registrations_to_its_url(stack, regions, receiver):
    north, south = regions
    config = north.configure("webhook-notify", {"enabled": True, "settings": {"url": receiver.url}})
    assert config["settings"]["url"] == {"set": True}     # write-only through the API
    # The configuration reaches the plugins service's consumer by event: sign up until one is posted.
    south_registration = south.sign_up()
    assert isinstance(south_registration, membership_pb2.Registration)
    posted: list[str] = []

    def delivered() -> bool:
        registration = north.sign_up()
        assert isinstance(registration, membership_pb2.Registration)
        posted.append(registration.id)
        return any(receiver.about(rid) for rid in posted)

    stack.wait_for(delivered, 30, "a north registration posted to the webhook")
    last = posted[-1]
    stack.wait_for(lambda: receiver.about(last), 30, "the latest north registration posted")
    [(headers, body)] = receiver.about(last)
    assert body["type"] == "copnet.membership.registration.created"
    assert headers["X-Copnet-Event-Id"] == body["id"]
    assert body["data"]["registration"]["community_id"] == north.community
    assert north.id in body["scope"]
    # The south region's sign-up, published before, is never posted.
    assert receiver.about(south_registration.id) == []
    north.configure("webhook-notify", {"enabled": False})


def test_webhook_notify_slack_format_for_a_cancellation(stack, regions, receiver):
    north, _ = regions
    north.configure("webhook-notify", {"enabled": True, "settings": {
        "url": receiver.url, "format": "slack", "events": ["copnet.membership.registration.cancelled"]}})
    person = north.teacher()
    registration = north.world.register(north.community, person)
    cancelled = []

    def posted() -> bool:
        if not cancelled:
            north.world.cancel(registration.id, north.world.token_of(person))
            cancelled.append(registration.id)
        return any("text" in body for _, body in receiver.requests)

    # The configuration may still be on its way: sign up and cancel fresh people until one is posted.
    def one_more() -> bool:
        other = north.teacher()
        reg = north.world.register(north.community, other)
        north.world.cancel(reg.id, north.world.token_of(other))
        return any("text" in body for _, body in receiver.requests)

    stack.wait_for(lambda: posted() or one_more(), 30, "a cancellation posted as a Slack message")
    texts = [body["text"] for _, body in receiver.requests]
    assert all(text.endswith(f"cancelled their registration for {north.community}.") for text in texts)
    north.configure("webhook-notify", {"enabled": False})


@pytest.mark.parametrize(("plugin", "settings", "field"), [
    ("webhook-notify", {"url": "http://169.254.169.254/latest/meta-data/iam"}, "settings.url"),
    ("webhook-notify", {"url": "http://10.0.0.1:8080/hook"}, "settings.url"),
    ("email-notify", {"host": "169.254.169.254", "security": "none", "from_address": "r@bp.example.org"},
     "settings.host"),
])
def test_a_destination_the_instance_does_not_allow_is_refused_when_saved(stack, regions, plugin, settings, field):
    north, _ = regions
    reply = request("PUT", f"{stack.gateway_url}/api/v1/regions/{north.id}/plugins/{plugin}",
                    json_body={"enabled": True, "settings": settings}, token=north.lead)
    assert reply.status == 422, reply.text
    problem = reply.json()
    assert [error["field"] for error in problem["errors"]] == [field]
    assert "destination refused" in reply.text
    assert "169.254" not in reply.text and "10.0.0.1" not in reply.text and "meta-data" not in reply.text


def test_a_new_webhook_url_needs_the_signing_secret_again(stack, regions, receiver):
    north, _ = regions
    url = f"{stack.gateway_url}/api/v1/regions/{north.id}/plugins/webhook-notify"
    north.configure("webhook-notify", {"enabled": False, "settings": {"url": receiver.url, "signing_secret": "s3cret"}})
    moved = receiver.url.replace("/copnet", "/elsewhere")
    for kept in ({}, {"signing_secret": {"set": True}}):
        reply = request("PUT", url, token=north.lead, json_body={"enabled": False, "settings": {"url": moved, **kept}})
        assert reply.status == 422, reply.text
        problem = reply.json()
        assert problem["reason"] == "SECRET_REQUIRED"
        assert [error["field"] for error in problem["errors"]] == ["settings.signing_secret"]
    # The same URL keeps it; the new one with the secret given again is taken.
    kept = north.configure("webhook-notify", {"enabled": False, "settings": {"url": {"set": True}, "format": "slack"}})
    assert kept["settings"]["signing_secret"] == {"set": True}
    again = north.configure("webhook-notify", {"enabled": False, "settings": {"url": moved, "signing_secret": "s3cret"}})
    assert again["settings"]["signing_secret"] == {"set": True}


# -- oneroster -----------------------------------------------------------------------------------
def bundle() -> dict[str, str]:
    return {path.name: path.read_text(encoding="utf-8") for path in FIXTURES.glob("*.csv")}


def test_a_oneroster_import_creates_the_roster_and_a_second_changes_nothing(stack, regions):
    north, _ = regions
    north.configure("oneroster", {"enabled": True, "settings": {
        "parent_organization_id": north.world.county, "id_prefix": "bpor"}})
    url = f"{stack.gateway_url}/api/v1/regions/{north.id}/roster-imports"

    def run(dry_run=False) -> dict:
        replies = []
        # The plugins service reads its own configuration at once; retry only a not-yet-enabled answer.
        stack.wait_for(lambda: replies.append(request("POST", url, json_body={
            "source": "oneroster-1.1-csv", "files": bundle(), "dry_run": dry_run}, token=north.lead))
            or replies[-1].status != 409, 30, "the roster import")
        assert replies[-1].status == 200, replies[-1].text
        return replies[-1].json()

    dry = run(dry_run=True)
    assert dry["dry_run"] is True and dry["organizations"]["created"] == 6
    assert request("GET", f"{stack.gateway_url}/api/v1/orgs/bpor-dist-cwusd").status == 404

    first = run()
    assert first["plugin"] == "oneroster"
    assert first["organizations"] == {"created": 6, "updated": 0, "unchanged": 0, "failed": 0}
    assert first["people"] == {"created": 12, "updated": 0, "unchanged": 0, "failed": 0}
    assert first["affiliations"] == {"created": 13, "updated": 0, "unchanged": 0, "failed": 0}
    bad_rows = [(e["file"], e["row"]) for e in first["errors"]]
    assert bad_rows == [("orgs.csv", 10), ("orgs.csv", 11), ("users.csv", 19), ("users.csv", 20),
                        ("users.csv", 21), ("users.csv", 22)]

    district = request("GET", f"{stack.gateway_url}/api/v1/orgs/bpor-dist-cwusd").json()
    assert district["kind"] == "district" and district["parent_id"] == north.world.county
    assert district["code"] == "0612345"
    school = request("GET", f"{stack.gateway_url}/api/v1/orgs/bpor-sch-harbor").json()
    assert school["parent_id"] == "bpor-dist-cwusd"
    admin = stack.token("platform_admin")
    principal = request("GET", f"{stack.gateway_url}/api/v1/people/bpor-a-2001", token=admin).json()
    assert principal["name"] == "Linh Tran"
    assert [(a["organization_id"], a["position"]) for a in principal["affiliations"]] == [
        ("bpor-sch-harbor", "site_admin")]
    teacher = request("GET", f"{stack.gateway_url}/api/v1/people/bpor-t-1001", token=admin).json()
    assert teacher["grade_bands"] == ["K-2"]
    # Students never reach copnet.
    assert request("GET", f"{stack.gateway_url}/api/v1/people/bpor-s-5001", token=admin).status == 404

    second = run()
    assert second["organizations"] == {"created": 0, "updated": 0, "unchanged": 6, "failed": 0}
    assert second["people"] == {"created": 0, "updated": 0, "unchanged": 12, "failed": 0}
    assert second["affiliations"] == {"created": 0, "updated": 0, "unchanged": 13, "failed": 0}
    assert [(e["file"], e["row"]) for e in second["errors"]] == bad_rows


def test_a_roster_import_needs_the_plugin_enabled_there(stack, regions):
    _, south = regions
    reply = request("POST", f"{stack.gateway_url}/api/v1/regions/{south.id}/roster-imports",
                    json_body={"source": "oneroster-1.1-csv", "files": bundle()}, token=south.lead)
    assert reply.status == 409, reply.text
    assert reply.json()["reason"] == "PLUGIN_NOT_ENABLED"
