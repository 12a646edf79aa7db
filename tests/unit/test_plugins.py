"""The plugin host: loading and its refusals, isolation and time limits, failure limits, describe()."""

import threading

import pydantic
import pytest

from copnet import PluginSettings, hookimpl
from copnet.kernel.errors import InvalidArgument, NotFound
from copnet.kernel.plugin_config_feed import PluginConfig
from copnet.kernel.plugin_host import PluginHost, PluginRefused


class Good:
    """Good plugin.

    Offers one session type.
    """

    COPNET_HOOKSPEC_VERSION = 2

    @hookimpl
    def register_session_types(self):
        return [{"key": "good"}]


class Raising:
    COPNET_HOOKSPEC_VERSION = 2

    @hookimpl
    def register_session_types(self):
        raise RuntimeError("boom")


class Hanging:
    COPNET_HOOKSPEC_VERSION = 2

    def __init__(self):
        self.release = threading.Event()

    @hookimpl
    def register_session_types(self):
        self.release.wait(30)
        return [{"key": "late"}]


class Misspelled:
    COPNET_HOOKSPEC_VERSION = 2

    @hookimpl
    def register_sesion_types(self):
        return []


class ExtraArgument:
    COPNET_HOOKSPEC_VERSION = 2

    @hookimpl
    def register_session_types(self, settings, region):
        return []


class TooNew:
    COPNET_HOOKSPEC_VERSION = 99

    @hookimpl
    def register_session_types(self):
        return []


class Undeclared:
    @hookimpl
    def register_session_types(self):
        return []


class BadSettings:
    COPNET_HOOKSPEC_VERSION = 2

    class Settings(pydantic.BaseModel):
        x: int = 1

    @hookimpl
    def register_session_types(self):
        return []


class WithSettings:
    """Webhook.

    Posts events somewhere.
    """

    COPNET_HOOKSPEC_VERSION = 2

    class Settings(PluginSettings):
        webhook_url: pydantic.SecretStr
        token: pydantic.SecretStr | None = None
        retries: int = pydantic.Field(3, ge=0, le=10)

    @hookimpl
    def validate_registration(self, attempt, settings, context):
        return None

    @hookimpl
    def react_to_event(self, event, settings, context):
        return None


@pytest.fixture
def host():
    plugin_host = PluginHost(timeout_seconds=0.5)
    yield plugin_host
    plugin_host.close()


# -- isolation ---------------------------------------------------------------------------------
def test_a_raising_plugin_is_skipped_and_counted(host):
    host.register(Good(), "good")
    host.register(Raising(), "raising")
    results = host.call("register_session_types")
    assert [(r.plugin, r.value) for r in results] == [("good", [{"key": "good"}])]
    assert host.failures[("raising", "")] == 1
    assert host.failures[("good", "")] == 0


def test_a_raising_plugin_is_logged_with_its_name(host, caplog):
    host.register(Raising(), "raising")
    host.call("register_session_types")
    assert any("raising.register_session_types" in r.getMessage() and "boom" in r.getMessage()
               for r in caplog.records)


def test_a_hanging_plugin_is_cut_off_at_the_time_limit(host):
    hanging = Hanging()
    host.register(Good(), "good")
    host.register(hanging, "hanging")
    try:
        results = host.call("register_session_types")
    finally:
        hanging.release.set()
    assert [r.plugin for r in results] == ["good"]
    assert host.failures[("hanging", "")] == 1


def test_a_plugin_raising_system_exit_only_ends_its_own_call(host):
    class Exiting:
        COPNET_HOOKSPEC_VERSION = 2

        @hookimpl
        def register_session_types(self):
            raise SystemExit(1)

    host.register(Exiting(), "exiting")
    host.register(Good(), "good")
    assert [r.plugin for r in host.call("register_session_types")] == ["good"]
    assert host.failures[("exiting", "")] == 1


# -- load-time refusals ------------------------------------------------------------------------
def test_a_misspelled_hook_is_refused_at_registration(host):
    with pytest.raises(PluginRefused, match="register_sesion_types"):
        host.register(Misspelled(), "misspelled")
    assert "misspelled" not in host.plugin_names()


def test_a_hookimpl_with_an_argument_the_spec_does_not_have_is_refused(host):
    with pytest.raises(PluginRefused, match="region"):
        host.register(ExtraArgument(), "extra")
    assert host.plugin_names() == []


def test_a_plugin_for_another_hookspec_version_is_refused(host):
    with pytest.raises(PluginRefused, match="targets hookspec version 99; this copnet provides 2"):
        host.register(TooNew(), "too-new")
    assert host.plugin_names() == []


def test_a_plugin_without_a_hookspec_version_is_refused(host):
    with pytest.raises(PluginRefused, match="does not declare COPNET_HOOKSPEC_VERSION"):
        host.register(Undeclared(), "undeclared")
    assert host.plugin_names() == []


def test_settings_that_are_not_plugin_settings_are_refused(host):
    with pytest.raises(PluginRefused, match="not a copnet.PluginSettings"):
        host.register(BadSettings(), "bad-settings")
    assert host.plugin_names() == []


def test_the_same_name_twice_is_refused(host):
    host.register(Good(), "good")
    with pytest.raises(PluginRefused, match="already loaded"):
        host.register(Good(), "good")


class _EntryPoint:
    def __init__(self, name, loader, value="somewhere:plugin", version="1.2.3"):
        self.name = name
        self.value = value
        self._loader = loader
        self.dist = type("Dist", (), {"version": version})()

    def load(self):
        return self._loader()


