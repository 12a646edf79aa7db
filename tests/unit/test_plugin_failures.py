"""A plugin that keeps failing for one organization is switched off there, and only there."""

import threading

import pytest
from pydantic import Field, SecretStr, field_validator

from copnet import PluginError, PluginSettings, UnusableInput, hookimpl
from copnet.kernel.plugin_config_feed import PluginConfig
from copnet.kernel.plugin_host import PluginHost

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


def test_the_limit_switches_the_plugin_off_for_that_organization_only(host, reported, caplog):
    flaky = Flaky()
    host.register(flaky, "flaky")
    for _ in range(3):
        call(host, REGION_A)
    assert host.failures[("flaky", "region-a")] == 3
    assert [(plugin, org) for plugin, org, _ in reported] == [("flaky", "region-a")]
    # The reason (stored on the configuration, read by leads) says what kind of failure only;
    # the exception's text goes to the log.
    assert reported[0][2] == "validate_registration failed 3 times in a row (error)"
    assert "cannot reach the district system for region-a" in caplog.text

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
    assert reported[0][2] == "validate_registration failed 3 times in a row (timed out)"


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
    from copnet.kernel.plugin_host import PluginHost

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


# -- whose fault -----------------------------------------------------------------------------------
class Picky:
    """Refuses input it cannot use, as a notifier refuses a person without an address."""

    COPNET_HOOKSPEC_VERSION = 2

    @hookimpl
    def validate_registration(self, attempt, settings, context):
        raise UnusableInput(f"cannot read {attempt!r}")


def test_unusable_input_is_skipped_but_never_counted_toward_switching_off(host, reported, caplog):
    host.configs.apply(PluginConfig("region-a", "picky", 1, True))
    host.register(Picky(), "picky")
    for _ in range(5):
        assert call(host, REGION_A) == []
    assert host.failures[("picky", "region-a")] == 0 and reported == []
    assert host.enabled("picky", REGION_A) is not None
    assert "not counted against it" in caplog.text


def test_a_plugin_error_is_reported_by_its_category(host, reported):
    class Refused:
        COPNET_HOOKSPEC_VERSION = 2

        @hookimpl
        def validate_registration(self, attempt, settings, context):
            raise PluginError("HTTP 403 from 10.0.0.7:8443: Forbidden", category="HTTP error")

    host.configs.apply(PluginConfig("region-a", "refused", 1, True))
    host.register(Refused(), "refused")
    for _ in range(3):
        call(host, REGION_A)
    assert reported == [("refused", "region-a", "validate_registration failed 3 times in a row (HTTP error)")]


# -- failing closed --------------------------------------------------------------------------------
class Guard(Flaky):
    """A veto that fails closed."""

    COPNET_FAILS_CLOSED = True


class SlowGuard(Slow):
    COPNET_FAILS_CLOSED = True


def test_a_failing_veto_that_fails_closed_refuses_and_is_never_switched_off(host, reported, caplog):
    host.configs.apply(PluginConfig("region-a", "guard", 1, True))
    guard = Guard()
    host.register(guard, "guard")
    for _ in range(7):
        [result] = call(host, REGION_A)
        assert result.plugin == "guard" and "could not be checked" in result.value
    assert reported == [] and host.enabled("guard", REGION_A) is not None
    assert host.failures[("guard", "region-a")] == 7
    assert "fails closed: it stays on" in caplog.text
    guard.failing = False
    assert call(host, REGION_A) == []      # mended: it answers again


def test_a_veto_that_fails_closed_refuses_when_it_times_out(host):
    host.configs.apply(PluginConfig("region-a", "slow-guard", 1, True))
    guard = SlowGuard()
    host.register(guard, "slow-guard")
    try:
        [result] = call(host, REGION_A)
    finally:
        guard.release.set()
    assert result.plugin == "slow-guard" and "could not be checked" in result.value


class GuardSettings(PluginSettings):
    limit: int = 3


class SettledGuard:
    COPNET_HOOKSPEC_VERSION = 2
    COPNET_FAILS_CLOSED = True
    Settings = GuardSettings

    @hookimpl
    def validate_registration(self, attempt, settings, context):
        return None


def test_a_veto_that_fails_closed_refuses_when_its_stored_settings_no_longer_validate(host):
    host.register(SettledGuard(), "settled-guard")
    host.configs.apply(PluginConfig("region-a", "settled-guard", 1, True, {"limit": "many"}))
    [result] = call(host, REGION_A)
    assert "could not be checked" in result.value
    host.configs.apply(PluginConfig("region-a", "settled-guard", 2, True, {"limit": 4}))
    assert call(host, REGION_A) == []


def test_a_veto_that_fails_open_is_skipped(host):
    host.register(Flaky(), "flaky")
    assert call(host, REGION_A) == []


# -- settings errors never quote a value -------------------------------------------------------------
class KeySettings(PluginSettings):
    api_key: SecretStr = Field(min_length=1)
    rounds: int = 1

    @field_validator("api_key")
    @classmethod
    def _prefixed(cls, value: SecretStr) -> SecretStr:
        if not value.get_secret_value().startswith("key-"):
            # A careless author quoting the value: copnet does not repeat it.
            raise ValueError(f"{value.get_secret_value()} must start with key-")
        return value


class Keyed:
    COPNET_HOOKSPEC_VERSION = 2
    Settings = KeySettings

    @hookimpl
    def validate_registration(self, attempt, settings, context):
        return None


def test_settings_errors_in_answers_and_logs_never_quote_a_secret(host, caplog):
    from copnet.kernel.errors import InvalidArgument

    host.register(Keyed(), "keyed")
    with pytest.raises(InvalidArgument) as caught:
        host.validate_settings("keyed", {"api_key": "hunter2-very-secret", "rounds": "hunter2-very-secret"})
    assert "hunter2" not in caught.value.message
    assert all("hunter2" not in violation.description for violation in caught.value.fields)
    assert {violation.field for violation in caught.value.fields} == {"settings.api_key", "settings.rounds"}
    # Stored settings that no longer validate are logged without their values.
    host.configs.apply(PluginConfig("region-a", "keyed", 1, True, {"api_key": "hunter2-very-secret", "rounds": "x"}))
    call(host, REGION_A)
    assert "do not validate" in caplog.text and "hunter2" not in caplog.text
