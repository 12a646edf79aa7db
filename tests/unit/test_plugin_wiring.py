"""The kernel's plugin wiring: event scope, the configuration feed, the start-up load, failure reports."""

import threading

import grpc
import pytest

from copnet.events.v1 import events_pb2
from copnet.kernel import auth
from copnet.kernel.events import SCOPE_HEADER, CloudEvent, parse_scope
from copnet.kernel.plugin_config_feed import ConfigFeed, PluginConfig, PluginConfigs
from copnet.kernel.plugin_host import PluginHost
from copnet.kernel.clients import Clients
from copnet.kernel.service import (ServiceContext, ServiceDefinition, load_plugin_configs, plugin_config_feed,
                                   report_repeated_failure, send_failing_report)
from copnet.kernel.settings import load_settings
from copnet.plugins.v1 import plugins_pb2
from tests.support import tokens
from tests.support.fake_grpc import FakeChannel

SECRET = "s" * 40


@pytest.fixture
def context():
    settings = tokens.settings("membership", region="test", nats_url=None)
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


def clients_answering(answer):
    """Clients whose plugins channel answers every call with `answer(call)` (a FakeChannel)."""
    channels = {}

    def open_channel(spec, address):
        channels[spec.name] = FakeChannel(answer)
        return channels[spec.name]

    return Clients(load_settings(secret=SECRET, region="test"), open_channel=open_channel), channels


def test_the_start_up_load_reads_every_page_with_secrets_and_a_service_token(context):
    first = plugins_pb2.ListPluginConfigsResponse(next_page_token="next")
    first.configs.add(organization_id="region-a", plugin="labels", version=4, enabled=True).settings.update(
        {"webhook_url": "https://example.org"})
    second = plugins_pb2.ListPluginConfigsResponse()
    second.configs.add(organization_id="county-a1", plugin="labels", version=1, enabled=False)
    pages = [first, second]
    clients, channels = clients_answering(lambda call: pages.pop(0))

    configs = load_plugin_configs(context, clients)

    assert [(c.organization_id, c.version, c.enabled) for c in configs] == [("region-a", 4, True),
                                                                          ("county-a1", 1, False)]
    assert configs[0].settings == {"webhook_url": "https://example.org"}
    calls = channels["plugins"].calls
    assert {call.method for call in calls} == {"ListPluginConfigs"}
    assert all(call.request.include_secrets and call.request.page_size > 0 for call in calls)
    assert [call.request.page_token for call in calls] == ["", "next"]
    identity = tokens.verifier("test").verify(calls[0].token)
    assert identity.service == "membership" and auth.is_service(identity)
    assert identity.grants == ()  # a service token holds no person's role


def test_a_fetch_after_a_change_asks_for_that_one_configuration(context):
    reply = plugins_pb2.ListPluginConfigsResponse()
    reply.configs.add(organization_id="county-a1", plugin="labels", version=7, enabled=True)
    clients, channels = clients_answering(lambda call: reply)

    configs = load_plugin_configs(context, clients, organization_id="county-a1", plugin="labels")

    assert [(c.organization_id, c.plugin, c.version) for c in configs] == [("county-a1", "labels", 7)]
    [call] = channels["plugins"].calls
    assert (call.request.organization_id, call.request.plugin, call.request.include_secrets) == (
        "county-a1", "labels", True)


def test_which_feed_a_service_gets(context, monkeypatch):
    definition = ServiceDefinition("membership", "copnet.membership.v1.MembershipService", lambda *_: None)
    # The hub runs no plugins service: nothing to feed from.
    on_the_hub = ServiceContext("membership", context.settings.model_copy(update={"instance": "hub"}),
                                context.plugins)
    assert plugin_config_feed(definition, on_the_hub) is None
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
class Unreachable(grpc.RpcError):
    def code(self):
        return grpc.StatusCode.UNAVAILABLE


def test_a_repeated_failure_is_reported_to_the_plugins_service_with_a_service_token(context):
    clients, channels = clients_answering(lambda call: plugins_pb2.ReportPluginFailingResponse(switched_off=True))
    context.__dict__["clients"] = clients  # the cached property, filled in

    assert send_failing_report(context, "labels", "county-a1",
                               "validate_registration failed 5 times in a row; last: boom")

    [call] = channels["plugins"].calls
    assert call.method == "ReportPluginFailing"
    assert (call.request.plugin, call.request.organization_id) == ("labels", "county-a1")
    assert call.request.failures == context.plugins.failure_limit and "boom" in call.request.reason
    assert tokens.verifier("test").verify(call.token).service == "membership"


def test_a_report_retries_while_the_plugins_service_is_away(context):
    answers = [Unreachable(), plugins_pb2.ReportPluginFailingResponse()]

    def answer(call):
        reply = answers.pop(0)
        if isinstance(reply, Exception):
            raise reply
        return reply

    clients, channels = clients_answering(answer)
    context.__dict__["clients"] = clients
    assert send_failing_report(context, "labels", "region-a", "boom", backoff=0)
    assert len(channels["plugins"].calls) == 2


def test_failures_outside_an_organization_are_only_logged(context, monkeypatch, caplog):
    monkeypatch.setattr("copnet.kernel.service.send_failing_report",
                        lambda *args, **kwargs: pytest.fail("no report expected"))
    report_repeated_failure(context, "labels", "", "boom")
    assert any("outside any organization" in r.getMessage() for r in caplog.records)
