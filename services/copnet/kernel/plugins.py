"""The plugin host: loading, per-organization enablement, and the one place hooks are dispatched.

pluggy stops at the first exception, has no time limit and knows nothing of regions, so copnet
calls each hook implementation itself:

- with a `scope` (the target organization's ancestry plus itself), only plugins enabled in the
  configuration that applies there (the deepest organization in the scope with a config for the
  plugin) are called, each with that config's validated `settings` and a `PluginContext`;
  without a scope every loaded plugin is called (settings None);
- each implementation runs in its own worker thread with a deadline; an exception or a time-out
  is logged with the plugin's name, counted per (plugin, organization), and skipped;
- N consecutive failures for one (plugin, organization) switch the plugin off there in this
  process at once and call `on_repeated_failure` (the kernel emits an event; the plugins service
  then disables it for good with a new config version, which switches it back on only if a
  lead re-enables it).

A plugin that cannot be used is refused at load with a clear message, and the others load.
"""

from __future__ import annotations

import collections
import contextvars
import importlib.metadata
import inspect
import logging
import threading
import time
import types
import typing
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pluggy
import pydantic

from copnet.kernel import hookspecs
from copnet.kernel.errors import FieldViolation, InvalidArgument, NotFound
from copnet.kernel.plugin_config import PluginConfig, PluginConfigs
from copnet.pluginapi import PluginContext, PluginSettings

log = logging.getLogger(__name__)
ENTRY_POINT_GROUP = "copnet"
DEFAULT_FAILURE_LIMIT = 5


@dataclass(frozen=True)
class HookResult:
    plugin: str
    value: Any


@dataclass(frozen=True)
class LoadFailure:
    name: str
    error: str


@dataclass(frozen=True)
class PluginDescription:
    name: str
    # The distribution's version ("0" when unknown, e.g. a plugin registered in-process).
    version: str
    title: str
    description: str
    hookspec_version: int
    hooks: tuple[str, ...]
    settings_schema: dict | None
    secret_fields: tuple[str, ...]


class PluginRefused(Exception):
    """A plugin that cannot be used (wrong hookspec version, unknown hook, bad Settings...)."""


@dataclass
class _Loaded:
    name: str
    plugin: object
    version: str
    settings_class: type[PluginSettings] | None
    # Enabled where no configuration in scope says otherwise (copnet's own defaults).
    enabled_by_default: bool


