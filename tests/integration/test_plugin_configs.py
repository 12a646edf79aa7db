"""Per-organization plugin configuration through the gateway and the plugins service: versions,
validation, write-only secrets, access, county overrides, propagation to other services and the
automatic disabling of a failing plugin."""

from __future__ import annotations

import asyncio

import grpc
import nats
import pymongo
import pytest
from copnet.events.v1 import events_pb2
from copnet.kernel.errors import details_of
from copnet.kernel.events import CloudEvent, source_for, stream_name
from copnet.membership.v1 import membership_pb2
from copnet.plugins.v1 import plugins_pb2

from tests.integration.http import request
from tests.integration.jetstream_events import about
from tests.integration.signup_world import World

pytestmark = pytest.mark.integration

PREFIX = "pcf"


class Regions:
    """Region `pcf-region` (World: two county offices, a district, schools) and a second region."""

    def __init__(self, stack):
        self.stack = stack
        self.world = World(stack, PREFIX)
        self.region = f"{PREFIX}-region"
        self.county = self.world.county
        self.other = f"{PREFIX}-region2"
        self.world.membership(self.world.admin).CreateOrganization(membership_pb2.CreateOrganizationRequest(
            organization_id=self.other, name="Other region", kind=membership_pb2.ORGANIZATION_KIND_REGION,
            parent_id=f"{PREFIX}-state"))
        self.lead = stack.token("regional_lead", self.region, person=f"{PREFIX}-lead")
        self.other_lead = stack.token("regional_lead", self.other, person=f"{PREFIX}-lead2")
        self.county_admin = stack.token("county_admin", self.county, person=f"{PREFIX}-cadmin")
        self.community = self.world.community("plc", 500)
        self.people = 0

    def url(self, org: str, plugin: str = "", suffix: str = "") -> str:
        path = f"{self.stack.gateway_url}/api/v1/regions/{org}/plugins"
        return path + (f"/{plugin}" if plugin else "") + suffix

    def put(self, org: str, plugin: str, body: dict, token: str | None = None):
        return request("PUT", self.url(org, plugin), json_body=body, token=token if token is not None else self.lead)

    def get(self, org: str, plugin: str = "", suffix: str = "", token: str | None = None):
        return request("GET", self.url(org, plugin, suffix), token=token if token is not None else self.lead)

    def sign_up(self) -> str:
        """A new teacher signs up for the region's community: "ok" or the refusal's reason."""
        return self.sign_up_answer()[0]

    def sign_up_answer(self) -> tuple[str, str]:
        """("ok", "") or the refusal's reason and message."""
        self.people += 1
        person = self.world.person(f"t{self.people}")
        try:
            self.world.register(self.community, person)
            return "ok", ""
        except grpc.RpcError as error:
            details = details_of(error)
            return details.reason or error.code().name, details.message


@pytest.fixture(scope="module")
def regions(stack):
    world = Regions(stack)
    yield world
    world.world.close()


def stored(stack, org: str, plugin: str) -> dict:
    with pymongo.MongoClient(stack.mongodb_uri) as client:
        return client[stack.settings.database_name("plugins")].configs.find_one({"_id": f"{org}/{plugin}"})


def test_installed_plugins_are_public_with_schema_hooks_and_secrets(stack):
    reply = request("GET", f"{stack.gateway_url}/api/v1/plugins")
    assert reply.status == 200, reply.text
    plugins = {plugin["name"]: plugin for plugin in reply.json()["items"]}
    assert {"core-session-types", "local-eligibility", "webhook-notify", "oneroster"} <= plugins.keys()
    webhook = plugins["webhook-notify"]
    assert "react_to_event" in webhook["hooks"] and "url" in webhook["secret_fields"]
    assert "url" in webhook["settings_schema"]["properties"]
    assert plugins["oneroster"]["roster_sources"]
    one = request("GET", f"{stack.gateway_url}/api/v1/plugins/local-eligibility")
    assert one.status == 200 and one.json()["name"] == "local-eligibility"
    missing = request("GET", f"{stack.gateway_url}/api/v1/plugins/no-such-plugin")
    assert (missing.status, missing.json()["reason"]) == (404, "UNKNOWN_PLUGIN")


