"""Per-organization plugin configuration: version order, the deepest config in scope, fail closed, and
the feed that fetches it from its owner when an event hints at a change."""

import threading

import pytest

from copnet import PluginSettings, hookimpl
from copnet.kernel.plugin_config_feed import (CONFIG_CHANGED, ConfigFeed, ConfigHint, PluginConfig, PluginConfigs,
                                         hint_from_event)
from copnet.kernel.plugin_host import PluginHost

REGION_A = ["state", "region-a"]
COUNTY_A1 = ["state", "region-a", "county-a1"]
SCHOOL_IN_A1 = ["state", "region-a", "county-a1", "district-1", "school-1"]
SCHOOL_IN_A2 = ["state", "region-a", "county-a2", "district-2", "school-2"]
REGION_B = ["state", "region-b", "county-b1"]


def config(org, version, enabled=True, settings=None, plugin="labels", region=""):
    return PluginConfig(org, plugin, version, enabled, settings or {}, region_id=region or org)


# -- the map -----------------------------------------------------------------------------------
def test_a_snapshot_is_kept_only_when_newer():
    configs = PluginConfigs()
    assert configs.apply(config("region-a", 2, settings={"label": "two"}))
    assert not configs.apply(config("region-a", 1, settings={"label": "one"}))
    assert not configs.apply(config("region-a", 2, settings={"label": "again"}))
    assert configs.get("region-a", "labels").settings == {"label": "two"}
    assert configs.apply(config("region-a", 3, enabled=False))
    assert configs.get("region-a", "labels").enabled is False


def test_order_of_arrival_does_not_matter():
    forwards, backwards = PluginConfigs(), PluginConfigs()
    snapshots = [config("region-a", v, enabled=v % 2 == 1) for v in range(1, 6)]
    for snapshot in snapshots:
        forwards.apply(snapshot)
    for snapshot in reversed(snapshots):
        backwards.apply(snapshot)
    assert forwards.all() == backwards.all() == [snapshots[-1]]


def test_the_deepest_organization_in_scope_with_a_config_is_in_effect():
    configs = PluginConfigs()
    configs.load([config("region-a", 1), config("county-a1", 4), config("region-b", 1),
                  config("region-a", 7, plugin="other")])
    assert configs.effective("labels", SCHOOL_IN_A1).organization_id == "county-a1"
    assert configs.effective("labels", SCHOOL_IN_A2).organization_id == "region-a"
    assert configs.effective("labels", REGION_A).organization_id == "region-a"
    assert configs.effective("labels", REGION_B).organization_id == "region-b"
    assert configs.effective("labels", ["state"]) is None
    assert configs.effective("missing", SCHOOL_IN_A1) is None


def test_load_marks_the_map_loaded():
    configs = PluginConfigs()
    assert not configs.loaded
    configs.apply(config("region-a", 1))
    assert not configs.loaded
    configs.load([])
    assert configs.loaded and configs.wait_loaded(0)


def test_a_snapshot_from_the_plugins_services_wire_form():
    from google.protobuf import struct_pb2

    from copnet.plugins.client import config_of
    from copnet.plugins.v1 import plugins_pb2

    settings = struct_pb2.Struct()
    settings.update({"label": "x", "nested": {"n": 1}})
    message = plugins_pb2.PluginConfig(organization_id="county-a1", plugin="labels", version=3, enabled=True,
                                       settings=settings, region_id="region-a")
    assert config_of(message) == PluginConfig("county-a1", "labels", 3, True,
                                              {"label": "x", "nested": {"n": 1}}, region_id="region-a")
    assert config_of(plugins_pb2.PluginConfig(organization_id="r", plugin="p", version=1)).settings == {}


# -- the feed: events are hints to fetch ---------------------------------------------------------
def changed_event(organization_id="region-a", plugin="labels", version=1, enabled=True):
    from copnet.events.v1 import events_pb2
    from copnet.kernel.events import CloudEvent

    event = CloudEvent.of(CONFIG_CHANGED, "copnet/test/plugins", f"{organization_id}/{plugin}",
                          events_pb2.PluginConfigChanged(organization_id=organization_id, plugin=plugin,
                                                         version=version, enabled=enabled))
    return CloudEvent.from_nats(event.headers(), event.body())  # as it arrives off the bus


