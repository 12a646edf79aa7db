"""Per-organization plugin configuration as every process sees it: versioned snapshots in memory.

The plugins service owns the configuration (one revision per change); every process keeps the
newest snapshot per (organization, plugin), loaded once at start and then kept current by the
`copnet.plugins.config.changed` events. Snapshots are applied by version, so order and
redelivery do not matter. Until the first complete load nothing is enabled (fail closed).
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from google.protobuf import json_format


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
