"""The kernel's plugin wiring: event scope, the configuration feed, the start-up load, failure reports."""

import threading

import pytest

from copnet.events.v1 import events_pb2
from copnet.kernel import auth
from copnet.kernel.events import SCOPE_HEADER, CloudEvent, parse_scope
from copnet.kernel.plugin_config import ConfigFeed, PluginConfig, PluginConfigs
from copnet.kernel.plugins import PluginHost
from copnet.kernel.service import (ServiceContext, ServiceDefinition, _emit_failing, load_plugin_configs,
                                   plugin_config_feed, report_repeated_failure)
from copnet.kernel.settings import load_settings
from copnet.plugins.v1 import plugins_pb2

SECRET = "s" * 40


@pytest.fixture
def context():
    settings = load_settings(secret=SECRET, region="test", nats_url=None)
    host = PluginHost(timeout_seconds=0.5)
    yield ServiceContext("membership", settings, host)
    host.close()


# -- scope on events ---------------------------------------------------------------------------
def test_an_events_scope_travels_as_the_copnetscope_header(context):
    event = context.event("copnet.membership.community.created", "c1",
                          events_pb2.CommunityCreated(community_id="c1"), scope=["state", "region-a", "county-a1"])
    headers = event.headers()
    assert headers[SCOPE_HEADER] == "state,region-a,county-a1"
    back = CloudEvent.from_nats(headers, event.body())
    assert back.scope == ("state", "region-a", "county-a1")
    assert CloudEvent.from_document(event.to_document()).scope == event.scope


def test_an_event_without_scope_has_no_header(context):
    event = context.event("copnet.membership.person.created", "p1", events_pb2.PersonChanged())
    assert event.scope == ()
    assert SCOPE_HEADER not in event.headers()
    assert CloudEvent.from_nats(event.headers(), event.body()).scope == ()
    # Documents written before events had a scope read back without one.
    document = event.to_document()
    del document["scope"]
    assert CloudEvent.from_document(document).scope == ()


def test_parse_scope_ignores_blanks():
    assert parse_scope(" a, b,,c ") == ("a", "b", "c")
    assert parse_scope(None) == parse_scope("") == ()


# -- the feed ----------------------------------------------------------------------------------
def config_event(context, organization_id, version, enabled=True, settings=None):
    message = plugins_pb2.PluginConfig(organization_id=organization_id, plugin="labels", version=version,
                                       enabled=enabled, region_id="region-a")
    message.settings.update(settings or {})
    return context.event("copnet.plugins.config.changed", f"{organization_id}/labels",
                         events_pb2.PluginConfigChanged(config=message), scope=["region-a"])


def test_config_events_are_applied_by_version(context):
    configs = PluginConfigs()
    feed = ConfigFeed(configs, lambda: [])
    for version in (2, 1, 3, 3):
        event = config_event(context, "region-a", version, settings={"label": f"v{version}"})
        feed.handle_message(event.headers(), event.body())
    assert configs.get("region-a", "labels").settings == {"label": "v3"}
    assert configs.get("region-a", "labels").region_id == "region-a"


def test_an_unreadable_config_event_is_ignored(context, caplog):
    configs = PluginConfigs()
    ConfigFeed(configs, lambda: []).handle_message({"ce-id": "x"}, b"{}")
    assert configs.all() == []
    assert any("unreadable plugin configuration event" in r.getMessage() for r in caplog.records)


def test_the_start_up_load_retries_until_it_succeeds():
    attempts = []

    def load():
        attempts.append(1)
        if len(attempts) < 3:
            raise ConnectionError("plugins service not up yet")
        return [PluginConfig("region-a", "labels", 1, True)]

    configs = PluginConfigs()
    feed = ConfigFeed(configs, load, first_backoff=0.001, max_backoff=0.002)
    feed.start()
    try:
        assert configs.wait_loaded(5)
    finally:
        feed.stop()
    assert len(attempts) == 3
    assert configs.get("region-a", "labels").version == 1


def test_a_reload_applies_what_changed_meanwhile():
    versions = iter([1, 2])
    loaded = threading.Event()

    def load():
        version = next(versions)
        if version == 2:
            loaded.set()
        return [PluginConfig("region-a", "labels", version, True)]

    configs = PluginConfigs()
    feed = ConfigFeed(configs, load, first_backoff=0.001)
    feed.start()
    try:
        assert configs.wait_loaded(5)
        feed.reload()
        assert loaded.wait(5)
    finally:
        feed.stop()
    assert configs.get("region-a", "labels").version == 2


