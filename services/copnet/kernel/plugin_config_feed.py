"""Per-organization plugin configuration as every process sees it: versioned snapshots in memory.

The plugins service owns the configuration (one revision per change); every process keeps the
newest snapshot per (organization, plugin), loaded over authenticated gRPC at start and fetched
again when a `copnet.plugins.config.changed` event says it changed. The event carries no
settings (secrets never travel on the bus) and its version is only a hint: what is applied, and
at which version, is what the plugins service answers. Snapshots are applied by version, so order
and redelivery do not matter. Until the first complete load nothing is enabled (fail closed).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol


log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PluginConfig:
    """One organization's configuration of one plugin, at one version.

    `settings` is the stored document, secrets included: it reaches a process only over
    authenticated gRPC, never on the bus.
    """

    organization_id: str
    plugin: str
    version: int
    enabled: bool
    settings: Mapping[str, Any] = field(default_factory=dict)
    # The region at or above the organization (the organization itself for a region's config).
    region_id: str = ""

    @property
    def key(self) -> tuple[str, str]:
        return self.organization_id, self.plugin



class ConfigAuthority(Protocol):
    """The service that stores every organization's plugin configuration, as the others call it
    (declared on its client: `ServiceClientSpec.plugin_config_authority`). `stub` is its generated
    stub bound to the calling service's own token."""

    def load(self, stub, *, organization_id: str = "", plugin: str = "") -> list[PluginConfig]:
        """Every configuration (or the one of `organization_id` and `plugin`), secrets included."""

    def report_failing(self, stub, *, plugin: str, organization_id: str, reason: str, failures: int) -> None:
        """Asks it to switch `plugin` off for `organization_id` everywhere; raises grpc.RpcError."""


class PluginConfigs:
    """The process's map {(organization_id, plugin): newest PluginConfig}; thread-safe."""

    def __init__(self) -> None:
        self._configs: dict[tuple[str, str], PluginConfig] = {}
        self._lock = threading.Lock()
        self._loaded = threading.Event()

    @property
    def loaded(self) -> bool:
        """True once a complete set has been loaded (until then nothing is enabled)."""
        return self._loaded.is_set()

    def wait_loaded(self, timeout: float | None = None) -> bool:
        return self._loaded.wait(timeout)

    def apply(self, config: PluginConfig) -> bool:
        """Keep `config` if it is newer than what is held for its (organization, plugin); True if kept."""
        with self._lock:
            current = self._configs.get(config.key)
            if current is not None and config.version <= current.version:
                return False
            self._configs[config.key] = config
            return True

    def load(self, configs: Iterable[PluginConfig]) -> int:
        """Apply a complete set (the start-up load) and mark the map loaded; returns how many were kept."""
        kept = sum(1 for config in configs if self.apply(config))
        self._loaded.set()
        return kept

    def get(self, organization_id: str, plugin: str) -> PluginConfig | None:
        with self._lock:
            return self._configs.get((organization_id, plugin))

    def all(self) -> list[PluginConfig]:
        with self._lock:
            return sorted(self._configs.values(), key=lambda c: (c.plugin, c.organization_id))

    def effective(self, plugin: str, scope: Sequence[str]) -> PluginConfig | None:
        """The config of the deepest organization in `scope` (ancestry first, target last) that has
        one for `plugin`: a county office's override beats its region's. None when there is none."""
        with self._lock:
            for organization_id in reversed(tuple(scope)):
                config = self._configs.get((organization_id, plugin))
                if config is not None:
                    return config
        return None


CONFIG_CHANGED = "copnet.plugins.config.changed"
# A full load every so often, whatever the events said: a change whose event this process missed
# (published while the subscription was being renewed, say) is in force within this long.
RESYNC_SECONDS = 300.0
# Distinct configurations waiting to be fetched before the feed does one full load instead.
MAX_PENDING = 256


@dataclass(frozen=True)
class ConfigHint:
    """What a `copnet.plugins.config.changed` event says: this configuration is at this version now.

    Only a reason to fetch: the configuration applied is always the one the plugins service
    returns, with the version it returns."""

    organization_id: str
    plugin: str
    version: int

    @property
    def key(self) -> tuple[str, str]:
        return self.organization_id, self.plugin


def hint_from_event(event) -> ConfigHint | None:
    """The hint in a `copnet.plugins.config.changed` CloudEvent; None when it names no configuration."""
    data = event.data if isinstance(event.data, Mapping) else {}
    organization_id, plugin = data.get("organization_id"), data.get("plugin")
    if not isinstance(organization_id, str) or not isinstance(plugin, str) or not organization_id or not plugin:
        return None
    try:
        version = int(data.get("version", 0))
    except (TypeError, ValueError):
        return None
    return ConfigHint(organization_id, plugin, version)