class PluginHost:
    def __init__(self, timeout_seconds: float = 2.0, failure_limit: int = DEFAULT_FAILURE_LIMIT,
                 configs: PluginConfigs | None = None):
        self.pm = pluggy.PluginManager(hookspecs.PROJECT)
        self.pm.add_hookspecs(hookspecs)
        self.timeout_seconds = timeout_seconds
        self.failure_limit = failure_limit
        self.configs = configs if configs is not None else PluginConfigs()
        self.load_failures: list[LoadFailure] = []
        # Hook calls that raised or timed out, per (plugin, organization id; "" for unscoped calls).
        self.failures: collections.Counter[tuple[str, str]] = collections.Counter()
        # Called (plugin, organization_id, reason) when a plugin is switched off for failing repeatedly.
        self.on_repeated_failure: Callable[[str, str, str], None] | None = None
        self._plugins: dict[str, _Loaded] = {}
        self._consecutive: collections.Counter[tuple[str, str]] = collections.Counter()
        # (plugin, organization id) -> the config version that was switched off (None: unscoped).
        self._switched_off: dict[tuple[str, str], int | None] = {}
        self._settings_cache: dict[tuple[str, str, int], PluginSettings | None] = {}
        self._lock = threading.Lock()

    # -- loading -----------------------------------------------------------------------------
    def load_entry_points(self) -> None:
        """Register every plugin in the `copnet` entry-point group; one that cannot be used is
        recorded in `load_failures`, logged, and stays off."""
        for entry_point in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
            try:
                plugin = entry_point.load()
            except Exception as exc:
                self._refused(entry_point.name, f"its entry point {entry_point.value!r} failed to import: "
                                                f"{type(exc).__name__}: {exc}")
                continue
            dist = getattr(entry_point, "dist", None)
            version = getattr(dist, "version", None) or "0"
            try:
                self.register(plugin, entry_point.name, version=version)
            except PluginRefused as exc:
                self._refused(entry_point.name, str(exc))

    def _refused(self, name: str, why: str) -> None:
        self.load_failures.append(LoadFailure(name, why))
        log.error("plugins: %s is refused and stays off: %s", name, why)

    def register(self, plugin: object, name: str, *, version: str = "0") -> None:
        """Register one plugin; raises PluginRefused (leaving the others as they were) when it is invalid."""
        if name in self._plugins:
            raise PluginRefused(f"a plugin named {name!r} is already loaded")
        provided = hookspecs.HOOKSPEC_VERSION
        if not hasattr(plugin, "COPNET_HOOKSPEC_VERSION"):
            raise PluginRefused(f"it does not declare COPNET_HOOKSPEC_VERSION; this copnet provides {provided}")
        target = getattr(plugin, "COPNET_HOOKSPEC_VERSION")
        if target != provided:
            raise PluginRefused(f"targets hookspec version {target}; this copnet provides {provided}")
        settings_class = getattr(plugin, "Settings", None)
        if settings_class is not None and not (isinstance(settings_class, type)
                                               and issubclass(settings_class, PluginSettings)):
            raise PluginRefused("its Settings is not a copnet.PluginSettings subclass")
        try:
            self.pm.register(plugin, name=name)
        except pluggy.PluginValidationError as exc:
            # e.g. a hookimpl taking an argument its hookspec does not have.
            raise PluginRefused(str(exc)) from None
        except ValueError as exc:
            raise PluginRefused(str(exc)) from None
        try:
            # A misspelled hook name fails here instead of silently never running.
            self.pm.check_pending()
        except pluggy.PluginValidationError as exc:
            self.pm.unregister(name=name)
            raise PluginRefused(str(exc)) from None
        self._plugins[name] = _Loaded(name, plugin, version, settings_class,
                                      bool(getattr(plugin, "COPNET_ENABLED_BY_DEFAULT", False)))

    def unregister(self, name: str) -> None:
        self.pm.unregister(name=name)
        self._plugins.pop(name, None)

    def plugin_names(self) -> list[str]:
        return sorted(self._plugins)

    # -- describing and validating -----------------------------------------------------------
    def describe(self) -> list[PluginDescription]:
        return [self.describe_one(name) for name in self.plugin_names()]

    def describe_one(self, name: str) -> PluginDescription:
        loaded = self._get(name)
        title, description = _doc_parts(loaded.plugin)
        hooks = sorted({caller.name for caller in self.pm.get_hookcallers(loaded.plugin) or []})
        settings_class = loaded.settings_class
        return PluginDescription(
            name=name, version=loaded.version, title=title or name, description=description,
            hookspec_version=int(getattr(loaded.plugin, "COPNET_HOOKSPEC_VERSION")), hooks=tuple(hooks),
            settings_schema=settings_class.model_json_schema() if settings_class else None,
            secret_fields=secret_fields(settings_class))

    def settings_class(self, plugin: str) -> type[PluginSettings] | None:
        return self._get(plugin).settings_class

    def validate_settings(self, plugin: str, document: Mapping[str, Any]) -> PluginSettings | None:
        """`document` as the plugin's Settings; InvalidArgument naming `settings.<field>` for each
        problem (None for a plugin without Settings, which takes an empty document only)."""
        loaded = self._get(plugin)
        if loaded.settings_class is None:
            if document:
                fields = [FieldViolation(f"settings.{key}", f"plugin {plugin} takes no settings")
                          for key in sorted(document)]
                raise InvalidArgument("; ".join(f"{f.field}: {f.description}" for f in fields),
                                      reason="INVALID_SETTINGS", fields=fields)
            return None
        try:
            return loaded.settings_class.model_validate(dict(document))
        except pydantic.ValidationError as exc:
            fields = [FieldViolation(".".join(["settings", *(str(part) for part in error["loc"])]),
                                     _message(error)) for error in exc.errors()]
            raise InvalidArgument("; ".join(f"{f.field}: {f.description}" for f in fields),
                                  reason="INVALID_SETTINGS", fields=fields) from None

    def _get(self, name: str) -> _Loaded:
        try:
            return self._plugins[name]
        except KeyError:
            raise NotFound(f"no plugin named {name!r} is installed", reason="UNKNOWN_PLUGIN",
                           metadata={"plugin": name}) from None

    # -- enablement --------------------------------------------------------------------------
    def enabled(self, plugin: str, scope: Sequence[str]) -> PluginConfig | None:
        """The config under which `plugin` runs for `scope`; None when it is off there, and also
        when it runs there by default without one (ask `is_enabled`)."""
        return self._effective(plugin, tuple(scope))[0]

    def is_enabled(self, plugin: str, scope: Sequence[str]) -> bool:
        """Whether a scoped call would call `plugin` for `scope` (configured on, or on by default)."""
        return self._effective(plugin, tuple(scope))[1]

    def _effective(self, plugin: str, scope: tuple[str, ...]) -> tuple[PluginConfig | None, bool]:
        """(config, on): config None with on=True means enabled by default without a config."""
        loaded = self._plugins.get(plugin)
        if loaded is None:
            return None, False
        config = self.configs.effective(plugin, scope)
        if config is None:
            if loaded.enabled_by_default and not self._is_switched_off(plugin, "", None):
                return None, True
            return None, False
        # Fail closed until the complete configuration has been loaded.
        if not self.configs.loaded or not config.enabled:
            return None, False
        if self._is_switched_off(plugin, config.organization_id, config.version):
            return None, False
        return config, True

    def _is_switched_off(self, plugin: str, organization_id: str, version: int | None) -> bool:
        key = (plugin, organization_id)
        with self._lock:
            # A newer config version (a lead's change, or the automatic disabling) clears it.
            return key in self._switched_off and self._switched_off[key] == version

    def _settings_for(self, loaded: _Loaded, config: PluginConfig | None) -> PluginSettings | None:
        if loaded.settings_class is None:
            return None
        if config is None:
            return loaded.settings_class()   # enabled by default: the declared defaults
        key = (config.organization_id, config.plugin, config.version)
        with self._lock:
            if key in self._settings_cache:
                return self._settings_cache[key]
        settings = loaded.settings_class.model_validate(dict(config.settings))
        with self._lock:
            self._settings_cache[key] = settings
        return settings

    # -- calling -----------------------------------------------------------------------------
    def call(self, hook_name: str, *, scope: Sequence[str] | None = None, only: Collection[str] | None = None,
             **kwargs) -> list[HookResult]:
        """Call every implementation of `hook_name` that applies; None results are left out.

        With `scope`, only plugins enabled for it, with `settings` and `context` injected; without,
        every loaded plugin (settings and context None). `only` limits the call to these plugins
        (a plugin's own event consumer calls just that plugin).
        """
        caller = getattr(self.pm.hook, hook_name)
        scope_tuple = tuple(scope) if scope is not None else None
        calls = []
        for impl in reversed(caller.get_hookimpls()):  # pluggy's order: last registered first
            loaded = self._plugins.get(impl.plugin_name)
            if loaded is None or (only is not None and loaded.name not in only):
                continue
            arguments = dict(kwargs)
            if scope_tuple is None:
                organization_id = ""
                if self._is_switched_off(loaded.name, "", None):
                    continue
                arguments.update(settings=None, context=None)
            else:
                config, on = self._effective(loaded.name, scope_tuple)
                if not on:
                    continue
                organization_id = config.organization_id if config else ""
                try:
                    settings = self._settings_for(loaded, config)
                except pydantic.ValidationError as exc:
                    _log_invalid_settings(loaded.name, config, exc)
                    continue
                region_id = (config.region_id or config.organization_id) if config else ""
                arguments.update(settings=settings, context=PluginContext(loaded.name, organization_id, region_id,
                                                                          scope_tuple))
            missing = [name for name in impl.argnames if name not in arguments]
            if missing:
                raise TypeError(f"{hook_name} needs argument(s) {', '.join(missing)}")
            calls.append((loaded.name, organization_id, impl.function,
                          {name: arguments[name] for name in impl.argnames}))

        running = [(plugin, organization_id, _start(function, arguments))
                   for plugin, organization_id, function, arguments in calls]
        deadline = time.monotonic() + self.timeout_seconds
        results = []
        for plugin, organization_id, outcome in running:
            if not outcome.done.wait(max(0.0, deadline - time.monotonic())):
                self._failed(plugin, organization_id, hook_name, f"timed out after {self.timeout_seconds}s")
                continue
            if outcome.error is not None:
                error = outcome.error
                self._failed(plugin, organization_id, hook_name, f"{type(error).__name__}: {error}")
                continue
            self._succeeded(plugin, organization_id)
            if outcome.value is not None:
                results.append(HookResult(plugin, outcome.value))
        return results

    def invoke(self, plugin: str, scope: Sequence[str], what: str, function: Callable[[PluginSettings | None], Any],
               *, timeout_seconds: float | None = None) -> Any:
        """Call `function(settings)` for an object a plugin returned (an exporter's `export`, a
        notifier's `notify`) with the same isolation as a hook: its own thread, a deadline
        (default the hook time-out), failures counted against (plugin, organization).

        `settings` are the plugin's validated settings for `scope`. Raises PluginUnavailable when
        the plugin is off for `scope`, PluginCallFailed when the call raised or timed out.
        """
        loaded = self._plugins.get(plugin)
        scope_tuple = tuple(scope)
        config, on = self._effective(plugin, scope_tuple) if loaded is not None else (None, False)
        if loaded is None or not on:
            raise PluginUnavailable(f"plugin {plugin!r} is not enabled here")
        organization_id = config.organization_id if config else ""
        try:
            settings = self._settings_for(loaded, config)
        except pydantic.ValidationError as exc:
            # As a hook call skips it: the plugin cannot run here until its settings are mended.
            _log_invalid_settings(plugin, config, exc)
            raise PluginUnavailable(f"plugin {plugin!r}'s stored settings here do not validate") from None
        outcome = _start(lambda settings: function(settings), {"settings": settings})
        limit = self.timeout_seconds if timeout_seconds is None else timeout_seconds
        if not outcome.done.wait(limit):
            why = f"timed out after {limit}s"
        elif outcome.error is not None:
            why = f"{type(outcome.error).__name__}: {outcome.error}"
        else:
            self._succeeded(plugin, organization_id)
            return outcome.value
        self._failed(plugin, organization_id, what, why)
        raise PluginCallFailed(f"{plugin}.{what} failed: {why}")

    def failure_counts(self) -> list[tuple[str, str, int, bool]]:
        """(plugin, organization id, failed calls, switched off here now) for every plugin that failed."""
        with self._lock:
            keys = sorted(set(self.failures) | set(self._switched_off))
            counts = [(plugin, organization_id, self.failures[(plugin, organization_id)]) for plugin, organization_id in keys]
        return [(plugin, organization_id, count,
                 self._is_switched_off(plugin, organization_id, self._current_version(plugin, organization_id)))
                for plugin, organization_id, count in counts]

    def _succeeded(self, plugin: str, organization_id: str) -> None:
        with self._lock:
            self._consecutive.pop((plugin, organization_id), None)

    def _failed(self, plugin: str, organization_id: str, hook_name: str, why: str) -> None:
        key = (plugin, organization_id)
        where = f" for {organization_id}" if organization_id else ""
        log.error("plugins: %s.%s failed%s and was skipped: %s", plugin, hook_name, where, why)
        with self._lock:
            self.failures[key] += 1
            self._consecutive[key] += 1
            if self._consecutive[key] < self.failure_limit:
                return
            count = self._consecutive.pop(key)
            self._switched_off[key] = self._current_version(plugin, organization_id)
        reason = f"{hook_name} failed {count} times in a row; last: {why}"
        log.error("plugins: %s is switched off%s in this process: %s", plugin, where, reason)
        callback = self.on_repeated_failure
        if callback is not None:
            try:
                callback(plugin, organization_id, reason)
            except Exception:
                log.exception("plugins: reporting %s's repeated failures failed", plugin)

    def _current_version(self, plugin: str, organization_id: str) -> int | None:
        if not organization_id:
            return None
        config = self.configs.get(organization_id, plugin)
        return config.version if config else None

    def close(self) -> None:
        """Hook threads are daemons: a hung implementation does not keep the process alive."""