class Owner:
    """The plugins service as the feed sees it: the configurations it holds, every fetch recorded."""

    def __init__(self, *configs):
        self.configs = {config.key: config for config in configs}
        self.loads = 0
        self.fetches = []
        self.failing = False

    def load(self):
        self.loads += 1
        return list(self.configs.values())

    def fetch(self, organization_id, plugin):
        self.fetches.append((organization_id, plugin))
        if self.failing:
            raise ConnectionError("plugins service away")
        found = self.configs.get((organization_id, plugin))
        return [found] if found else []


def loaded_feed(owner, **kwargs):
    configs = PluginConfigs()
    feed = ConfigFeed(configs, owner.load, owner.fetch, **kwargs)
    feed.work_once()  # the start-up load
    return configs, feed


def test_a_change_event_carries_no_settings():
    event = changed_event(version=4)
    assert event.data == {"organization_id": "region-a", "plugin": "labels", "version": "4", "enabled": True}
    assert hint_from_event(event) == ConfigHint("region-a", "labels", 4)


def test_a_change_event_fetches_the_configuration_from_its_owner():
    owner = Owner(config("region-a", 1, settings={"label": "one"}))
    configs, feed = loaded_feed(owner)
    owner.configs[("region-a", "labels")] = config("region-a", 2, settings={"label": "two"})

    feed.handle_event(changed_event(version=2))
    feed.work_once()

    assert owner.fetches == [("region-a", "labels")]
    assert configs.get("region-a", "labels").settings == {"label": "two"}


def test_a_forged_version_is_only_a_hint_the_version_applied_is_the_owners():
    owner = Owner(config("region-a", 3, settings={"label": "real"}))
    configs, feed = loaded_feed(owner)

    feed.handle_event(changed_event(version=2 ** 62, enabled=False))
    feed.work_once()

    held = configs.get("region-a", "labels")
    assert (held.version, held.enabled, held.settings) == (3, True, {"label": "real"})
    owner.configs[("region-a", "labels")] = config("region-a", 4, settings={"label": "next"})
    feed.handle_event(changed_event(version=4))
    feed.work_once()
    assert configs.get("region-a", "labels").settings == {"label": "next"}   # a real change still applies


def test_a_hint_not_newer_than_what_is_held_fetches_nothing():
    owner = Owner(config("region-a", 5))
    _, feed = loaded_feed(owner)
    for version in (1, 5):
        feed.handle_event(changed_event(version=version))
    feed.work_once()
    assert owner.fetches == []


def test_hints_for_one_configuration_coalesce_into_one_fetch():
    owner = Owner(config("region-a", 1))
    _, feed = loaded_feed(owner)
    for version in range(2, 50):
        feed.handle_event(changed_event(version=version))
    feed.work_once()
    assert owner.fetches == [("region-a", "labels")]


def test_a_flood_of_hints_becomes_one_full_load():
    owner = Owner()
    _, feed = loaded_feed(owner, max_pending=3)
    for index in range(100):
        feed.handle_event(changed_event(organization_id=f"forged-{index}", version=9))
    feed.work_once()
    assert (owner.fetches, owner.loads) == ([], 2)


def test_a_fetch_that_fails_falls_back_to_a_full_load():
    owner = Owner(config("region-a", 1))
    configs, feed = loaded_feed(owner)
    owner.configs[("region-a", "labels")] = config("region-a", 2)
    owner.failing = True
    feed.handle_event(changed_event(version=2))
    feed.work_once()
    assert configs.get("region-a", "labels").version == 1
    feed.work_once()
    assert owner.loads == 2 and configs.get("region-a", "labels").version == 2


def test_an_event_that_names_no_configuration_is_ignored(caplog):
    owner = Owner()
    _, feed = loaded_feed(owner)
    event = changed_event()
    event.data.clear()
    feed.handle_event(event)
    feed.work_once()
    assert owner.fetches == [] and owner.loads == 1
    assert any("names no configuration" in r.getMessage() for r in caplog.records)


def test_the_feed_listens_on_the_bus_and_loads_everything_on_each_connection():
    owner = Owner(config("region-a", 1))
    _, feed = loaded_feed(owner)
    listener = feed.listener()
    assert listener.event_types == (CONFIG_CHANGED,)
    listener.on_connected()
    feed.work_once()
    assert owner.loads == 2