def test_a_configuration_is_versioned_with_its_history_and_a_no_op_is_no_version(regions):
    first = regions.put(regions.region, "equity-sessions", {"enabled": False, "reason": "not yet"})
    assert first.status == 200, first.text
    assert first.json()["version"] == 1 and first.json()["changed"] is True
    assert first.json()["organization_kind"] == "region" and first.json()["updated_by"] == f"{PREFIX}-lead"

    again = regions.put(regions.region, "equity-sessions", {"enabled": False, "reason": "still not"})
    assert (again.json()["version"], again.json()["changed"]) == (1, False)

    second = regions.put(regions.region, "equity-sessions", {"enabled": True, "reason": "go"})
    assert (second.json()["version"], second.json()["enabled"]) == (2, True)

    read = regions.get(regions.region, "equity-sessions")
    assert read.status == 200 and read.json()["version"] == 2
    history = regions.get(regions.region, "equity-sessions", "/history").json()["items"]
    assert [(r["version"], r["enabled"], r["reason"], r["changed_by"]) for r in history] == [
        (2, True, "go", f"{PREFIX}-lead"), (1, False, "not yet", f"{PREFIX}-lead")]
    listed = regions.get(regions.region).json()["items"]
    assert "equity-sessions" in {config["plugin"] for config in listed}


def test_invalid_settings_are_refused_naming_each_field(regions):
    reply = regions.put(regions.region, "local-eligibility", {
        "enabled": True, "settings": {"allowed_positions": ["wizard"], "colour": "blue"}})
    assert reply.status == 422, reply.text
    problem = reply.json()
    assert problem["reason"] == "INVALID_SETTINGS"
    fields = {error["field"] for error in problem["errors"]}
    assert "settings.colour" in fields
    assert any(field.startswith("settings.allowed_positions") for field in fields)
    assert regions.get(regions.region, "local-eligibility").status in (200, 404)  # nothing written by this


def test_unknown_plugins_and_organizations_that_are_not_regions_are_refused(regions):
    unknown = regions.put(regions.region, "no-such-plugin", {"enabled": True})
    assert (unknown.status, unknown.json()["reason"]) == (404, "UNKNOWN_PLUGIN")
    district = regions.put(regions.world.district, "equity-sessions", {"enabled": True})
    assert (district.status, district.json()["reason"]) == (422, "NOT_A_REGION")


def test_secrets_are_write_only_and_kept_when_left_out(stack, regions):
    url = "http://127.0.0.1:9/never-called"
    written = regions.put(regions.region, "webhook-notify", {"enabled": False, "settings": {"url": url}})
    assert written.status == 200, written.text
    assert written.json()["settings"]["url"] == {"set": True}
    assert written.json()["settings"]["signing_secret"] == {"set": False}
    assert url not in written.text

    changed = regions.put(regions.region, "webhook-notify", {"enabled": False, "settings": {"format": "slack"}})
    assert changed.status == 200, changed.text
    assert changed.json()["settings"] == {"format": "slack", "url": {"set": True}, "signing_secret": {"set": False}}
    assert stored(stack, regions.region, "webhook-notify")["settings"]["url"] == url

    # A read sent back as it is keeps the secret too.
    round_trip = regions.put(regions.region, "webhook-notify", {"enabled": False,
                                                                  "settings": changed.json()["settings"]})
    assert round_trip.json()["changed"] is False
    for reply in (regions.get(regions.region, "webhook-notify"), regions.get(regions.region),
                  regions.get(regions.region, "webhook-notify", "/history")):
        assert reply.status == 200 and url not in reply.text
    # The event says what changed and nothing more: every process fetches the settings over gRPC.
    events = about(stack, "plugins.config.changed", f"{regions.region}/webhook-notify")
    assert events and set(events[-1].data) <= {"organization_id", "plugin", "version", "enabled"}
    assert not any(url in event.body().decode() for event in events)


def test_only_a_regional_lead_over_it_or_a_platform_admin_reads_and_changes_it(stack, regions):
    body = {"enabled": False}
    assert regions.put(regions.region, "equity-sessions", body, token=regions.other_lead).status == 403
    assert regions.put(regions.region, "equity-sessions", body, token=regions.county_admin).status == 403
    assert regions.put(regions.county, "equity-sessions", body, token=regions.county_admin).status == 403
    assert regions.put(regions.region, "equity-sessions", body, token="").status == 401
    assert regions.get(regions.region, "equity-sessions", token=regions.other_lead).status == 403
    assert regions.get(regions.region, "equity-sessions", token=regions.county_admin).status == 403
    assert regions.get(regions.region, token="").status == 401
    assert regions.get(regions.region, "equity-sessions", "/history", token="").status == 401
    admin = regions.get(regions.region, "equity-sessions", token=stack.token("platform_admin"))
    assert admin.status == 200


