"""The plugin manager, and the one place hooks are dispatched: isolated and time-bounded.

pluggy stops at the first exception and has no time limit, so copnet calls each hook
implementation itself: each in a worker thread with a deadline; an exception or a time-out is
logged with the plugin's name, counted, and the call goes on with the other plugins.
"""

from __future__ import annotations

import collections
import concurrent.futures
import importlib.metadata
import logging
import threading
from dataclasses import dataclass
from typing import Any

import pluggy

from copnet.kernel import hookspecs

log = logging.getLogger(__name__)
ENTRY_POINT_GROUP = "copnet"


@dataclass(frozen=True)
class HookResult:
    plugin: str
    value: Any


@dataclass(frozen=True)
class LoadFailure:
    name: str
    error: str


class PluginHost:
    def __init__(self, timeout_seconds: float = 2.0, max_workers: int = 8):
        self.pm = pluggy.PluginManager(hookspecs.PROJECT)
        self.pm.add_hookspecs(hookspecs)
        self.timeout_seconds = timeout_seconds
        self.failures: list[LoadFailure] = []
        # Per plugin: hook calls that raised or timed out (exported later as a metric).
        self.errors: collections.Counter[str] = collections.Counter()
        self._executor = concurrent.futures.ThreadPoolExecutor(max_workers=max_workers,
                                                               thread_name_prefix="plugin-hook")
        self._lock = threading.Lock()

    def load_entry_points(self) -> None:
        """Register every plugin in the `copnet` entry-point group; a broken one is skipped."""
        for entry_point in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
            try:
                self.register(entry_point.load(), entry_point.name)
            except Exception as exc:
                self.failures.append(LoadFailure(entry_point.name, f"{type(exc).__name__}: {exc}"))
                log.error("plugins: %s could not be loaded and stays off: %s", entry_point.name, exc)

    def register(self, plugin: object, name: str) -> None:
        """Register one plugin, refusing it (and leaving others as they were) when it is invalid."""
        version = getattr(plugin, "COPNET_HOOKSPEC_VERSION", hookspecs.HOOKSPEC_VERSION)
        if version != hookspecs.HOOKSPEC_VERSION:
            raise ValueError(f"targets hookspec version {version}, this copnet provides "
                             f"{hookspecs.HOOKSPEC_VERSION}")
        self.pm.register(plugin, name=name)
        try:
            # A misspelled hook name fails loudly here instead of silently never running.
            self.pm.check_pending()
        except pluggy.PluginValidationError:
            self.pm.unregister(name=name)
            raise

    def unregister(self, name: str) -> None:
        self.pm.unregister(name=name)

    def plugin_names(self) -> list[str]:
        return sorted(name for name, _ in self.pm.list_name_plugin())

    def call(self, hook_name: str, **kwargs) -> list[HookResult]:
        """Call every implementation of `hook_name`; None results are left out."""
        caller = getattr(self.pm.hook, hook_name)
        futures = []
        for impl in reversed(caller.get_hookimpls()):  # pluggy's order: last registered first
            arguments = {name: kwargs[name] for name in impl.argnames}
            futures.append((impl.plugin_name, self._executor.submit(impl.function, **arguments)))
        results = []
        for plugin_name, future in futures:
            try:
                value = future.result(timeout=self.timeout_seconds)
            except concurrent.futures.TimeoutError:
                self._failed(plugin_name, hook_name, f"timed out after {self.timeout_seconds}s")
                continue
            except Exception as exc:
                self._failed(plugin_name, hook_name, f"{type(exc).__name__}: {exc}")
                continue
            if value is not None:
                results.append(HookResult(plugin_name, value))
        return results

    def _failed(self, plugin_name: str, hook_name: str, why: str) -> None:
        with self._lock:
            self.errors[plugin_name] += 1
        log.error("plugins: %s.%s failed and was skipped: %s", plugin_name, hook_name, why)

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)
