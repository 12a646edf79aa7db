"""The plugins service's pure rules: secrets write-only, settings as stored, effective configuration,
event patterns as NATS filters, roster ordering."""

from __future__ import annotations

import logging

import pytest
from pydantic import SecretStr

from copnet import PluginSettings, hookimpl
from copnet.kernel.bus import subject_filter
from copnet.kernel.plugin_config_feed import PluginConfig, PluginConfigs
from copnet.pluginapi import RosterOrganization
from copnet.plugins import config_store, reactions
from copnet.plugins.roster_import import grade_band, parents_first


class Settings(PluginSettings):
    url: SecretStr
    token: SecretStr | None = None
    format: str = "json"
    retries: int = 3


def test_secrets_read_as_set_markers():
    shown = config_store.redact({"url": "https://x", "format": "slack"}, ["url", "token"])
    assert shown == {"url": {"set": True}, "token": {"set": False}, "format": "slack"}


def test_a_secret_left_out_or_sent_back_as_its_marker_keeps_its_value():
    stored = {"url": "https://x", "token": "t"}
    assert config_store.merge_secrets({"format": "slack"}, stored, ["url", "token"]) == {
        "format": "slack", "url": "https://x", "token": "t"}
    assert config_store.merge_secrets({"url": {"set": True}, "token": "new"}, stored, ["url", "token"]) == {
        "url": "https://x", "token": "new"}
    assert config_store.merge_secrets({"url": {"set": False}}, {}, ["url"]) == {}


def test_stored_settings_keep_what_was_set_with_secret_values():
    model = Settings.model_validate({"url": "https://hook", "retries": 4.0})
    assert config_store.stored_settings(model) == {"url": "https://hook", "retries": 4}
    assert config_store.stored_settings(None) == {}


def test_struct_round_trip_keeps_whole_numbers_whole():
    document = {"n": 3, "x": 1.5, "items": [1, {"deep": 2}], "none": None, "s": "a"}
    assert config_store.struct_to_dict(config_store.dict_to_struct(document)) == document


def test_the_deepest_configuration_in_scope_applies():
    # The one rule, the kernel's (the plugins service had a second copy).
    found = PluginConfigs()
    found.load([PluginConfig("region", "p", 1, True), PluginConfig("county", "p", 1, True)])
    assert found.effective("p", ["state", "region", "county", "district"]).organization_id == "county"
    assert found.effective("p", ["state", "region"]).organization_id == "region"
    assert found.effective("p", ["state"]) is None


@pytest.mark.parametrize("pattern, expected", [
    ("copnet.membership.registration.created", "copnet.membership.registration.created"),
    ("copnet.membership.registration.*", "copnet.membership.registration.*"),
    ("copnet.*.session.scheduled", "copnet.*.session.scheduled"),
    ("copnet.membership.*", "copnet.membership.>"),
    ("copnet.membership.regist*", "copnet.membership.>"),
    ("copnet.scheduling.session.sched?led", "copnet.scheduling.session.>"),
    ("*", "copnet.>"),
    ("other.thing", "copnet.>"),
])
def test_patterns_become_filters_that_receive_every_matching_type(pattern, expected):
    assert reactions.nats_filter(pattern) == expected
    subject_filter("r", reactions.nats_filter(pattern))  # one the bus accepts


def test_overlapping_filters_are_merged():
    assert reactions.nats_filters(["copnet.membership.registration.created", "copnet.membership.*",
                                   "copnet.scheduling.session.*"]) == ["copnet.membership.>",
                                                                        "copnet.scheduling.session.*"]
    assert reactions.nats_filters(["*", "copnet.membership.registration.*"]) == ["copnet.>"]


def test_the_handler_matches_precisely():
    assert reactions.matches(["copnet.membership.regist*"], "copnet.membership.registration.created")
    assert not reactions.matches(["copnet.membership.regist*"], "copnet.membership.team.created")
    assert reactions.consumer_name("webhook-notify") == "plugin-webhook-notify"
    assert reactions.consumer_name("a.b c") == "plugin-a_b_c"


def test_roster_parents_come_first_and_grade_bands_take_both_spellings():
    batch = [RosterOrganization("s", "School", "school", "d"), RosterOrganization("d", "District", "district", "x")]
    assert [org.id for org in parents_first(batch)] == ["d", "s"]
    assert grade_band("K-2") == grade_band("k_2")


class Reacting:
    COPNET_HOOKSPEC_VERSION = 2

    def __init__(self):
        self.seen = []

    @hookimpl
    def subscribed_event_types(self):
        return ["copnet.membership.registration.*"]

    @hookimpl
    def react_to_event(self, event, settings, context):
        self.seen.append((event.type, event.scope, context.organization_id))


