"""The plugin host: loading, per-organization enablement, and the one place hooks are dispatched.

pluggy stops at the first exception, has no time limit and knows nothing of regions, so copnet
calls each hook implementation itself:

- with a `scope` (the target organization's ancestry plus itself), only plugins enabled in the
  configuration that applies there (the deepest organization in the scope with a config for the
  plugin) are called, each with that config's validated `settings` and a `PluginContext`;
  without a scope every loaded plugin is called (settings None);
- each implementation runs in its own worker thread with a deadline; an exception or a time-out
  is logged with the plugin's name, counted per (plugin, organization), and skipped; a
  `copnet.UnusableInput` (the data, not the plugin, is at fault) is logged and skipped but not
  counted;
- N consecutive failures for one (plugin, organization) switch the plugin off there in this
  process at once and call `on_repeated_failure` (the kernel emits an event; the plugins service
  then disables it for good with a new config version, which switches it back on only if a
  lead re-enables it). What leads can read of a failure is its category ("timed out",
  "connection failed", a `copnet.PluginError`'s own), never the exception's text;
- a plugin declaring `COPNET_FAILS_CLOSED = True` answers a veto hook it fails with the refusal
  in `hookspecs.FAIL_CLOSED_ANSWERS`, and is never switched off automatically (that would open
  what it guards).

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
from copnet.kernel.plugin_config_feed import PluginConfig, PluginConfigs
from copnet.pluginapi import BOUND_TO, SAVING_CONTEXT, PluginContext, PluginError, PluginSettings, UnusableInput

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
    # A veto hook it fails refuses instead of letting the request through (COPNET_FAILS_CLOSED).
    fails_closed: bool = False


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
        _check_bindings(settings_class)
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
                                      bool(getattr(plugin, "COPNET_ENABLED_BY_DEFAULT", False)),
                                      getattr(plugin, "COPNET_FAILS_CLOSED", False) is True)

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

    def fails_closed(self, plugin: str) -> bool:
        return self._get(plugin).fails_closed

    def validate_settings(self, plugin: str, document: Mapping[str, Any], *, previous: Mapping[str, Any] | None = None,
                          sent: Mapping[str, Any] | None = None) -> PluginSettings | None:
        """`document` as the plugin's Settings, validated as a lead saves them (validators see
        `copnet.saving`); InvalidArgument naming `settings.<field>` for each problem (None for a
        plugin without Settings, which takes an empty document only). Messages never quote a value.

        With `sent` (what the lead sent) and `previous` (the stored settings): a secret the lead
        did not give again (left out, or sent back as its `{"set": ...}` marker, so `document`
        holds the stored value) whose destination fields (`copnet.secret_bound_to`) changed is
        refused, reason SECRET_REQUIRED, naming `settings.<secret>`.
        """
        loaded = self._get(plugin)
        if loaded.settings_class is None:
            if document:
                fields = [FieldViolation(f"settings.{key}", f"plugin {plugin} takes no settings")
                          for key in sorted(document)]
                raise InvalidArgument("; ".join(f"{f.field}: {f.description}" for f in fields),
                                      reason="INVALID_SETTINGS", fields=fields)
            return None
        try:
            settings = loaded.settings_class.model_validate(dict(document), context={SAVING_CONTEXT: True})
        except pydantic.ValidationError as exc:
            secrets = {name: document.get(name) for name in secret_fields(loaded.settings_class)}
            fields = [FieldViolation(".".join(["settings", *(str(part) for part in error["loc"])]),
                                     _message(error, secrets)) for error in _errors(exc)]
            raise InvalidArgument("; ".join(f"{f.field}: {f.description}" for f in fields),
                                  reason="INVALID_SETTINGS", fields=fields) from None
        if sent is not None and previous:
            _require_rebound_secrets(loaded.settings_class, settings, document, previous, sent)
        return settings

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
                    _log_invalid_settings(loaded, config, exc)
                    calls.append((loaded.name, organization_id, None, {}))
                    continue
                region_id = (config.region_id or config.organization_id) if config else ""
                arguments.update(settings=settings, context=PluginContext(loaded.name, organization_id, region_id,
                                                                          scope_tuple))
            missing = [name for name in impl.argnames if name not in arguments]
            if missing:
                raise TypeError(f"{hook_name} needs argument(s) {', '.join(missing)}")
            calls.append((loaded.name, organization_id, impl.function,
                          {name: arguments[name] for name in impl.argnames}))

        running = [(plugin, organization_id, _start(function, arguments) if function is not None else None)
                   for plugin, organization_id, function, arguments in calls]
        deadline = time.monotonic() + self.timeout_seconds
        results = []
        for plugin, organization_id, outcome in running:
            if outcome is None:           # its stored settings do not validate (logged)
                pass
            elif not outcome.done.wait(max(0.0, deadline - time.monotonic())):
                self._failed(plugin, organization_id, hook_name, timeout=self.timeout_seconds)
            elif outcome.error is not None:
                self._failed(plugin, organization_id, hook_name, outcome.error)
            else:
                self._succeeded(plugin, organization_id)
                if outcome.value is not None:
                    results.append(HookResult(plugin, outcome.value))
                continue
            answer = self._fail_closed_answer(plugin, hook_name)
            if answer is not None:
                results.append(HookResult(plugin, answer))
        return results

    def _fail_closed_answer(self, plugin: str, hook_name: str) -> Any:
        """What a failed call answers for a plugin that fails closed (None: it is skipped)."""
        loaded = self._plugins.get(plugin)
        if loaded is None or not loaded.fails_closed:
            return None
        return hookspecs.FAIL_CLOSED_ANSWERS.get(hook_name)

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
            _log_invalid_settings(loaded, config, exc)
            raise PluginUnavailable(f"plugin {plugin!r}'s stored settings here do not validate") from None
        outcome = _start(lambda settings: function(settings), {"settings": settings})
        limit = self.timeout_seconds if timeout_seconds is None else timeout_seconds
        if not outcome.done.wait(limit):
            error, category = None, self._failed(plugin, organization_id, what, timeout=limit)
        elif outcome.error is not None:
            error, category = outcome.error, self._failed(plugin, organization_id, what, outcome.error)
        else:
            self._succeeded(plugin, organization_id)
            return outcome.value
        # The category only: the message may reach whoever asked (a feed, an import report).
        raise PluginCallFailed(f"{plugin}.{what} failed ({category})", category=category,
                               counted=not isinstance(error, UnusableInput))

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

    def _failed(self, plugin: str, organization_id: str, hook_name: str, error: BaseException | None = None, *,
                timeout: float | None = None) -> str:
        """Log a failed call (`error`, or a time-out after `timeout` seconds) and count it against
        the plugin unless the input was at fault; returns the failure's category."""
        key = (plugin, organization_id)
        where = f" for {organization_id}" if organization_id else ""
        why = f"timed out after {timeout}s" if error is None else f"{type(error).__name__}: {error}"
        category = failure_category(error)
        if isinstance(error, UnusableInput):
            log.warning("plugins: %s.%s could not use its input%s and skipped it (not counted against it): %s",
                        plugin, hook_name, where, why)
            return category
        log.error("plugins: %s.%s failed%s and was skipped: %s", plugin, hook_name, where, why)
        fails_closed = (loaded := self._plugins.get(plugin)) is not None and loaded.fails_closed
        with self._lock:
            self.failures[key] += 1
            self._consecutive[key] += 1
            if self._consecutive[key] < self.failure_limit:
                return category
            count = self._consecutive.pop(key)
            if not fails_closed:
                self._switched_off[key] = self._current_version(plugin, organization_id)
        reason = f"{hook_name} failed {count} times in a row ({category})"
        if fails_closed:
            # Switching it off would let through what it refuses: it stays on, and says so.
            log.error("plugins: %s keeps failing%s (%s) and fails closed: it stays on, refusing, until it is "
                      "mended or a lead disables it", plugin, where, reason)
            return category
        log.error("plugins: %s is switched off%s in this process: %s", plugin, where, reason)
        callback = self.on_repeated_failure
        if callback is not None:
            try:
                callback(plugin, organization_id, reason)
            except Exception:
                log.exception("plugins: reporting %s's repeated failures failed", plugin)
        return category

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
    """A plugin's call raised or ran past its deadline (already logged, and counted unless the
    input was at fault). The message names the plugin and the failure's category only."""

    def __init__(self, message: str, *, category: str = "error", counted: bool = True):
        super().__init__(message)
        self.category = category
        self.counted = counted