# -- helpers -----------------------------------------------------------------------------------
class PluginUnavailable(Exception):
    """The plugin is not installed, or not enabled for the scope asked about."""


class PluginCallFailed(Exception):
    """A plugin's call raised or ran past its deadline (already logged and counted)."""


@dataclass
class _Outcome:
    done: threading.Event
    value: Any = None
    error: BaseException | None = None


def _start(function: Callable, arguments: dict) -> _Outcome:
    """Run `function(**arguments)` in its own daemon thread (with the caller's context vars)."""
    outcome = _Outcome(threading.Event())
    context = contextvars.copy_context()

    def run() -> None:
        try:
            outcome.value = context.run(function, **arguments)
        except BaseException as exc:  # a plugin's SystemExit must not end anything but its thread
            outcome.error = exc
        finally:
            outcome.done.set()

    threading.Thread(target=run, name="plugin-hook", daemon=True).start()
    return outcome


def _log_invalid_settings(plugin: str, config: PluginConfig | None, error: pydantic.ValidationError) -> None:
    # Only a stored config can fail (defaults are the Settings' own): e.g. a plugin upgraded
    # since the settings were written.
    log.error("plugins: %s is skipped for %s: its stored settings (version %s) do not validate: %s",
              plugin, config.organization_id if config else "", config.version if config else "-", error)


def _doc_parts(plugin: object) -> tuple[str, str]:
    """(title, description) from the plugin's docstring: its first line, and the rest."""
    doc = plugin.__doc__ if isinstance(plugin, types.ModuleType | type) else type(plugin).__doc__
    doc = inspect.cleandoc(doc or "")
    title, _, rest = doc.partition("\n")
    return title.strip(), rest.strip()


def secret_fields(settings_class: type[PluginSettings] | None) -> tuple[str, ...]:
    """The Settings fields declared as SecretStr (write-only through the API)."""
    if settings_class is None:
        return ()
    return tuple(name for name, info in settings_class.model_fields.items() if _mentions_secret(info.annotation))


def _mentions_secret(annotation) -> bool:
    if annotation is None:
        return False
    if isinstance(annotation, type) and issubclass(annotation, pydantic.SecretStr | pydantic.SecretBytes):
        return True
    return any(_mentions_secret(arg) for arg in typing.get_args(annotation))


def _message(error: Mapping[str, Any]) -> str:
    if error.get("type") == "extra_forbidden":
        return "unknown setting"
    return str(error.get("msg", "invalid"))
