"""Per-organization plugin configuration as every process sees it: versioned snapshots in memory.

The plugins service owns the configuration (one revision per change); every process keeps the
newest snapshot per (organization, plugin), loaded once at start and then kept current by the
`copnet.plugins.config.changed` events. Snapshots are applied by version, so order and
redelivery do not matter. Until the first complete load nothing is enabled (fail closed).
"""

from __future__ import annotations

import asyncio
import copy
import logging
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from google.protobuf import json_format

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PluginConfig:
    """One organization's configuration of one plugin, at one version.

    `settings` is the stored document, secrets included (it never leaves the instance).
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

    @classmethod
    def from_proto(cls, message) -> "PluginConfig":
        """From the wire form, `copnet.plugins.v1.PluginConfig`."""
        settings = json_format.MessageToDict(message.settings) if message.HasField("settings") else {}
        return cls(organization_id=message.organization_id, plugin=message.plugin, version=int(message.version),
                   enabled=bool(message.enabled), settings=settings,
                   region_id=getattr(message, "region_id", "") or "")

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "PluginConfig":
        """From the canonical JSON of a `copnet.plugins.v1.PluginConfig` (an event payload's `config`)."""
        return cls(organization_id=str(data.get("organization_id", "")), plugin=str(data.get("plugin", "")),
                   version=int(data.get("version", 0)), enabled=bool(data.get("enabled", False)),
                   settings=copy.deepcopy(dict(data.get("settings") or {})),
                   region_id=str(data.get("region_id", "")))


def config_from_event_data(data: Mapping[str, Any]) -> PluginConfig:
    """The snapshot in a `copnet.plugins.config.changed` payload (`{"config": {...}}`, or the config itself)."""
    inner = data.get("config")
    return PluginConfig.from_dict(inner if isinstance(inner, Mapping) else data)


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


def apply_event(configs: PluginConfigs, event) -> bool:
    """Apply a `copnet.plugins.config.changed` CloudEvent; True when it was newer than what was held."""
    config = config_from_event_data(event.data)
    if not config.plugin or not config.organization_id:
        log.warning("plugins: ignoring config event %s without an organization or plugin", event.id)
        return False
    applied = configs.apply(config)
    if applied:
        log.info("plugins: %s at %s is now version %d (%s)", config.plugin, config.organization_id, config.version,
                 "enabled" if config.enabled else "disabled")
    return applied


class ConfigFeed:
    """Keeps one process's PluginConfigs current.

    A loader thread loads the complete set (`load()`), retrying with back-off until it succeeds,
    and again whenever `reload()` is asked for; a NATS thread listens to every
    `copnet.plugins.config.changed` on its own core subscription (not a shared durable consumer:
    each replica of each service must see every change) and asks for a reload after a
    reconnection, so a change missed while disconnected is picked up.
    """

    def __init__(self, configs: PluginConfigs, load: Callable[[], Iterable[PluginConfig]], *,
                 nats_url: str | None = None, region: str = "local", name: str = "copnet",
                 first_backoff: float = 0.5, max_backoff: float = 15.0):
        self.configs = configs
        self._load = load
        self._nats_url = nats_url
        self._region = region
        self._name = name
        self._first_backoff = first_backoff
        self._max_backoff = max_backoff
        self._wanted = threading.Event()
        self._stopping = threading.Event()
        self._threads: list[threading.Thread] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop_async: asyncio.Event | None = None

    def start(self) -> None:
        self._wanted.set()
        self._threads.append(threading.Thread(target=self._run_loader, name="plugin-config-loader", daemon=True))
        if self._nats_url:
            self._threads.append(threading.Thread(target=asyncio.run, args=(self._listen(),),
                                                  name="plugin-config-events", daemon=True))
        for thread in self._threads:
            thread.start()

    def reload(self) -> None:
        self._wanted.set()

    def stop(self, timeout: float = 2.0) -> None:
        self._stopping.set()
        self._wanted.set()
        if self._loop is not None and self._stop_async is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._stop_async.set)
        for thread in self._threads:
            thread.join(timeout)

    # -- loading -----------------------------------------------------------------------------
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

    def _run_loader(self) -> None:
        while not self._stopping.is_set():
            self._wanted.wait()
            if self._stopping.is_set():
                return
            self._wanted.clear()
            self.load_once()

    # -- events ------------------------------------------------------------------------------
    def handle_message(self, headers: Mapping[str, str] | None, body: bytes) -> None:
        from copnet.kernel.events import CloudEvent, MalformedEvent

        try:
            event = CloudEvent.from_nats(dict(headers or {}), body)
            apply_event(self.configs, event)
        except (MalformedEvent, ValueError, TypeError) as exc:
            log.warning("plugins: unreadable plugin configuration event: %s", exc)

    async def _listen(self) -> None:
        import nats

        from copnet.kernel.events import subject_for

        self._loop = asyncio.get_running_loop()
        self._stop_async = asyncio.Event()

        async def reconnected():
            log.info("plugins: reconnected to NATS; reloading plugin configuration")
            self.reload()

        async def quiet(*_):
            return None

        async def on_message(message):
            self.handle_message(message.headers, message.data)

        while not self._stopping.is_set():
            try:
                connection = await nats.connect(self._nats_url, name=f"copnet-{self._region}-{self._name}-plugin-config",
                                                allow_reconnect=True, max_reconnect_attempts=-1,
                                                reconnect_time_wait=1, connect_timeout=2,
                                                reconnected_cb=reconnected, error_cb=quiet, disconnected_cb=quiet)
                break
            except Exception as exc:
                log.debug("plugins: cannot reach NATS for configuration events (%s); retrying", exc)
                await asyncio.sleep(1)
        else:
            return
        await connection.subscribe(subject_for(self._region, CONFIG_CHANGED), cb=on_message)
        # Subscribed: anything changed from here on arrives as an event; load (again) to catch
        # anything changed before.
        self.reload()
        await self._stop_async.wait()
        try:
            await connection.drain()
        except Exception:
            pass