def failure_category(error: BaseException | None) -> str:
    """What leads may read of a failure (None: a time-out): a `copnet.PluginError`'s category,
    else the kind of failure, never its text."""
    if error is None or isinstance(error, TimeoutError):
        return "timed out"
    if isinstance(error, PluginError):
        return str(error.category)
    if isinstance(error, OSError):
        return "connection failed"
    return "error"


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


def _log_invalid_settings(loaded: _Loaded, config: PluginConfig | None, error: pydantic.ValidationError) -> None:
    # Only a stored config can fail (defaults are the Settings' own): e.g. a plugin upgraded
    # since the settings were written. The errors' locations and messages only: pydantic's own
    # text quotes the input, which may be a secret.
    stored = dict(config.settings) if config else {}
    secrets = {name: stored.get(name) for name in secret_fields(loaded.settings_class)}
    problems = "; ".join(f"{'.'.join(str(part) for part in item['loc']) or 'settings'}: {_message(item, secrets)}"
                         for item in _errors(error))
    log.error("plugins: %s is skipped for %s: its stored settings (version %s) do not validate: %s",
              loaded.name, config.organization_id if config else "", config.version if config else "-", problems)


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


def secret_bindings(settings_class: type[PluginSettings] | None) -> dict[str, tuple[str, ...]]:
    """Secret field -> the fields naming the destination it is good for (`copnet.secret_bound_to`)."""
    if settings_class is None:
        return {}
    bindings = {}
    for name, info in settings_class.model_fields.items():
        extra = info.json_schema_extra
        if isinstance(extra, Mapping) and BOUND_TO in extra:
            bindings[name] = tuple(extra[BOUND_TO])
    return bindings