def test_a_stale_expected_version_is_refused(regions):
    current = regions.put(regions.other, "equity-sessions", {"enabled": True}, token=regions.other_lead).json()
    stale = regions.put(regions.other, "equity-sessions", {"enabled": False, "expected_version": current["version"] - 1},
                        token=regions.other_lead)
    assert (stale.status, stale.json()["reason"]) == (409, "VERSION_MISMATCH")
    fresh = regions.put(regions.other, "equity-sessions", {"enabled": False, "expected_version": current["version"]},
                        token=regions.other_lead)
    assert fresh.status == 200 and fresh.json()["version"] == current["version"] + 1
    new = regions.put(regions.other, "local-eligibility", {"enabled": False, "expected_version": 1},
                      token=regions.other_lead)
    assert (new.status, new.json()["reason"]) == (409, "VERSION_MISMATCH")


def test_a_county_override_is_its_own_configuration_and_listed_where_the_plugin_is(stack, regions):
    assert regions.put(regions.region, "oneroster", {"enabled": False}).status == 200
    override = regions.put(regions.county, "oneroster", {"enabled": True, "settings": {"id_prefix": "pcf"}})
    assert override.status == 200, override.text
    assert override.json()["organization_kind"] == "county_office"
    assert override.json()["region_id"] == regions.region
    assert [c["plugin"] for c in regions.get(regions.county).json()["items"]] == ["oneroster"]
    placements = request("GET", f"{stack.gateway_url}/api/v1/plugins/oneroster").json()["enabled_in"]
    mine = {p["organization_id"]: p["enabled"] for p in placements if p["organization_id"].startswith(PREFIX)}
    assert mine == {regions.region: False, regions.county: True}


def test_a_change_reaches_membership_within_seconds_and_only_in_its_region(stack, regions):
    """local-eligibility (membership's validate_registration) follows each PUT without a restart."""
    rules = {"allowed_positions": ["coach"], "message": "Coaches only here."}
    assert regions.put(regions.region, "local-eligibility", {"enabled": True, "settings": rules}).status == 200
    stack.wait_for(lambda: regions.sign_up() == "PLUGIN_VETO", timeout=15, what="the veto in force")

    # The other region has no configuration: its sign-ups are not asked.
    other_district = f"{PREFIX}-district2"
    regions.world.membership(regions.world.admin).CreateOrganization(membership_pb2.CreateOrganizationRequest(
        organization_id=f"{PREFIX}-county3", name="c3", kind=membership_pb2.ORGANIZATION_KIND_COUNTY_OFFICE,
        parent_id=regions.other))
    regions.world.membership(regions.world.admin).CreateOrganization(membership_pb2.CreateOrganizationRequest(
        organization_id=other_district, name="d2", kind=membership_pb2.ORGANIZATION_KIND_DISTRICT, parent_id=f"{PREFIX}-county3"))
    elsewhere = regions.world.community("plc-elsewhere", 10, host=other_district)
    teacher = regions.world.person("elsewhere", (other_district, "teacher"))
    assert regions.world.register(elsewhere, teacher).status

    assert regions.put(regions.region, "local-eligibility", {"enabled": False, "settings": rules}).status == 200
    stack.wait_for(lambda: regions.sign_up() == "ok", timeout=15, what="the veto lifted")


def publish(stack, event: CloudEvent) -> None:
    """Publish `event` straight onto the stream, as anything that can reach NATS could."""
    async def go():
        connection = await nats.connect(stack.nats_url)
        try:
            await connection.jetstream().publish(event.nats_subject(stack.settings.region), event.body(),
                                                 headers=event.headers(), timeout=5)
        finally:
            await connection.close()

    asyncio.run(go())


def test_a_forged_change_event_with_a_huge_version_changes_nothing(stack, regions):
    """An event is a hint to fetch: the version and settings applied are the plugins service's."""
    rules = {"allowed_positions": ["coach"], "message": "Coaches only here."}
    assert regions.put(regions.region, "local-eligibility", {"enabled": True, "settings": rules}).status == 200
    stack.wait_for(lambda: regions.sign_up() == "PLUGIN_VETO", timeout=15, what="the veto in force")
    forged = events_pb2.PluginConfigChanged(organization_id=regions.region, plugin="local-eligibility",
                                            version=2 ** 62, enabled=False)
    publish(stack, CloudEvent.of("copnet.plugins.config.changed", source_for(stack.settings.region, "plugins"),
                                 f"{regions.region}/local-eligibility", forged))

    # A real change made after the forged event still takes effect (a forged version held would
    # shadow it), and the plugin the forged event said was off is still on.
    reworded = {**rules, "message": "Coaches only, really."}
    assert regions.put(regions.region, "local-eligibility", {"enabled": True, "settings": reworded}).status == 200
    stack.wait_for(lambda: "really" in regions.sign_up_answer()[1], timeout=15, what="the reworded veto")
    assert regions.put(regions.region, "local-eligibility", {"enabled": False, "settings": reworded}).status == 200
    stack.wait_for(lambda: regions.sign_up() == "ok", timeout=15, what="the veto lifted")


