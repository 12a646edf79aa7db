"""pytest fixtures for plugin authors: test a plugin against an in-process copnet, no servers needed.

Loaded automatically once copnet is installed (a `pytest11` entry point), so a plugin's tests
just ask for the fixture:

    def test_session_types(plugin_testbed):
        plugin_testbed.register(my_plugin, "my-plugin")
        plugin_testbed.configure("region-north", {"title": "K-2 planning"})
        assert [t.key for t in plugin_testbed.session_types(scope("region-north"))] == ["k2_planning"]

`plugin_testbed` is a `PluginTestbed`: the kernel's `PluginHost` — the very dispatcher the
services use, with its worker threads, time limits, failure counting and per-scope configuration —
with no plugin loaded (entry-point autoloading is off: register the plugin under test, by object
or by entry-point name), a configuration map you fill with `configure`, and methods that call
the hooks the way the services do. The builders (`scope`, `signup_attempt`, `event_view`) make
hook arguments with sensible defaults.
"""

from __future__ import annotations

import datetime as dt
import fnmatch
import importlib.metadata
import uuid
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import pytest

from copnet.kernel import errors
from copnet.kernel.plugin_config_feed import PluginConfig, PluginConfigs
from copnet.kernel.plugin_host import ENTRY_POINT_GROUP, HookResult, PluginHost
from copnet.pluginapi import (DashboardPanel, EventView, PluginSettings, RosterBatch, SessionType,
                              SignupAffiliation, SignupAttempt, SignupCommunity, SignupPerson)

__all__ = ["PluginTestbed", "plugin_testbed", "event_view", "scope", "signup_attempt"]

STATE_ID = "state"
DEFAULT_REGION = "region-test"


# -- builders -----------------------------------------------------------------------------------
def scope(region_id: str = DEFAULT_REGION, *below: str, state_id: str = STATE_ID) -> tuple[str, ...]:
    """An organization's scope: its ancestry plus itself, from the state down.

    `scope("region-north")` is a region's; `scope("region-north", "county-lake", "school-1")` a
    school's below a county office."""
    return (state_id, region_id, *below)


def signup_attempt(*, region_id: str = DEFAULT_REGION, county_office_id: str = "",
                   host_organization_id: str = "", community_id: str = "community-1",
                   community_kind: str = "plc", community_grade_bands: Iterable[str] = (),
                   community_scope: Sequence[str] | None = None,
                   person_id: str = "person-1", person_grade_bands: Iterable[str] = ("K-2",),
                   position: str = "teacher", affiliations: Iterable[SignupAffiliation] | None = None,
                   team_id: str = "") -> SignupAttempt:
    """A sign-up snapshot as membership builds it; by default a K-2 teacher at the community's host.

    The community is hosted by `host_organization_id` (default: the county office if given,
    else the region) and its scope is that host's, unless `community_scope` says otherwise."""
    host = host_organization_id or county_office_id or region_id
    if community_scope is None:
        chain = [org for org in (county_office_id, host_organization_id) if org]
        community_scope = scope(region_id, *dict.fromkeys(chain))
    community = SignupCommunity(id=community_id, kind=community_kind, host_organization_id=host,
                                region_id=region_id, county_office_id=county_office_id,
                                grade_bands=tuple(community_grade_bands), scope=tuple(community_scope))
    if affiliations is None:
        affiliations = [SignupAffiliation(organization_id=host, position=position, scope=tuple(community_scope))]
    person = SignupPerson(id=person_id, grade_bands=tuple(person_grade_bands), affiliations=tuple(affiliations))
    return SignupAttempt(person=person, community=community, team_id=team_id)


def event_view(type: str = "copnet.membership.registration.confirmed", *,  # noqa: A002 (CloudEvents' name)
               data: Mapping[str, Any] | None = None, scope: Sequence[str] = (),  # noqa: F811
               subject: str = "", source: str | None = None, id: str | None = None,  # noqa: A002
               time: dt.datetime | None = None) -> EventView:
    """A domain event as `react_to_event` receives it; a fresh id each time unless given."""
    return EventView(id=id or str(uuid.uuid4()), type=type,
                     source=source or f"copnet/{type.split('.')[1] if type.count('.') >= 2 else 'test'}",
                     subject=subject, time=time or dt.datetime.now(dt.UTC), data=dict(data or {}),
                     scope=tuple(scope))


# -- the testbed --------------------------------------------------------------------------------
class PluginContractError(AssertionError):
    """A plugin returned something copnet cannot use (the services drop it with a warning)."""