def _check_bindings(settings_class: type[PluginSettings] | None) -> None:
    secrets, fields = set(secret_fields(settings_class)), set(settings_class.model_fields if settings_class else ())
    for secret, bound in secret_bindings(settings_class).items():
        if secret not in secrets:
            raise PluginRefused(f"its setting {secret!r} is bound to a destination but is not a SecretStr")
        unknown = [name for name in bound if name not in fields or name == secret]
        if unknown or not bound:
            raise PluginRefused(f"its secret {secret!r} is bound to {', '.join(map(repr, unknown)) or 'nothing'}, "
                                "not to other settings")


def _require_rebound_secrets(settings_class: type[PluginSettings], settings: PluginSettings,
                             document: Mapping[str, Any], previous: Mapping[str, Any], sent: Mapping[str, Any]) -> None:
    """SECRET_REQUIRED for each kept secret whose destination changed (see `validate_settings`)."""
    kept = [name for name, _ in secret_bindings(settings_class).items()
            if (name not in sent or isinstance(sent[name], Mapping))
            and previous.get(name) not in (None, "") and document.get(name) == previous.get(name)]
    if not kept:
        return
    try:
        before = settings_class.model_validate(dict(previous))
    except pydantic.ValidationError:
        before = None   # the stored settings no longer validate: every destination counts as changed
    bindings = secret_bindings(settings_class)
    violations = []
    for name in kept:
        changed = [field for field in bindings[name] if before is None or getattr(before, field) != getattr(settings, field)]
        if changed:
            violations.append(FieldViolation(
                f"settings.{name}", f"give {name} again: {', '.join(changed)} changed, and a stored secret is never "
                                    "sent to another destination than the one it was given for"))
    if violations:
        raise InvalidArgument("; ".join(f"{f.field}: {f.description}" for f in violations), reason="SECRET_REQUIRED",
                              fields=violations)


def _errors(error: pydantic.ValidationError) -> list[dict[str, Any]]:
    """The errors without the input (or anything else carrying it)."""
    return error.errors(include_input=False, include_url=False, include_context=False)


def _message(error: Mapping[str, Any], secrets: Mapping[str, Any] | None = None) -> str:
    """A field error's message; a plugin's validator quoting a secret it refuses is not repeated."""
    if error.get("type") == "extra_forbidden":
        return "unknown setting"
    message = str(error.get("msg", "invalid"))
    for value in (secrets or {}).values():
        if isinstance(value, str) and len(value) >= 4 and value in message:
            return "is not valid"
    return message