class ConfigFeed:
    """Keeps one process's PluginConfigs current, fetching every configuration from its owner.

    One loader thread does all the fetching: the complete set at start (retrying with back-off
    until it succeeds), again after each (re)connection to NATS and every `resync_seconds`, and
    between those the configurations named by `copnet.plugins.config.changed` hints. Hints
    arrive on the bus's loop (`listener()`, a core subscription: every replica sees every
    change) and only queue work: hints for one configuration coalesce into one fetch, a hint not
    newer than what is held fetches nothing, and more than `max_pending` waiting configurations
    become one full load, so a flood of (forged) hints costs at most one fetch at a time.
    """

    def __init__(self, configs: PluginConfigs, load: Callable[[], Iterable[PluginConfig]],
                 fetch: Callable[[str, str], Iterable[PluginConfig]] | None = None, *,
                 resync_seconds: float = RESYNC_SECONDS, max_pending: int = MAX_PENDING,
                 first_backoff: float = 0.5, max_backoff: float = 15.0):
        self.configs = configs
        self._load = load
        # (organization_id, plugin) -> that configuration (none or one); without it a hint loads all.
        self._fetch = fetch
        self._resync_seconds = resync_seconds
        self._max_pending = max_pending
        self._first_backoff = first_backoff
        self._max_backoff = max_backoff
        self._lock = threading.Lock()
        self._pending: set[tuple[str, str]] = set()
        self._full_load_wanted = True
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._wake.set()
        self._thread = threading.Thread(target=self._run, name="plugin-config-loader", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 2.0) -> None:
        self._stopping.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def listener(self):
        """The bus listener that feeds hints in and asks for a full load on every (re)connection."""
        from copnet.kernel.bus import Listener

        return Listener((CONFIG_CHANGED,), self.handle_event, on_connected=self.reload)

    # -- called from any thread (the bus's loop included): never blocks ----------------------
    def reload(self) -> None:
        """Ask for a full load."""
        with self._lock:
            self._full_load_wanted = True
        self._wake.set()

    def hint(self, hint: ConfigHint) -> bool:
        """Ask for `hint`'s configuration to be fetched, unless what is held is as new; True if asked."""
        held = self.configs.get(hint.organization_id, hint.plugin)
        if held is not None and held.version >= hint.version:
            return False
        with self._lock:
            if hint.key not in self._pending and len(self._pending) >= self._max_pending:
                self._full_load_wanted = True
            else:
                self._pending.add(hint.key)
        self._wake.set()
        return True

    def handle_event(self, event) -> None:
        hint = hint_from_event(event)
        if hint is None:
            log.warning("plugins: ignoring configuration event %s that names no configuration", event.id)
            return
        self.hint(hint)

    # -- the loader thread --------------------------------------------------------------------
    def _run(self) -> None:
        while not self._stopping.is_set():
            if not self._wake.wait(self._resync_seconds):
                self.reload()  # nothing happened for a while: a full load catches any missed change
            if self._stopping.is_set():
                return
            self._wake.clear()
            self.work_once()

    def work_once(self) -> None:
        """Do what was asked since the last time: a full load, or fetching the hinted configurations."""
        with self._lock:
            pending, self._pending = self._pending, set()
            full = self._full_load_wanted or not self.configs.loaded or bool(pending and self._fetch is None)
            self._full_load_wanted = False
        if full:
            self.load_once()  # the complete set covers every pending configuration too
            return
        for organization_id, plugin in sorted(pending):
            if self._stopping.is_set():
                return
            try:
                fetched = list(self._fetch(organization_id, plugin))
            except Exception as exc:  # noqa: BLE001 - the full load retries until it succeeds
                log.warning("plugins: cannot fetch %s's configuration at %s (%s); loading them all", plugin,
                            organization_id, exc)
                self.reload()
                return
            for config in fetched:
                if self.configs.apply(config):
                    log.info("plugins: %s at %s is now version %d (%s)", config.plugin, config.organization_id,
                             config.version, "enabled" if config.enabled else "disabled")

    def load_once(self) -> None:
        """Load the complete set, retrying with back-off until it succeeds (or the feed stops)."""
        delay = self._first_backoff
        attempt = 0
        while not self._stopping.is_set():
            attempt += 1
            try:
                kept = self.configs.load(self._load())
            except Exception as exc:
                level = logging.WARNING if attempt in (1, 5) or attempt % 20 == 0 else logging.DEBUG
                log.log(level, "plugins: cannot load plugin configuration yet (attempt %d: %s); plugins stay off "
                               "until it loads", attempt, exc)
                self._stopping.wait(delay)
                delay = min(delay * 2, self._max_backoff)
                continue
            log.info("plugins: plugin configuration loaded (%d changed)", kept)
            return