class FakePluginsClient:
    def __init__(self, pages):
        self.pages = list(pages)
        self.requests = []
        self.tokens = []

    def call(self, method, request, *, token=None):
        assert method == "ListPluginConfigs"
        self.requests.append(request)
        self.tokens.append(token)
        return self.pages.pop(0)


def test_the_start_up_load_reads_every_page_with_secrets_and_a_service_token(context):
    first = plugins_pb2.ListPluginConfigsResponse(next_page_token="next")
    first.configs.add(organization_id="region-a", plugin="labels", version=4, enabled=True).settings.update(
        {"webhook_url": "https://example.org"})
    second = plugins_pb2.ListPluginConfigsResponse()
    second.configs.add(organization_id="county-a1", plugin="labels", version=1, enabled=False)
    client = FakePluginsClient([first, second])

    configs = load_plugin_configs(context, {"plugins": client})

    assert [(c.organization_id, c.version, c.enabled) for c in configs] == [("region-a", 4, True),
                                                                          ("county-a1", 1, False)]
    assert configs[0].settings == {"webhook_url": "https://example.org"}
    assert all(r.include_secrets and r.page_size > 0 for r in client.requests)
    assert [r.page_token for r in client.requests] == ["", "next"]
    identity = auth.verify_token(SECRET, client.tokens[0])
    assert identity.person_id == "service:membership"
    assert identity.grants == (auth.Grant(auth.Role.PLATFORM_ADMIN, ""),)


def test_which_feed_a_service_gets(context, monkeypatch):
    definition = ServiceDefinition("membership", "copnet.membership.v1.MembershipService", lambda *_: None)
    monkeypatch.setattr("copnet.kernel.service.SERVICE_NAMES", ("membership", "scheduling"))
    assert plugin_config_feed(definition, context) is None
    monkeypatch.setattr("copnet.kernel.service.SERVICE_NAMES", ("membership", "scheduling", "plugins"))
    assert isinstance(plugin_config_feed(definition, context), ConfigFeed)
    own = ServiceDefinition("plugins", "copnet.plugins.v1.PluginService", lambda *_: None)
    plugins_context = ServiceContext("plugins", context.settings, context.plugins)
    assert plugin_config_feed(own, plugins_context) is None
    reading_its_database = ServiceDefinition("plugins", "copnet.plugins.v1.PluginService", lambda *_: None,
                                             plugin_configs=lambda ctx: [PluginConfig("region-a", "labels", 1, True)])
    feed = plugin_config_feed(reading_its_database, plugins_context)
    feed.load_once()
    assert context.plugins.configs.get("region-a", "labels").version == 1


# -- failure reports ---------------------------------------------------------------------------
class RecordingUnitOfWork:
    def __init__(self):
        self.events = []

    def emit(self, event):
        self.events.append(event)


def test_a_repeated_failure_is_reported_as_a_plugin_failing_event(context, monkeypatch):
    uow = RecordingUnitOfWork()
    monkeypatch.setattr(ServiceContext, "transaction", lambda self, work: work(uow))
    _emit_failing(context, "labels", "county-a1", "validate_registration failed 5 times in a row; last: boom")
    [event] = uow.events
    assert (event.type, event.subject, event.source) == ("copnet.membership.plugin.failing", "labels",
                                                         "copnet/test/membership")
    payload = event.payload(events_pb2.PluginFailing)
    assert (payload.plugin, payload.organization_id, payload.service) == ("labels", "county-a1", "membership")
    assert payload.failures == 5 and "boom" in payload.reason


def test_a_report_retries_while_the_database_is_away(context, monkeypatch):
    uow = RecordingUnitOfWork()
    calls = []

    def transaction(self, work):
        calls.append(1)
        if len(calls) == 1:
            raise ConnectionError("MongoDB away")
        return work(uow)

    monkeypatch.setattr(ServiceContext, "transaction", transaction)
    _emit_failing(context, "labels", "region-a", "boom", backoff=0)
    assert len(calls) == 2 and len(uow.events) == 1


def test_failures_outside_an_organization_are_only_logged(context, monkeypatch, caplog):
    monkeypatch.setattr(ServiceContext, "transaction", lambda self, work: pytest.fail("no event expected"))
    report_repeated_failure(context, "labels", "", "boom")
    assert any("outside any organization" in r.getMessage() for r in caplog.records)
