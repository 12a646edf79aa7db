"""`PluginHost.invoke`: a method of an object a plugin returned (an exporter's `export`, a
notifier's `notify`) runs with the plugin's settings for the region, isolated and time-bounded."""

import threading

import pytest

from copnet import PluginSettings, hookimpl
from copnet.kernel.plugin_config_feed import PluginConfig
from copnet.kernel.plugin_host import PluginCallFailed, PluginHost, PluginUnavailable

REGION_A = ("state", "region-a")
REGION_B = ("state", "region-b")


class Greeter:
    COPNET_HOOKSPEC_VERSION = 2

    class Settings(PluginSettings):
        greeting: str = "hello"

    @hookimpl
    def register_notifiers(self):
        return []


@pytest.fixture
def host():
    plugin_host = PluginHost(timeout_seconds=0.2, failure_limit=2)
    plugin_host.register(Greeter(), "greeter")
    plugin_host.configs.load([PluginConfig("region-a", "greeter", 1, True, {"greeting": "kia ora"})])
    yield plugin_host
    plugin_host.close()


def test_the_call_gets_the_settings_that_apply_in_the_scope(host):
    assert host.invoke("greeter", REGION_A, "notify", lambda settings: settings.greeting) == "kia ora"


def test_a_plugin_off_in_the_scope_is_unavailable(host):
    with pytest.raises(PluginUnavailable):
        host.invoke("greeter", REGION_B, "notify", lambda settings: "never runs")
    with pytest.raises(PluginUnavailable):
        host.invoke("not-installed", REGION_A, "notify", lambda settings: "never runs")


def test_a_raising_call_fails_and_is_counted_for_that_organization(host):
    def broken(settings):
        raise ConnectionError("smtp down")

    # Whoever asked (a feed, an import) reads the kind of failure; the text is in the log only.
    with pytest.raises(PluginCallFailed, match=r"^greeter.notify failed \(connection failed\)$") as caught:
        host.invoke("greeter", REGION_A, "notify", broken)
    assert caught.value.category == "connection failed" and caught.value.counted
    assert host.failure_counts() == [("greeter", "region-a", 1, False)]


def test_a_hanging_call_is_cut_off_and_repeated_failures_switch_the_plugin_off(host):
    release = threading.Event()
    try:
        for _ in range(2):
            with pytest.raises(PluginCallFailed, match="timed out"):
                host.invoke("greeter", REGION_A, "export", lambda settings: release.wait(30))
    finally:
        release.set()
    assert host.failure_counts() == [("greeter", "region-a", 2, True)]
    with pytest.raises(PluginUnavailable):
        host.invoke("greeter", REGION_A, "export", lambda settings: "off now")


def test_a_success_resets_the_consecutive_count(host):
    with pytest.raises(PluginCallFailed):
        host.invoke("greeter", REGION_A, "notify", lambda settings: 1 / 0)
    assert host.invoke("greeter", REGION_A, "notify", lambda settings: "ok") == "ok"
    with pytest.raises(PluginCallFailed):
        host.invoke("greeter", REGION_A, "notify", lambda settings: 1 / 0)
    assert host.failure_counts() == [("greeter", "region-a", 2, False)]


def test_stored_settings_that_no_longer_validate_make_the_plugin_unavailable_there(host):
    # e.g. written before an upgrade of the plugin changed its Settings.
    host.configs.apply(PluginConfig("region-a", "greeter", 2, True, {"greeting": 7}))
    with pytest.raises(PluginUnavailable, match="do not validate"):
        host.invoke("greeter", REGION_A, "notify", lambda settings: "never runs")
    assert host.failure_counts() == []
