"""/api/v1/statewide: the statewide hub's API (only on a hub's gateway, settings.instance "hub").

What every linked region shares, read from the statewide service: the links and what was refused
on them, and the statewide views. Figures are suppressed by the regions before they ever leave
(the hub never sees a small cell's value); a withheld cell is shown as withheld, and as "*" in a
CSV export. The catalog and the organization directory are public; everything else needs a
state_coordinator or platform_admin token of the hub (rejections: platform_admin).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from flask import Response, request
from flask_openapi3 import APIBlueprint, Tag

from copnet.gateway.auth import BEARER_REQUIRED, PLATFORM_ADMINS, roles_required
from copnet.gateway.backend import on_behalf
from copnet.gateway.convert import statewide as convert
from copnet.gateway.convert.measures import csv_document
from copnet.gateway.openapi import LIST_PROBLEMS, operation_id, problem_responses
from copnet.gateway.problems import problem
from copnet.gateway.schemas.common import FieldError
from copnet.gateway.schemas.measures import ExportFormat
from copnet.gateway.schemas.statewide import (
    RegionLinkList,
    RejectionList,
    RejectionQuery,
)
from copnet.gateway.schemas.statewide_views import (
    CatalogList,
    CatalogProgramList,
    CatalogQuery,
    CycleCountList,
    CycleCountQuery,
    DirectoryOrganizationList,
    GapList,
    GapQuery,
    MeasureList,
    MeasureQuery,
    MeasureTrend,
    MeasureTrendQuery,
    OrganizationQuery,
    ParticipationList,
    ParticipationQuery,
    ParticipationTrend,
    ParticipationTrendQuery,
    ProgramQuery,
    ReachList,
)
from copnet.kernel.auth import Role
from copnet.statewide.client import STATEWIDE
from copnet.statewide.v1 import ingest_pb2, views_pb2
from copnet.statewide.v1.statewide_pb2_grpc import StatewideServiceStub

blueprint = APIBlueprint("statewide", __name__, url_prefix="/api/v1/statewide", operation_id_callback=operation_id,
                         abp_tags=[Tag(name="statewide", description="What every linked region shares: suppressed "
                                                                     "figures, the public catalog and directory.")])

# Who reads the statewide figures (at any organization: the hub has no organization tree of its own).
STATEWIDE_READERS = (Role.PLATFORM_ADMIN, Role.STATE_COORDINATOR)
READER = {"security": BEARER_REQUIRED, "openapi_extensions": roles_required(*STATEWIDE_READERS)}
# A read with nothing to validate but the token.
PLAIN_READ_PROBLEMS = problem_responses(403, 503, 504)
# A public read: anyone, no token (a token sent must still be valid: 401).
PUBLIC_LIST_PROBLEMS = problem_responses(422, 503, 504)

CSV = "text/csv"
JSON = "application/json"
EXPORT_PAGE = 1000
# A larger export is refused: ask per region, level or group.
MAX_EXPORT_ROWS = 200_000


def statewide() -> StatewideServiceStub:
    return on_behalf(STATEWIDE)


@blueprint.get("/regions", responses={200: RegionLinkList, **PLAIN_READ_PROBLEMS}, **READER)
def list_statewide_regions():
    """Every linked region: where its instance is, how many shared records the hub has applied
    from it and when the last one arrived, and how many of its messages were refused."""
    return convert.region_link_list(statewide().ListRegions(ingest_pb2.ListRegionsRequest())).model_dump(mode="json")


@blueprint.get("/rejections", responses={200: RejectionList, **LIST_PROBLEMS}, security=BEARER_REQUIRED,
               openapi_extensions=roles_required(*PLATFORM_ADMINS))
def list_statewide_rejections(query: RejectionQuery):
    """Share messages the hub refused (never applied; their payload is not kept), newest first,
    each with the rule it broke. platform_admin only."""
    reply = statewide().ListRejections(convert.rejections_request(query))
    return convert.rejection_list(reply).model_dump(mode="json")


# -- reach and participation ----------------------------------------------------------------------

@blueprint.get("/reach", responses={200: ReachList, **LIST_PROBLEMS}, **READER)
def list_statewide_reach(query: ParticipationQuery):
    """Teachers, schools and districts reached per organization of a level (default: per region)
    in a program year, as each region published them (withheld: no counts), and the statewide sum
    of the regions' figures when every linked region published its own."""
    reply = statewide().ListReach(convert.participation_request(query))
    return convert.reach_list(reply).model_dump(mode="json")


@blueprint.get("/participation", responses={200: ParticipationList, **LIST_PROBLEMS}, **READER)
def list_statewide_participation(query: ParticipationQuery):
    """Attendance rate and professional-learning hours per organization of a level in a program
    year, and the statewide sums when every linked region published them."""
    reply = statewide().ListParticipation(convert.participation_request(query))
    return convert.participation_list(reply).model_dump(mode="json")


# -- outcome measures and gaps --------------------------------------------------------------------

def _wants_csv(format: ExportFormat | None) -> bool:
    if format is not None:
        return format == ExportFormat.CSV
    return request.accept_mimetypes.best_match([JSON, CSV], default=JSON) == CSV \
        and request.accept_mimetypes[CSV] > request.accept_mimetypes[JSON]


def _every_row(query, fetch: Callable, rows_of: Callable, convert_row: Callable) -> Iterator:
    """Every row the query selects, page after page, at most MAX_EXPORT_ROWS (then TooLarge)."""
    token, count = "", 0
    while True:
        reply = fetch(query.model_copy(update={"page_size": EXPORT_PAGE, "page_token": token}))
        for row in rows_of(reply):
            count += 1
            if count > MAX_EXPORT_ROWS:
                raise TooLarge()
            yield convert_row(row)
        token = reply.next_page_token
        if not token:
            return


