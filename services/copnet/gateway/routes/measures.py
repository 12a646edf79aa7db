"""/api/v1: data reflection's measures (the reflection service). Every figure is small-cell
suppressed by the service; an export shows withheld cells as "*"."""

from __future__ import annotations

from flask import Response, request
from flask_openapi3 import APIBlueprint, Tag

from copnet.gateway.auth import BEARER_REQUIRED
from copnet.gateway.backend import reflection
from copnet.gateway.convert import measures as convert
from copnet.gateway.openapi import LIST_PROBLEMS, READ_PROBLEMS, operation_id
from copnet.gateway.problems import problem
from copnet.gateway.schemas.common import FieldError
from copnet.gateway.schemas.measures import (
    EffectSizeList,
    EffectSizePath,
    EffectSizeQuery,
    ExportFormat,
    GrowthCellList,
    GrowthQuery,
    MeasureCellList,
    MeasureFilters,
    MeasureQuery,
    MetricPath,
    ReflectionMetricList,
    ReflectionMetricQuery,
    ReflectionMetricResult,
)
from copnet.reflection.v1 import measures_pb2

blueprint = APIBlueprint("measures", __name__, url_prefix="/api/v1", operation_id_callback=operation_id,
                         abp_tags=[Tag(name="measures", description="Data reflection: measures, suppressed.")])

CSV = "text/csv"
JSON = "application/json"
EXPORT_PAGE = 5000
# A larger export is refused: ask per school year, test or group.
MAX_EXPORT_CELLS = 200_000


def _wants_csv(query: MeasureQuery) -> bool:
    if query.format is not None:
        return query.format == ExportFormat.CSV
    return request.accept_mimetypes.best_match([JSON, CSV], default=JSON) == CSV \
        and request.accept_mimetypes[CSV] > request.accept_mimetypes[JSON]


@blueprint.get("/measures", responses={200: MeasureCellList, **LIST_PROBLEMS}, security=BEARER_REQUIRED)
def query_measures(query: MeasureQuery):
    """Measure cells of an organization (and, with include_children, of every organization below it)
    per student group, grade, test, school year and window: students tested, mean scale score, % per
    level, % met or exceeded, distance from standard and the gap to the reference group. Cells of
    few students, and the cells that would give them away, are withheld (no figures). Anyone holding
    a role over the organization. `format=csv` (or Accept: text/csv) exports every cell as CSV."""
    if not _wants_csv(query):
        return convert.measure_cell_list(reflection().QueryMeasures(convert.measure_query_request(query))
                                         ).model_dump(mode="json")
    cells, token = [], ""
    while True:
        page = query.model_copy(update={"page_size": EXPORT_PAGE, "page_token": token, "include_baselines": False})
        reply = reflection().QueryMeasures(convert.measure_query_request(page))
        cells += [convert.measure_cell(c) for c in reply.cells]
        token = reply.next_page_token
        if len(cells) > MAX_EXPORT_CELLS:
            detail = (f"the export would hold more than {MAX_EXPORT_CELLS} cells; narrow it by school year, test, "
                      "window or group")
            return problem(422, detail, reason="QUERY_TOO_LARGE",
                           errors=[FieldError(field="organization_id", message=detail)])
        if not token:
            break
    response = Response(convert.csv_text(cells), mimetype=CSV)
    response.headers.set("Content-Disposition", "attachment", filename=f"measures-{query.organization_id}.csv")
    return response


@blueprint.get("/measures/growth", responses={200: GrowthCellList, **LIST_PROBLEMS}, security=BEARER_REQUIRED)
def get_growth(query: GrowthQuery):
    """Change of the same students between two windows or years (mean change in scale score), per
    organization, group and grade; small cells withheld like every measure."""
    return convert.growth_cell_list(reflection().GetGrowth(convert.growth_request(query))).model_dump(mode="json")


@blueprint.get("/communities/<id>/effect-size", responses={200: EffectSizeList, **LIST_PROBLEMS},
               security=BEARER_REQUIRED)
def get_community_effect_size(path: EffectSizePath, query: EffectSizeQuery):
    """Hedges' g (with its 95 % confidence interval) of the students of the teachers confirmed in the
    community against comparable students of non-participating teachers, per test, year and window;
    withheld when a side has too few students or fewer than 3 teachers."""
    reply = reflection().GetEffectSize(convert.effect_size_request(query, community_id=path.id))
    return convert.effect_size_list(reply).model_dump(mode="json")


@blueprint.get("/programs/<id>/effect-size", responses={200: EffectSizeList, **LIST_PROBLEMS}, security=BEARER_REQUIRED)
def get_program_effect_size(path: EffectSizePath, query: EffectSizeQuery):
    """As for a community, with the teachers confirmed in any community of the program."""
    reply = reflection().GetEffectSize(convert.effect_size_request(query, program_id=path.id))
    return convert.effect_size_list(reply).model_dump(mode="json")


@blueprint.get("/reflection-metrics", responses={200: ReflectionMetricList, **LIST_PROBLEMS}, security=BEARER_REQUIRED)
def list_reflection_metrics(query: ReflectionMetricQuery):
    """The metrics the plugins enabled at the organization add."""
    reply = reflection().ListReflectionMetrics(
        measures_pb2.ListReflectionMetricsRequest(organization_id=query.organization_id))
    return ReflectionMetricList(items=[convert.reflection_metric(m) for m in reply.metrics]).model_dump(mode="json")


@blueprint.get("/reflection-metrics/<key>", responses={200: ReflectionMetricResult, **READ_PROBLEMS,
                                                       **LIST_PROBLEMS}, security=BEARER_REQUIRED)
def compute_reflection_metric(path: MetricPath, query: MeasureFilters):
    """A plugin's metric computed over the published (suppressed) cells the query selects."""
    reply = reflection().ComputeReflectionMetric(convert.metric_request(path.key, query))
    return convert.metric_result(reply).model_dump(mode="json")