def test_the_feed_loads_everything_again_periodically():
    owner = Owner(config("region-a", 1))
    resynced = threading.Event()

    def load():
        if owner.loads >= 2:
            resynced.set()
        return owner.load()

    feed = ConfigFeed(PluginConfigs(), load, owner.fetch, resync_seconds=0.01)
    feed.start()
    try:
        assert resynced.wait(10)
    finally:
        feed.stop()


# -- the host uses it --------------------------------------------------------------------------
class Labels:
    COPNET_HOOKSPEC_VERSION = 2

    class Settings(PluginSettings):
        label: str = "default"

    @hookimpl
    def register_dashboard_panels(self, settings, context):
        return [(settings.label, context.organization_id)]

    @hookimpl
    def register_gateway_blueprints(self):
        return ["blueprint"]


class Always:
    COPNET_HOOKSPEC_VERSION = 2
    COPNET_ENABLED_BY_DEFAULT = True

    @hookimpl
    def register_dashboard_panels(self, settings, context):
        return [("always", context.organization_id)]


@pytest.fixture
def host():
    plugin_host = PluginHost(timeout_seconds=1.0)
    plugin_host.register(Labels(), "labels")
    yield plugin_host
    plugin_host.close()


def panels(host, scope):
    return sorted(item for result in host.call("register_dashboard_panels", scope=scope) for item in result.value)


def test_nothing_is_enabled_before_the_first_load(host):
    host.configs.apply(config("region-a", 1))          # an event before the start-up load
    assert panels(host, SCHOOL_IN_A1) == []
    host.configs.load([])
    assert panels(host, SCHOOL_IN_A1) == [("default", "region-a")]


def test_calls_without_scope_are_not_affected_by_configuration(host):
    assert [r.value for r in host.call("register_gateway_blueprints")] == [["blueprint"]]
    host.configs.load([config("region-a", 1, enabled=False)])
    assert [r.value for r in host.call("register_gateway_blueprints")] == [["blueprint"]]


def test_a_county_override_beats_its_region_and_leaves_its_siblings_alone(host):
    host.configs.load([config("region-a", 1, settings={"label": "region"}),
                       config("county-a1", 1, settings={"label": "county"}, region="region-a")])
    assert panels(host, SCHOOL_IN_A1) == [("county", "county-a1")]
    assert panels(host, SCHOOL_IN_A2) == [("region", "region-a")]


def test_a_disabled_county_override_switches_the_plugin_off_below_it_only(host):
    host.configs.load([config("region-a", 1), config("county-a1", 2, enabled=False, region="region-a")])
    assert panels(host, SCHOOL_IN_A1) == []
    assert panels(host, SCHOOL_IN_A2) == [("default", "region-a")]


def test_a_region_without_a_config_does_not_see_another_regions(host):
    host.configs.load([config("region-a", 1, settings={"label": "secret-of-a"})])
    assert panels(host, REGION_B) == []


def test_a_newer_version_changes_the_settings_used(host):
    host.configs.load([config("region-a", 1, settings={"label": "one"})])
    assert panels(host, REGION_A) == [("one", "region-a")]
    host.configs.apply(config("region-a", 2, settings={"label": "two"}))
    assert panels(host, REGION_A) == [("two", "region-a")]
    host.configs.apply(config("region-a", 1, settings={"label": "one"}))     # redelivered, older
    assert panels(host, REGION_A) == [("two", "region-a")]


def test_stored_settings_that_no_longer_validate_skip_the_plugin(host, caplog):
    host.configs.load([config("region-a", 1, settings={"colour": "red"})])
    assert panels(host, REGION_A) == []
    assert any("do not validate" in r.getMessage() for r in caplog.records)


def test_a_plugin_enabled_by_default_runs_without_a_config_and_a_config_can_disable_it(host):
    host.register(Always(), "always")
    assert panels(host, SCHOOL_IN_A1) == [("always", "")]
    host.configs.load([config("county-a1", 1, enabled=False, plugin="always", region="region-a")])
    assert panels(host, SCHOOL_IN_A1) == []
    assert panels(host, SCHOOL_IN_A2) == [("always", "")]


def test_enabled_reports_the_config_in_effect(host):
    host.configs.load([config("region-a", 3)])
    assert host.enabled("labels", SCHOOL_IN_A1).version == 3
    assert host.enabled("labels", REGION_B) is None
    assert host.enabled("nope", SCHOOL_IN_A1) is None
