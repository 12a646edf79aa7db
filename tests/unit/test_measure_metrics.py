"""Reflection metrics: plugins are fed published cells only (a withheld cell without figures, a
coded percentage without its value), run isolated through the plugin host, and the built-in
relative-proficiency metric divides a group's % met by all students'."""

from __future__ import annotations

import time

import pytest
from copnet import MetricValue, hookimpl
from copnet.kernel.errors import NotFound, Unavailable
from copnet.kernel.plugin_host import PluginHost
from copnet.reflection.measures import metrics, queries
from copnet.reflection.measures.index import MeasureIndex
from copnet_plugins import reflection_metrics

from tests.support.measure_tables import Student, TableSource, Tree, measure_cells

SCOPE = ("state", "region")
TREE = Tree({"school": ("", "school")})


class Recorder:
    COPNET_HOOKSPEC_VERSION = 2
    COPNET_ENABLED_BY_DEFAULT = True

    def __init__(self):
        self.seen = []

    class Metric:
        key, title, description = "recorder", "Recorder", "Keeps what it is fed."

        def __init__(self, seen, behaviour):
            self.seen, self.behaviour = seen, behaviour

        def compute(self, cells, settings):
            self.seen.extend(cells)
            return self.behaviour(cells)

    behaviour = staticmethod(lambda cells: [MetricValue("school", float(len(cells)))])

    @hookimpl
    def register_reflection_metrics(self):
        return [self.Metric(self.seen, self.behaviour)]


@pytest.fixture
def host():
    plugin_host = PluginHost(timeout_seconds=0.3, failure_limit=100)
    plugin_host.register(reflection_metrics, "reflection-metrics")
    recorder = Recorder()
    plugin_host.register(recorder, "recorder")
    plugin_host.configs.load([])
    yield plugin_host, recorder
    plugin_host.close()


def cells():
    found = ([Student("school", "3", 2600, ("el",))] * 5 + [Student("school", "3", 2300, ("el",))] * 10
             + [Student("school", "3", 2600, ("not_el",))] * 15 + [Student("school", "3", 2450, ("hispanic",))] * 3
             + [Student("school", "3", 2450, ("white",))] * 27)
    index = MeasureIndex(TableSource(TREE, measures=measure_cells(found, TREE)), min_cell=11)
    return queries.published_cells(queries.measure_query("school", False, (), "", ("3",), (), (), ()), index)


def test_metrics_are_listed_per_scope_and_fed_published_cells_only(host):
    plugin_host, recorder = host
    assert set(metrics.available(plugin_host, SCOPE)) == {"relative-proficiency", "recorder"}
    published = cells()
    _metric, values = metrics.compute(plugin_host, SCOPE, "recorder", published)
    assert values == [MetricValue("school", float(len(published)))]
    hispanic = next(c for c in recorder.seen if c.student_group == "hispanic")
    assert hispanic.suppressed and hispanic.students_tested is None and hispanic.mean_scale_score is None


def test_relative_proficiency_is_a_groups_share_of_all_students_percent_met(host):
    plugin_host, _recorder = host
    _metric, values = metrics.compute(plugin_host, SCOPE, "relative-proficiency", cells())
    by_label = {v.label: v for v in values}
    # EL: 5 of 15 met (33.3 %); all students: 5 + 15 + (3 + 27 at 2450, met) = 50 of 60 (83.3 %).
    assert by_label["el, grade 3, sbac-math 2024-25 spring"].value == pytest.approx(33.3 / 83.3, abs=1e-3)
    withheld = by_label["hispanic, grade 3, sbac-math 2024-25 spring"]
    assert withheld.value is None and "withheld" in withheld.note


def test_a_failing_or_slow_metric_is_unavailable_and_an_unknown_one_not_found(host):
    plugin_host, recorder = host
    recorder.behaviour = staticmethod(lambda cells: time.sleep(1))
    with pytest.raises(Unavailable) as failed:
        metrics.compute(plugin_host, SCOPE, "recorder", cells())
    assert failed.value.reason == "METRIC_FAILED"
    recorder.behaviour = staticmethod(lambda cells: ["not a value"])
    with pytest.raises(Unavailable):
        metrics.compute(plugin_host, SCOPE, "recorder", cells())
    with pytest.raises(NotFound) as missing:
        metrics.compute(plugin_host, SCOPE, "nope", cells())
    assert missing.value.reason == "UNKNOWN_METRIC"