def report_failing(stack, plugin: str, organization_id: str, reason: str, token: str):
    return stack.clients["plugins"].as_caller(token).ReportPluginFailing(
        plugins_pb2.ReportPluginFailingRequest(plugin=plugin, organization_id=organization_id, reason=reason,
                                               failures=5))


def test_a_services_failing_report_switches_it_off_with_a_revision_and_events(stack, regions):
    on = regions.put(regions.county, "equity-sessions", {"enabled": True})
    assert on.status == 200, on.text
    version = on.json()["version"]
    membership = stack.service_token("membership")
    reply = report_failing(stack, "equity-sessions", regions.county, "register_session_types timed out after 2.0s",
                           membership)
    assert reply.switched_off and reply.config.version == version + 1 and not reply.config.enabled

    config = regions.get(regions.county, "equity-sessions").json()
    assert not config["enabled"] and config["version"] == version + 1
    assert config["updated_by"] == "copnet:auto-disable"
    assert "timed out" in config["reason"] and "in membership" in config["reason"]
    latest = regions.get(regions.county, "equity-sessions", "/history").json()["items"][0]
    assert (latest["changed_by"], latest["enabled"]) == ("copnet:auto-disable", False)
    subject = f"{regions.county}/equity-sessions"
    stack.wait_for(lambda: about(stack, "plugins.plugin.auto_disabled", subject), timeout=10,
                   what="plugin.auto_disabled")
    [disabled] = about(stack, "plugins.plugin.auto_disabled", subject)
    assert "settings" not in disabled.data and int(disabled.data["version"]) == version + 1
    stack.wait_for(lambda: any(int(e.data["version"]) == version + 1
                               for e in about(stack, "plugins.config.changed", subject)),
                   timeout=10, what="config.changed")

    # Already off: another report changes nothing.
    again = report_failing(stack, "equity-sessions", regions.county, "again", membership)
    assert not again.switched_off
    assert regions.get(regions.county, "equity-sessions").json()["version"] == version + 1


def test_only_a_service_can_switch_a_plugin_off_not_a_person_nor_an_event(stack, regions):
    on = regions.put(regions.region, "equity-sessions", {"enabled": True})
    assert on.status == 200, on.text
    with pytest.raises(grpc.RpcError) as refused:
        report_failing(stack, "equity-sessions", regions.region, "no", stack.token("platform_admin"))
    assert refused.value.code() == grpc.StatusCode.PERMISSION_DENIED

    # The old event is nobody's business any more: no consumer of the plugins service reads it.
    forged = CloudEvent.of("copnet.membership.plugin.failing", source_for(stack.settings.region, "membership"),
                           f"{regions.region}/equity-sessions", plugins_pb2.ReportPluginFailingRequest(
                               plugin="equity-sessions", organization_id=regions.region, reason="forged"))
    publish(stack, forged)
    subject = forged.nats_subject(stack.settings.region)
    assert not [name for name, filters in consumer_filters(stack).items()
                if name.startswith("plugins-") and any(subject_matches(f, subject) for f in filters)]
    assert regions.get(regions.region, "equity-sessions").json()["enabled"] is True


def consumer_filters(stack) -> dict[str, list[str]]:
    async def go():
        connection = await nats.connect(stack.nats_url)
        try:
            infos = await connection.jetstream().consumers_info(stream_name(stack.settings.region))
            return {info.name: list(info.config.filter_subjects or ([info.config.filter_subject]
                                                                     if info.config.filter_subject else []))
                    for info in infos}
        finally:
            await connection.close()

    return asyncio.run(go())


def subject_matches(pattern: str, subject: str) -> bool:
    wanted, tokens = pattern.split("."), subject.split(".")
    for index, token in enumerate(wanted):
        if token == ">":
            return len(tokens) > index
        if index >= len(tokens) or token not in ("*", tokens[index]):
            return False
    return len(wanted) == len(tokens)


def test_the_dashboard_is_for_people_over_the_region(stack, regions):
    reply = request("GET", f"{stack.gateway_url}/api/v1/regions/{regions.region}/dashboard", token=regions.lead)
    assert reply.status == 200, reply.text
    assert reply.json()["organization_id"] == regions.region and isinstance(reply.json()["panels"], list)
    assert request("GET", f"{stack.gateway_url}/api/v1/regions/{regions.region}/dashboard").status == 401
    assert request("GET", f"{stack.gateway_url}/api/v1/regions/{regions.region}/dashboard",
                   token=regions.other_lead).status == 403
