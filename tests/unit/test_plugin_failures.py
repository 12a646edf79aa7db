"""A plugin that keeps failing for one organization is switched off there, and only there."""

import threading

import pytest

from copnet import hookimpl
from copnet.kernel.plugin_config import PluginConfig
from copnet.kernel.plugins import PluginHost

REGION_A = ("state", "region-a")
REGION_B = ("state", "region-b")


class Flaky:
    """Fails while `failing` is set; answers otherwise."""

    COPNET_HOOKSPEC_VERSION = 2

    def __init__(self):
        self.failing = True
        self.calls = 0

    @hookimpl
    def validate_registration(self, attempt, settings, context):
        self.calls += 1
        if self.failing:
            raise RuntimeError(f"cannot reach the district system for {context.organization_id}")
        return None


class Slow:
    COPNET_HOOKSPEC_VERSION = 2

    def __init__(self):
        self.release = threading.Event()

    @hookimpl
    def validate_registration(self, attempt, settings, context):
        self.release.wait(30)


@pytest.fixture
def reported():
    return []


@pytest.fixture
def host(reported):
    plugin_host = PluginHost(timeout_seconds=0.2, failure_limit=3)
    plugin_host.on_repeated_failure = lambda plugin, org, reason: reported.append((plugin, org, reason))
    plugin_host.configs.load([PluginConfig("region-a", "flaky", 1, True), PluginConfig("region-b", "flaky", 1, True),
                              PluginConfig("region-a", "slow", 1, True)])
    yield plugin_host
    plugin_host.close()


def call(host, scope):
    return host.call("validate_registration", scope=scope, attempt=object())


def test_the_limit_switches_the_plugin_off_for_that_organization_only(host, reported):
    flaky = Flaky()
    host.register(flaky, "flaky")
    for _ in range(3):
        call(host, REGION_A)
    assert host.failures[("flaky", "region-a")] == 3
    assert [(plugin, org) for plugin, org, _ in reported] == [("flaky", "region-a")]
    assert "validate_registration failed 3 times in a row" in reported[0][2]
    assert "cannot reach the district system for region-a" in reported[0][2]

    calls = flaky.calls
    call(host, REGION_A)
    assert flaky.calls == calls                     # off in region A
    assert host.enabled("flaky", REGION_A) is None
    call(host, REGION_B)
    assert flaky.calls == calls + 1                 # region B still calls it
    assert host.failures[("flaky", "region-b")] == 1


def test_a_success_resets_the_consecutive_count(host, reported):
    flaky = Flaky()
    host.register(flaky, "flaky")
    call(host, REGION_A)
    call(host, REGION_A)
    flaky.failing = False
    call(host, REGION_A)
    flaky.failing = True
    call(host, REGION_A)
    call(host, REGION_A)
    assert reported == []
    assert host.failures[("flaky", "region-a")] == 4
    assert host.enabled("flaky", REGION_A) is not None


def test_time_outs_count_towards_the_limit(host, reported):
    slow = Slow()
    host.register(slow, "slow")
    try:
        for _ in range(3):
            assert call(host, REGION_A) == []
    finally:
        slow.release.set()
    assert [(plugin, org) for plugin, org, _ in reported] == [("slow", "region-a")]
    assert "timed out after 0.2s" in reported[0][2]


def test_a_newer_config_version_switches_it_back_on(host, reported):
    flaky = Flaky()
    host.register(flaky, "flaky")
    for _ in range(3):
        call(host, REGION_A)
    assert host.enabled("flaky", REGION_A) is None
    # The plugins service's automatic disabling arrives, then a lead re-enables it.
    host.configs.apply(PluginConfig("region-a", "flaky", 2, False))
    assert host.enabled("flaky", REGION_A) is None
    host.configs.apply(PluginConfig("region-a", "flaky", 3, True))
    assert host.enabled("flaky", REGION_A).version == 3
    flaky.failing = False
    calls = flaky.calls
    call(host, REGION_A)
    assert flaky.calls == calls + 1


def test_a_failing_report_does_not_break_the_call(host):
    def broken(*_):
        raise RuntimeError("outbox unavailable")

    host.on_repeated_failure = broken
    host.register(Flaky(), "flaky")
    for _ in range(3):
        assert call(host, REGION_A) == []
    assert host.enabled("flaky", REGION_A) is None


def test_unscoped_calls_are_counted_and_switched_off_under_no_organization(reported):
    class Breaking:
        COPNET_HOOKSPEC_VERSION = 2

        @hookimpl
        def register_roster_sources(self):
            raise ValueError("bad")

    host = PluginHost(timeout_seconds=0.2, failure_limit=2)
    host.on_repeated_failure = lambda plugin, org, reason: reported.append((plugin, org))
    host.register(Breaking(), "breaking")
    for _ in range(3):
        host.call("register_roster_sources")
    assert host.failures[("breaking", "")] == 2
    assert reported == [("breaking", "")]


def test_failure_counts_report_each_plugin_and_organization_and_whether_it_is_off_now():
    from copnet.kernel.plugins import PluginHost

    class Raising:
        COPNET_HOOKSPEC_VERSION = 2

        @hookimpl
        def validate_registration(self, attempt):
            raise RuntimeError("down")

    host = PluginHost(timeout_seconds=1.0, failure_limit=2)
    host.register(Raising(), "raising")
    host.configs.load([PluginConfig(organization_id="r1", plugin="raising", version=1, enabled=True)])
    for _ in range(2):
        host.call("validate_registration", scope=["state", "r1"], attempt=None)
    assert host.failure_counts() == [("raising", "r1", 2, True)]
    host.configs.apply(PluginConfig(organization_id="r1", plugin="raising", version=2, enabled=True))
    assert host.failure_counts() == [("raising", "r1", 2, False)]   # a new version switches it back on