class PluginTestbed:
    """An in-process copnet plugin host for one test: register, configure, call like the services."""

    def __init__(self, timeout_seconds: float = 2.0, failure_limit: int = 5):
        self.configs = PluginConfigs()
        self.host = PluginHost(timeout_seconds=timeout_seconds, failure_limit=failure_limit, configs=self.configs)
        # Nothing is configured yet, but the (empty) configuration is complete: no fail-closed wait.
        self.configs.load([])
        self._versions: dict[tuple[str, str], int] = {}
        # (plugin, organization_id, reason) for every local auto-disable, as the kernel reports it.
        self.auto_disabled: list[tuple[str, str, str]] = []
        self.host.on_repeated_failure = lambda plugin, organization_id, reason: self.auto_disabled.append(
            (plugin, organization_id, reason))

    # -- plugins ------------------------------------------------------------------------------
    def register(self, plugin: object, name: str, *, version: str = "0") -> None:
        """Register a plugin object or module under `name` (its entry-point name in production);
        refused exactly as at load (hookspec version, unknown hooks, Settings type) with
        `copnet.kernel.plugin_host.PluginRefused`."""
        self.host.register(plugin, name, version=version)

    def load(self, name: str) -> None:
        """Register the installed plugin whose entry point (group `copnet`) is `name`, with its
        distribution's version, as the services load it (an import error propagates)."""
        for entry_point in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
            if entry_point.name == name:
                version = getattr(getattr(entry_point, "dist", None), "version", None) or "0"
                self.host.register(entry_point.load(), name, version=version)
                return
        raise LookupError(f"no entry point {name!r} in group {ENTRY_POINT_GROUP!r}: is the plugin installed "
                          "(pip install -e .)?")

    def describe(self):
        return self.host.describe()

    @property
    def plugin_names(self) -> list[str]:
        return self.host.plugin_names()

    # -- configuration ------------------------------------------------------------------------
    def configure(self, organization_id: str, settings: Mapping[str, Any] | None = None, enabled: bool = True, *,
                  plugin: str | None = None, region_id: str | None = None) -> PluginSettings | None:
        """Configure `plugin` (default: the only one registered) for an organization, as a PUT does.

        The document is validated with the plugin's Settings first; an invalid one raises
        `copnet.kernel.errors.InvalidArgument` naming `settings.<field>` and changes nothing.
        Returns the validated settings (None for a plugin without Settings). `region_id` defaults
        to the organization itself (configure a county office with `region_id=` its region)."""
        name = plugin or self._only_plugin()
        document = dict(settings or {})
        validated = self._validate(name, document)
        key = (organization_id, name)
        version = self._versions.get(key, 0) + 1
        self._versions[key] = version
        self.configs.apply(PluginConfig(organization_id=organization_id, plugin=name, version=version,
                                        enabled=enabled, settings=document,
                                        region_id=region_id or organization_id))
        return validated

    def _validate(self, name: str, document: dict[str, Any]) -> PluginSettings | None:
        try:
            return self.host.validate_settings(name, document)
        except errors.InvalidArgument as exc:
            named = [violation.field for violation in exc.fields]
            if all(field in exc.message for field in named):
                raise
            # Say which fields in the message too, so `pytest.raises(match="settings.x")` works.
            raise errors.InvalidArgument(f"{exc.message} ({', '.join(named)})", reason=exc.reason,
                                         fields=exc.fields, metadata=exc.metadata) from exc

    def _only_plugin(self) -> str:
        names = self.plugin_names
        if len(names) != 1:
            raise ValueError(f"say which plugin to configure (plugin=...): registered are {names}")
        return names[0]

    # -- calls, as the services make them -----------------------------------------------------
    def call(self, hook: str, *, scope: Sequence[str] | None = None, **kwargs) -> list[HookResult]:
        """The raw dispatch: `PluginHost.call`, results with the plugin that answered."""
        return self.host.call(hook, scope=tuple(scope) if scope is not None else None, **kwargs)

    def session_types(self, scope: Sequence[str]) -> list[SessionType]:  # noqa: F811
        """What scheduling offers a community with this scope (`register_session_types`)."""
        found: list[SessionType] = []
        for result in self.call("register_session_types", scope=scope):
            for item in result.value or []:
                try:
                    found.append(item if isinstance(item, SessionType) else SessionType.model_validate(item))
                except Exception as exc:
                    raise PluginContractError(f"{result.plugin} returned an invalid session type {item!r}: "
                                              f"{exc}") from exc
        keys = [session_type.key for session_type in found]
        duplicates = sorted({key for key in keys if keys.count(key) > 1})
        if duplicates:
            raise PluginContractError(f"session type keys registered twice: {duplicates}")
        return found

    def vetoes(self, attempt: SignupAttempt) -> list[tuple[str, str]]:
        """(plugin, reason) for each plugin refusing this sign-up (`validate_registration`)."""
        results = self.call("validate_registration", scope=attempt.community.scope, attempt=attempt)
        return [(result.plugin, result.value) for result in results if result.value]

    def validate_registration(self, attempt: SignupAttempt) -> list[str]:
        """The reasons the sign-up would be refused for; [] when it goes on."""
        return [reason for _, reason in self.vetoes(attempt)]

    def deliver(self, event: EventView) -> list[str]:
        """Deliver an event as the plugins service's consumers do: to each plugin implementing
        `react_to_event` whose `subscribed_event_types` match its type, only where the event's
        scope has the plugin enabled (an event without a scope reaches no one). Returns the
        plugins it was delivered to; a failure is counted in `failures`, as in production."""
        if not event.scope:
            return []
        delivered = []
        for plugin, patterns in sorted(self.subscriptions().items()):
            if not any(fnmatch.fnmatchcase(event.type, pattern) for pattern in patterns):
                continue
            if not self.host.is_enabled(plugin, event.scope):
                continue
            self.host.call("react_to_event", scope=tuple(event.scope), only=(plugin,), event=event)
            delivered.append(plugin)
        return delivered

    def subscriptions(self) -> dict[str, list[str]]:
        """Each plugin implementing `react_to_event` -> the patterns it subscribes to."""
        reacting = {d.name for d in self.host.describe() if "react_to_event" in d.hooks}
        found = {}
        for result in self.call("subscribed_event_types"):
            value = [result.value] if isinstance(result.value, str) else list(result.value or [])
            if result.plugin in reacting:
                found[result.plugin] = [pattern for pattern in value if isinstance(pattern, str) and pattern]
        return found

    def read_roster(self, source_key: str, files: Mapping[str, bytes | str],
                    scope: Sequence[str] | None = None) -> RosterBatch:  # noqa: F811
        """Read files with the roster source `source_key`, as ImportRoster does: with the settings
        of the configuration that applies to `scope` (the importing organization's; None: without
        settings, and without checking enablement). Text files are encoded as UTF-8."""
        sources = {}
        for result in self.call("register_roster_sources"):
            for source in result.value or []:
                sources[source.key] = (result.plugin, source)
        if source_key not in sources:
            raise LookupError(f"no roster source {source_key!r}: registered are {sorted(sources)}")
        plugin, source = sources[source_key]
        settings = None
        if scope is not None:
            if not self.host.is_enabled(plugin, scope):
                raise LookupError(f"{plugin} is not enabled for {tuple(scope)}")
            config = self.host.enabled(plugin, scope)   # None: on by default, with the declared defaults
            settings = self.host.validate_settings(plugin, dict(config.settings) if config else {})
        raw = {name: content.encode("utf-8") if isinstance(content, str) else bytes(content)
               for name, content in files.items()}
        batch = source.read(raw, settings)
        if not isinstance(batch, RosterBatch):
            raise PluginContractError(f"{plugin}'s roster source {source_key!r} returned {type(batch).__name__}, "
                                      "not a RosterBatch")
        return batch

    def dashboard_panels(self, scope: Sequence[str]) -> list[DashboardPanel]:  # noqa: F811
        """A region's dashboard panels (`register_dashboard_panels`)."""
        panels = []
        for result in self.call("register_dashboard_panels", scope=scope):
            for item in result.value or []:
                panels.append(item if isinstance(item, DashboardPanel) else DashboardPanel.model_validate(item))
        return panels

    # -- what went wrong ----------------------------------------------------------------------
    @property
    def failures(self):
        """Hook calls that raised or timed out, counted per (plugin, organization)."""
        return self.host.failures

    @property
    def load_failures(self):
        return self.host.load_failures

    def close(self) -> None:
        self.host.close()


@pytest.fixture
def plugin_testbed():
    """A `PluginTestbed`: an in-process copnet plugin host with no plugins and no configuration."""
    testbed = PluginTestbed()
    try:
        yield testbed
    finally:
        testbed.close()
