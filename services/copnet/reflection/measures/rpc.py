"""measures RPCs of ReflectionService."""

from __future__ import annotations

import copnet.reflection.measures.access as access
import copnet.reflection.measures.baselines as baselines
import copnet.reflection.measures.convert as convert
import copnet.reflection.measures.effect_size as effect_size
import copnet.reflection.measures.growth as growth
import copnet.reflection.measures.metrics as metrics
import copnet.reflection.measures.queries as queries
from copnet.kernel.errors import InvalidArgument
from copnet.reflection import reference
from copnet.reflection.measures.index import process_index
from copnet.reflection.measures.membership import Membership
from copnet.reflection.v1 import measures_pb2

MAX_EFFECT_SIZE_VALUES = 5


class MeasuresRpcs:
    ctx = None  # the ServiceContext, set by ReflectionServicer

    def _membership(self) -> Membership:
        return Membership(self.ctx)

    def QueryMeasures(self, request: measures_pb2.QueryMeasuresRequest, _context) -> measures_pb2.QueryMeasuresResponse:
        query = _measure_query(request)
        scope = self._membership().organization_scope(query.organization_id)
        access.require_reader(scope, "reading measures")
        found = queries.page(query, request.page_size, request.page_token, render=convert.measure_cell)
        baseline_cells = []
        if request.include_baselines and not request.page_token:
            baseline_cells = baselines.baselines(process_index().source.aggregate_results(), query, scope)
        return measures_pb2.QueryMeasuresResponse(
            cells=found.cells, next_page_token=found.next_page_token,
            baselines=[convert.baseline_cell(cell) for cell in baseline_cells], min_cell=found.snapshot.min_cell,
            generation=found.snapshot.generation)

    def GetGrowth(self, request: measures_pb2.GetGrowthRequest, _context) -> measures_pb2.GetGrowthResponse:
        query = growth.growth_query(request.organization_id, request.include_children, request.student_groups,
                                    request.grades, request.tests, request.from_school_year, request.from_window,
                                    request.to_school_year, request.to_window)
        access.require_reader(self._membership().organization_scope(query.organization_id), "reading growth")
        found = growth.page(query, request.page_size, request.page_token)
        return measures_pb2.GetGrowthResponse(cells=[convert.growth_cell(cell) for cell in found.cells],
                                              next_page_token=found.next_page_token,
                                              min_cell=found.snapshot.min_cell, generation=found.snapshot.generation)

    def GetEffectSize(self, request: measures_pb2.GetEffectSizeRequest,
                      _context) -> measures_pb2.GetEffectSizeResponse:
        if bool(request.community_id) == bool(request.program_id):
            raise InvalidArgument.for_field("community_id", "give a community_id or a program_id (one of them)",
                                            reason="ONE_OF_REQUIRED")
        tests = _bounded(request.tests, "tests", queries.test)
        school_years = _bounded(request.school_years, "school_years", queries.school_year)
        windows = _bounded(request.windows, "windows", queries.window)
        group = queries.student_group(request.student_group, "student_group") if request.student_group \
            else reference.ALL_STUDENTS
        membership = self._membership()
        if request.community_id:
            queries.identifier(request.community_id, "community_id", "a community")
            scope, facilitators = membership.community(request.community_id)
            participants = membership.community_participants(request.community_id)
            access.require_reader(scope, "reading effect sizes", also=participants | facilitators)
        else:
            queries.identifier(request.program_id, "program_id", "a program")
            access.require_reader(membership.program_scope(request.program_id), "reading effect sizes")
            participants = membership.program_participants(request.program_id)
        index = process_index()
        snapshot = index.measures()  # the generation the answer is of
        results = effect_size.effect_sizes(index.source.teacher_cells(), participants,
                                           index.source.organization_parents(), snapshot.min_cell, tests=tests,
                                           school_years=school_years, windows=windows, student_group=group)
        return measures_pb2.GetEffectSizeResponse(effect_sizes=[convert.effect_size(r) for r in results],
                                                  min_cell=snapshot.min_cell, generation=snapshot.generation)

    def ListReflectionMetrics(self, request: measures_pb2.ListReflectionMetricsRequest,
                              _context) -> measures_pb2.ListReflectionMetricsResponse:
        organization = queries.organization_id(request.organization_id)
        scope = self._membership().organization_scope(organization)
        access.require_reader(scope, "listing reflection metrics")
        found = metrics.available(self.ctx.plugins, scope)
        return measures_pb2.ListReflectionMetricsResponse(metrics=[
            measures_pb2.ReflectionMetric(key=key, title=str(m.metric.title), description=str(m.metric.description),
                                          plugin=m.plugin) for key, m in sorted(found.items())])

    def ComputeReflectionMetric(self, request: measures_pb2.ComputeReflectionMetricRequest,
                                _context) -> measures_pb2.ComputeReflectionMetricResponse:
        key = metrics.metric_key(request.key)
        query = queries.measure_query(request.organization_id, request.include_children, request.student_groups, "",
                                      request.grades, request.tests, request.school_years, request.windows)
        scope = self._membership().organization_scope(query.organization_id)
        access.require_reader(scope, "computing reflection metrics")
        cells = queries.published_cells(query)
        if len(cells) > queries.MAX_METRIC_CELLS:
            raise InvalidArgument.for_field(
                "organization_id", f"selects {len(cells)} cells, more than a metric is fed at once "
                f"({queries.MAX_METRIC_CELLS}); narrow the query", reason="QUERY_TOO_LARGE")
        chosen, values = metrics.compute(self.ctx.plugins, scope, key, cells)
        return measures_pb2.ComputeReflectionMetricResponse(
            metric=measures_pb2.ReflectionMetric(key=key, title=str(chosen.metric.title),
                                                 description=str(chosen.metric.description), plugin=chosen.plugin),
            values=[convert.metric_value(v) for v in values], cells=len(cells))


def _measure_query(request: measures_pb2.QueryMeasuresRequest) -> queries.MeasureQuery:
    return queries.measure_query(request.organization_id, request.include_children, request.student_groups,
                                 request.reference_group, request.grades, request.tests, request.school_years,
                                 request.windows)


def _bounded(values, field: str, check) -> tuple[str, ...]:
    if len(values) > MAX_EFFECT_SIZE_VALUES:
        raise InvalidArgument.for_field(field, f"lists at most {MAX_EFFECT_SIZE_VALUES} values",
                                        reason="TOO_MANY_VALUES")
    return queries.listed(values, field, check)
