"""Hook dispatch: each implementation isolated and time-bounded."""

import threading

import pluggy
import pytest

from copnet import hookimpl
from copnet.kernel.plugins import PluginHost


class Good:
    @hookimpl
    def register_session_types(self):
        return [{"key": "good"}]


class Raising:
    @hookimpl
    def register_session_types(self):
        raise RuntimeError("boom")


class Hanging:
    def __init__(self):
        self.release = threading.Event()

    @hookimpl
    def register_session_types(self):
        self.release.wait(30)
        return [{"key": "late"}]


class Misspelled:
    @hookimpl
    def register_sesion_types(self):
        return []


class TooNew:
    COPNET_HOOKSPEC_VERSION = 99

    @hookimpl
    def register_session_types(self):
        return []


@pytest.fixture
def host():
    plugin_host = PluginHost(timeout_seconds=0.5)
    yield plugin_host
    plugin_host.close()


def test_a_raising_plugin_is_skipped_and_counted(host):
    host.register(Good(), "good")
    host.register(Raising(), "raising")
    results = host.call("register_session_types")
    assert [(r.plugin, r.value) for r in results] == [("good", [{"key": "good"}])]
    assert host.errors["raising"] == 1


def test_a_hanging_plugin_is_cut_off_at_the_time_limit(host):
    hanging = Hanging()
    host.register(Good(), "good")
    host.register(hanging, "hanging")
    try:
        results = host.call("register_session_types")
    finally:
        hanging.release.set()
    assert [r.plugin for r in results] == ["good"]
    assert host.errors["hanging"] == 1


def test_a_misspelled_hook_is_refused_at_registration(host):
    with pytest.raises(pluggy.PluginValidationError):
        host.register(Misspelled(), "misspelled")
    assert "misspelled" not in host.plugin_names()


def test_a_plugin_for_another_hookspec_version_is_refused(host):
    with pytest.raises(ValueError, match="hookspec version 99"):
        host.register(TooNew(), "too-new")
    assert host.plugin_names() == []


def test_entry_point_that_fails_to_import_is_recorded_not_raised(host, monkeypatch):
    class BrokenEntryPoint:
        name = "broken"

        def load(self):
            raise ImportError("no module named nowhere")

    monkeypatch.setattr("importlib.metadata.entry_points", lambda group: [BrokenEntryPoint()])
    host.load_entry_points()
    assert [f.name for f in host.failures] == ["broken"]
    assert host.plugin_names() == []


def test_the_builtin_plugin_is_found_through_the_entry_point_group(host):
    host.load_entry_points()
    assert "core-session-types" in host.plugin_names()
    keys = {item["key"] for r in host.call("register_session_types") for item in r.value}
    assert {"regular_convening", "kick_off", "data_reflection"} <= keys