def test_a_plugins_consumer_calls_that_plugin_only_where_it_is_enabled():
    from copnet.kernel.events import CloudEvent
    from copnet.kernel.plugin_config_feed import PluginConfig
    from copnet.kernel.plugin_host import PluginHost

    first, second = Reacting(), Reacting()
    host = PluginHost(timeout_seconds=1.0)
    try:
        host.register(first, "first")
        host.register(second, "second")
        host.configs.load([PluginConfig("region", "first", 1, True, region_id="region"),
                           PluginConfig("region", "second", 1, True, region_id="region")])
        subscriptions = {s.name: s for s in reactions.reaction_subscriptions(host)}
        assert set(subscriptions) == {"plugin-first", "plugin-second"}
        assert subscriptions["plugin-first"].event_types == ("copnet.membership.registration.*",)

        def event(event_type, scope=()):
            return CloudEvent(type=event_type, source="copnet/r/membership", subject="x", data={"a": 1},
                              scope=scope)

        handler = subscriptions["plugin-first"].handler
        handler(None, event("copnet.membership.registration.created", ("state", "region", "community")))
        handler(None, event("copnet.membership.registration.created"))               # no scope: not delivered
        handler(None, event("copnet.membership.registration.created", ("state", "other")))  # not enabled there
        handler(None, event("copnet.membership.team.created", ("state", "region")))   # not subscribed
        assert first.seen == [("copnet.membership.registration.created", ("state", "region", "community"), "region")]
        assert second.seen == []
    finally:
        host.close()


class Roster:
    """A roster source whose `read` does what the test says."""

    COPNET_HOOKSPEC_VERSION = 2

    class Settings(PluginSettings):
        prefix: str = "r"

    key = "tiny"
    title = "Tiny"

    def __init__(self, read):
        self._read = read

    def read(self, files, settings):
        return self._read(files, settings)

    @hookimpl
    def register_roster_sources(self):
        return [self]


def roster_host(read, *, timeout: float = 1.0, failure_limit: int = 5):
    from copnet.testing import PluginTestbed

    testbed = PluginTestbed(timeout_seconds=timeout, failure_limit=failure_limit)
    source = Roster(read)
    testbed.register(source, "tiny-roster")
    testbed.configure("region", {"prefix": "n"})
    return testbed, source


def test_a_roster_source_reads_with_the_settings_that_apply_to_the_importing_organization():
    from copnet.pluginapi import RosterBatch
    from copnet.plugins.roster_import import read_batch

    testbed, source = roster_host(lambda files, settings: RosterBatch(
        organizations=[RosterOrganization(f"{settings.prefix}-{name}", name, "district") for name in files]))
    try:
        batch = read_batch(testbed.host, "tiny-roster", ("state", "region"), source, {"d1": b""}, timeout=1.0)
        assert [org.id for org in batch.organizations] == ["n-d1"]
    finally:
        testbed.close()


def test_a_roster_source_that_is_off_raises_or_hangs_is_refused_and_counted_like_any_plugin_call(caplog):
    import threading

    from copnet.kernel.errors import FailedPrecondition
    from copnet.plugins.roster_import import read_batch

    release = threading.Event()

    def read(files, settings):
        if "hang" in files:
            release.wait(30)
        raise ValueError("not a roster")

    testbed, source = roster_host(read, timeout=0.1, failure_limit=2)
    try:
        with pytest.raises(FailedPrecondition) as off:
            read_batch(testbed.host, "tiny-roster", ("state", "elsewhere"), source, {}, timeout=1.0)
        assert off.value.reason == "PLUGIN_NOT_ENABLED"
        with pytest.raises(FailedPrecondition, match=r"could not read the files: .*failed \(error\)") as raised:
            read_batch(testbed.host, "tiny-roster", ("state", "region"), source, {}, timeout=1.0)
        assert raised.value.reason == "ROSTER_SOURCE_FAILED"
        assert "not a roster" not in str(raised.value)  # the plugin's raw text stays in the log
        # The import's own deadline, not the hook time-out (0.1 s here), bounds the read.
        with caplog.at_level(logging.ERROR, logger="copnet.kernel.plugin_host"):
            with pytest.raises(FailedPrecondition, match=r"failed \(timed out\)") as hung:
                read_batch(testbed.host, "tiny-roster", ("state", "region"), source, {"hang": b""}, timeout=0.3)
        assert "timed out after 0.3s" in caplog.text
        assert hung.value.reason == "ROSTER_SOURCE_FAILED"
        # Two failures in a row: switched off there, as a failing hook would be.
        assert testbed.host.failure_counts() == [("tiny-roster", "region", 2, True)]
        assert testbed.auto_disabled and testbed.auto_disabled[0][:2] == ("tiny-roster", "region")
    finally:
        release.set()
        testbed.close()