def test_each_refused_entry_point_is_recorded_and_the_others_load(host, monkeypatch, caplog):
    def broken():
        raise ImportError("no module named nowhere")

    entry_points = [_EntryPoint("broken", broken), _EntryPoint("too-new", TooNew),
                    _EntryPoint("misspelled", Misspelled), _EntryPoint("extra", ExtraArgument),
                    _EntryPoint("undeclared", Undeclared), _EntryPoint("bad-settings", BadSettings),
                    _EntryPoint("good", Good)]
    monkeypatch.setattr("importlib.metadata.entry_points", lambda group: entry_points)
    host.load_entry_points()
    failures = {f.name: f.error for f in host.load_failures}
    assert set(failures) == {"broken", "too-new", "misspelled", "extra", "undeclared", "bad-settings"}
    assert "failed to import" in failures["broken"] and "no module named nowhere" in failures["broken"]
    assert "targets hookspec version 99; this copnet provides 2" in failures["too-new"]
    assert host.plugin_names() == ["good"]
    assert host.describe_one("good").version == "1.2.3"
    assert any("broken is refused" in r.getMessage() for r in caplog.records)


def test_the_builtin_plugin_is_found_through_the_entry_point_group(host):
    host.load_entry_points()
    assert "core-session-types" in host.plugin_names()
    keys = {item["key"] if isinstance(item, dict) else item.key
            for r in host.call("register_session_types") for item in r.value}
    assert {"regular_convening", "kick_off", "data_reflection"} <= keys


# -- describe ----------------------------------------------------------------------------------
def test_describe_gives_name_version_docs_hooks_schema_and_secret_fields(host):
    host.register(WithSettings(), "webhook", version="2.0.1")
    host.register(Good(), "good")
    by_name = {d.name: d for d in host.describe()}
    webhook = by_name["webhook"]
    assert (webhook.version, webhook.title, webhook.description) == ("2.0.1", "Webhook.", "Posts events somewhere.")
    assert webhook.hookspec_version == 2
    assert webhook.hooks == ("react_to_event", "validate_registration")
    assert set(webhook.settings_schema["properties"]) == {"webhook_url", "token", "retries"}
    assert webhook.secret_fields == ("webhook_url", "token")
    good = by_name["good"]
    assert (good.version, good.title, good.settings_schema, good.secret_fields) == ("0", "Good plugin.", None, ())
    assert good.hooks == ("register_session_types",)


def test_describe_of_a_module_plugin_uses_the_module_docstring(host):
    import types

    module = types.ModuleType("demo_plugin", "Demo title\n\nLonger words\nover two lines.")
    module.COPNET_HOOKSPEC_VERSION = 2

    @hookimpl
    def subscribed_event_types():
        return ["copnet.membership.*"]

    module.subscribed_event_types = subscribed_event_types
    host.register(module, "demo")
    description = host.describe_one("demo")
    assert (description.title, description.description) == ("Demo title", "Longer words\nover two lines.")
    assert description.hooks == ("subscribed_event_types",)


def test_describe_of_an_unknown_plugin_is_not_found(host):
    with pytest.raises(NotFound, match="nope"):
        host.describe_one("nope")


# -- validate_settings -------------------------------------------------------------------------
def test_valid_settings_become_the_settings_model(host):
    host.register(WithSettings(), "webhook")
    settings = host.validate_settings("webhook", {"webhook_url": "https://example.org/hook", "retries": 2})
    assert settings.webhook_url.get_secret_value() == "https://example.org/hook"
    assert settings.retries == 2


def test_invalid_settings_name_each_field(host):
    host.register(WithSettings(), "webhook")
    with pytest.raises(InvalidArgument) as caught:
        host.validate_settings("webhook", {"retries": 99, "colour": "red"})
    error = caught.value
    assert error.reason == "INVALID_SETTINGS"
    fields = {f.field: f.description for f in error.fields}
    assert set(fields) == {"settings.webhook_url", "settings.retries", "settings.colour"}
    assert fields["settings.colour"] == "unknown setting"
    assert "less than or equal to 10" in fields["settings.retries"]
    assert "settings.webhook_url" in error.message


def test_a_plugin_without_settings_takes_only_an_empty_document(host):
    host.register(Good(), "good")
    assert host.validate_settings("good", {}) is None
    with pytest.raises(InvalidArgument) as caught:
        host.validate_settings("good", {"x": 1})
    assert [f.field for f in caught.value.fields] == ["settings.x"]


def test_validate_settings_of_an_unknown_plugin_is_not_found(host):
    with pytest.raises(NotFound) as caught:
        host.validate_settings("nope", {})
    assert caught.value.reason == "UNKNOWN_PLUGIN"


# -- scoped calls get the settings and context of the config in effect --------------------------
def test_a_scoped_call_injects_the_effective_settings_and_context(host):
    seen = []

    class Recorder:
        COPNET_HOOKSPEC_VERSION = 2

        class Settings(PluginSettings):
            label: str = "default"

        @hookimpl
        def register_dashboard_panels(self, settings, context):
            seen.append((settings.label, context))
            return []

    host.register(Recorder(), "recorder")
    host.configs.load([PluginConfig("region-a", "recorder", 1, True, {"label": "A"}, region_id="region-a"),
                       PluginConfig("county-a1", "recorder", 1, True, {"label": "A1"}, region_id="region-a")])
    host.call("register_dashboard_panels", scope=["state", "region-a", "county-a1", "district-x"])
    host.call("register_dashboard_panels", scope=["state", "region-a", "county-a2"])
    assert [label for label, _ in seen] == ["A1", "A"]
    first, second = (context for _, context in seen)
    assert (first.plugin, first.organization_id, first.region_id) == ("recorder", "county-a1", "region-a")
    assert first.scope == ("state", "region-a", "county-a1", "district-x")
    assert (second.organization_id, second.region_id) == ("region-a", "region-a")