class TooLarge(Exception):
    """An export over MAX_EXPORT_ROWS."""


def _csv_export(name: str, make_rows: Callable[[], Iterator[list[str]]]):
    try:
        text = csv_document(list(make_rows()))
    except TooLarge:
        detail = f"the export would hold more than {MAX_EXPORT_ROWS} rows; narrow it by region, level or group"
        return problem(422, detail, reason="QUERY_TOO_LARGE", errors=[FieldError(field="format", message=detail)])
    response = Response(text, mimetype=CSV)
    response.headers.set("Content-Disposition", "attachment", filename=f"{name}.csv")
    return response


@blueprint.get("/measures", responses={200: MeasureList, **LIST_PROBLEMS}, **READER)
def list_statewide_measures(query: MeasureQuery):
    """Outcome measures across regions and districts: every published cell of a test, school year
    and window (students tested, mean scale score, % per level, % met or exceeded, distance from
    standard), a withheld cell shown as withheld with no figures; with student_groups and grades,
    statewide totals over the regions' region-level cells when every region published them.
    `format=csv` (or Accept: text/csv) exports every row, withheld figures as "*"."""
    if not _wants_csv(query.format):
        return convert.measure_list(statewide().ListMeasures(convert.measures_request(query))).model_dump(mode="json")
    rows = _every_row(query, lambda q: statewide().ListMeasures(convert.measures_request(q)),
                      lambda reply: reply.rows, convert.measure_row)
    return _csv_export(f"statewide-measures-{query.test}-{query.school_year}-{query.window}",
                       lambda: convert.measure_csv_rows(rows))


@blueprint.get("/measure-gaps", responses={200: GapList, **LIST_PROBLEMS}, **READER)
def list_statewide_measure_gaps(query: GapQuery):
    """The gap between a focal student group and a reference group (default all students) per
    organization: both cells as published and focal minus reference, withheld when either side is.
    `format=csv` (or Accept: text/csv) exports every row, withheld figures as "*"."""
    if not _wants_csv(query.format):
        return convert.gap_list(statewide().ListMeasureGaps(convert.gaps_request(query))).model_dump(mode="json")
    rows = _every_row(query, lambda q: statewide().ListMeasureGaps(convert.gaps_request(q)),
                      lambda reply: reply.rows, convert.gap_row)
    return _csv_export(f"statewide-gaps-{query.focal_group}-{query.test}-{query.school_year}-{query.window}",
                       lambda: convert.gap_csv_rows(rows, query.reference_group or "all"))


# -- trends ---------------------------------------------------------------------------------------

@blueprint.get("/trends/measures", responses={200: MeasureTrend, **LIST_PROBLEMS}, **READER)
def get_statewide_measure_trend(query: MeasureTrendQuery):
    """One organization's cell over school years (the latest version of each: a correction
    replaced the earlier figure), oldest first, with the gap to a reference group when asked."""
    reply = statewide().GetMeasureTrend(convert.measure_trend_request(query))
    return convert.measure_trend(reply).model_dump(mode="json")


@blueprint.get("/trends/participation", responses={200: ParticipationTrend, **LIST_PROBLEMS}, **READER)
def get_statewide_participation_trend(query: ParticipationTrendQuery):
    """One organization's reach and participation over program years, oldest first."""
    reply = statewide().GetParticipationTrend(views_pb2.GetParticipationTrendRequest(
        region=query.region, organization_id=query.organization_id))
    return convert.participation_trend(reply).model_dump(mode="json")


# -- the public catalog and directory -------------------------------------------------------------

@blueprint.get("/catalog", responses={200: CatalogList, **PUBLIC_LIST_PROBLEMS})
def list_statewide_catalog(query: CatalogQuery):
    """Communities of practice from every region, for a teacher looking for one open to them:
    what they are, who hosts them, the sign-up window and seats left (never who is in them), each
    with its join link on the owning region's instance (joining happens there). Anyone, no token."""
    return convert.catalog_list(statewide().ListCatalog(convert.catalog_request(query))).model_dump(mode="json")


@blueprint.get("/programs", responses={200: CatalogProgramList, **PUBLIC_LIST_PROBLEMS})
def list_statewide_programs(query: ProgramQuery):
    """Programs from every region (name, owner, program year, description). Anyone, no token."""
    return convert.program_list(statewide().ListPrograms(convert.programs_request(query))).model_dump(mode="json")


@blueprint.get("/organizations", responses={200: DirectoryOrganizationList, **PUBLIC_LIST_PROBLEMS})
def list_statewide_organizations(query: OrganizationQuery):
    """The regions' organization directory: names, kinds, codes and the tree (parent ids within
    a region). Anyone, no token."""
    reply = statewide().ListOrganizations(convert.organizations_request(query))
    return convert.organization_list(reply).model_dump(mode="json")


# -- inquiry cycles -------------------------------------------------------------------------------

@blueprint.get("/inquiry-cycle-counts", responses={200: CycleCountList, **LIST_PROBLEMS}, **READER)
def list_statewide_inquiry_cycle_counts(query: CycleCountQuery):
    """Inquiry cycles open and closed, and communities with cycles, per organization and program
    year, as each region published them (counts of cycles, never of people)."""
    reply = statewide().ListCycleCounts(convert.cycle_counts_request(query))
    return convert.cycle_count_list(reply).model_dump(mode="json")
