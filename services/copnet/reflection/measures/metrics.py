"""Reflection metrics of plugins (`register_reflection_metrics`): listed per organization (the
plugins enabled there) and computed, isolated and time-bounded by the plugin host, over the
published cells only: a plugin sees exactly what anyone in scope sees, never a small cell."""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass

from copnet.kernel.errors import InvalidArgument, NotFound, Unavailable
from copnet.kernel.plugin_host import PluginCallFailed, PluginHost, PluginUnavailable
from copnet.pluginapi import MeasureCellView, MetricValue, ReflectionMetric
from copnet.reflection.measures.published import PublishedCell

log = logging.getLogger(__name__)
HOOK = "register_reflection_metrics"
MAX_VALUES = 10_000
LABEL_MAX = 200


@dataclass(frozen=True)
class Metric:
    plugin: str
    metric: ReflectionMetric


def available(plugins: PluginHost, scope: Sequence[str]) -> dict[str, Metric]:
    """key -> metric, for the plugins enabled in `scope` (a duplicate key is skipped and logged)."""
    found: dict[str, Metric] = {}
    for result in plugins.call(HOOK, scope=tuple(scope)):
        for metric in result.value if isinstance(result.value, list | tuple) else [result.value]:
            if not isinstance(metric, ReflectionMetric) or not isinstance(metric.key, str):
                log.warning("plugins: %s returned %r from %s, not a ReflectionMetric; skipped", result.plugin, metric,
                            HOOK)
                continue
            if metric.key in found:
                log.warning("plugins: reflection metric %r from %s duplicates %s's; skipped", metric.key,
                            result.plugin, found[metric.key].plugin)
                continue
            found[metric.key] = Metric(result.plugin, metric)
    return found


def view(cell: PublishedCell) -> MeasureCellView:
    """What a plugin is shown of a published cell (a coded percentage: no value)."""
    met = cell.percent_met_or_exceeded
    return MeasureCellView(
        organization_id=cell.organization_id, level=cell.level, student_group=cell.student_group, grade=cell.grade,
        test=cell.test, school_year=cell.school_year, window=cell.window, suppressed=cell.withheld,
        students_tested=cell.students_tested, mean_scale_score=cell.mean_scale_score,
        percent_met_or_exceeded=met.value if met is not None else None,
        distance_from_standard=cell.distance_from_standard)


def compute(plugins: PluginHost, scope: Sequence[str], key: str,
            cells: Sequence[PublishedCell]) -> tuple[Metric, list[MetricValue]]:
    metrics = available(plugins, scope)
    if key not in metrics:
        raise NotFound(f"no reflection metric {key!r} here; available: {', '.join(sorted(metrics)) or 'none'}",
                       reason="UNKNOWN_METRIC")
    chosen = metrics[key]
    views = tuple(view(cell) for cell in cells)
    try:
        values = plugins.invoke(chosen.plugin, tuple(scope), f"reflection metric {key}",
                                lambda settings: chosen.metric.compute(views, settings))
    except (PluginCallFailed, PluginUnavailable) as error:
        raise Unavailable(f"the reflection metric {key!r} could not be computed: {error}",
                          reason="METRIC_FAILED") from None
    return chosen, checked(chosen, values)


def checked(chosen: Metric, values) -> list[MetricValue]:
    """The plugin's values, or Unavailable when it returned something else."""
    if not isinstance(values, list | tuple) or len(values) > MAX_VALUES or not all(
            isinstance(v, MetricValue) and isinstance(v.organization_id, str)
            and (v.value is None or (isinstance(v.value, int | float) and math.isfinite(v.value)))
            for v in values):
        log.error("plugins: %s's reflection metric %r returned no list of MetricValue", chosen.plugin,
                  chosen.metric.key)
        raise Unavailable(f"the reflection metric {chosen.metric.key!r} returned no values", reason="METRIC_FAILED")
    return [MetricValue(v.organization_id, None if v.value is None else float(v.value), str(v.label)[:LABEL_MAX],
                        str(v.note)[:LABEL_MAX]) for v in values]


def metric_key(value: str) -> str:
    if not value:
        raise InvalidArgument.for_field("key", "is required")
    if len(value) > 64:
        raise InvalidArgument.for_field("key", "is longer than 64 characters", reason="TOO_LONG")
    return value
