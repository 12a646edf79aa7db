"""The statewide views' RPCs (views.proto), read from the projections (views/models.py).

Readers: state_coordinator and platform_admin (held at any organization: the hub has no tree of
its own); the catalog, the programs and the directory are public. Every list is one indexed find
in id order (region, then organization) of at most page_size + 1 rows, read raw (no document
objects) with figures kept serialized; a statewide total is one more find of the region-level
rows, on the first page only.
"""

from __future__ import annotations

from collections import defaultdict

from copnet.kernel import db, pagination
from copnet.kernel.db import utcnow
from copnet.kernel.errors import InvalidArgument
from copnet.reflection.reference import WINDOWS
from copnet.reflection.v1 import measures_pb2, participation_pb2
from copnet.share.v1 import share_pb2
from copnet.statewide.ingest.rpc import require_hub_reader
from copnet.statewide.v1 import views_pb2
import copnet.statewide.views.figures as arithmetic
import copnet.statewide.views.requests as check
from copnet.statewide.views.models import (
    CatalogCommunityView,
    CatalogProgramView,
    CycleCountsView,
    DirectoryView,
    MeasureCellView,
    ParticipationView,
    row_id,
)


def id_range(*prefix: str) -> tuple[str, str] | None:
    """The ids of one region's rows (or one organization's in it): row ids start with them."""
    if not prefix or not prefix[0]:
        return None
    start = row_id(*[part for part in prefix if part], "")
    return start, start + "\uffff"


def page(document_class, query: dict, request, token_query: dict, *, within: tuple[str, str] | None = None,
         keep=None) -> tuple[list[dict], str]:
    """One page of raw rows matching `query` (and `keep`, a test applied while reading) in id
    order, within an id range; `token_query` names the filters a page token is bound to (AIP-158:
    a token is refused for another query).

    `query` holds equalities only and the id bounds are its one operator, so the embedded server
    walks the compound index whose leading fields they are (views/models.py)."""
    size = pagination.page_size(request.page_size)
    after = pagination.decode_token(request.page_token, token_query)
    collection = document_class._get_collection()
    found: list[dict] = []
    # Without `keep`, one find; with it, batches until the page (and one more row) is full.
    batch = size + 1 if keep is None else max(200, 4 * (size + 1))
    while True:
        bounds: dict = {}
        if after is not None and (within is None or after >= within[0]):
            bounds["$gt"] = after
        elif within is not None:
            bounds["$gte"] = within[0]
        if within is not None:
            bounds["$lt"] = within[1]
        filters = {**query, "_id": bounds} if bounds else dict(query)
        rows = list(collection.find(filters).sort("_id", 1).limit(batch))
        found.extend(rows if keep is None else filter(keep, rows))
        if keep is None or len(found) > size or len(rows) < batch:
            break
        after = rows[-1]["_id"]
    token = pagination.encode_token(found[size - 1]["_id"], token_query) if len(found) > size else ""
    return found[:size], token


def without_empty(filters: dict) -> dict:
    return {key: value for key, value in filters.items() if value not in ("", [], None, False)}


# --- conversions --------------------------------------------------------------------------------

def measure_figures(row: dict) -> measures_pb2.MeasureFigures | None:
    return None if row.get("withheld") else measures_pb2.MeasureFigures.FromString(row.get("figures") or b"")


def measure_row(row: dict) -> views_pb2.MeasureRow:
    out = views_pb2.MeasureRow(
        region=row["region"], organization_id=row["organization_id"], organization_name=row.get("organization_name", ""),
        level=row["level"], test=row["test"], school_year=row["school_year"], window=row["window"],
        student_group=row["student_group"], grade=row["grade"], withheld=bool(row.get("withheld")),
        min_cell=row.get("min_cell", 0), cut_scores_version=row.get("cut_scores_version", ""),
        version=row.get("version", 0))
    if not out.withheld:
        out.figures.ParseFromString(row.get("figures") or b"")
    return out


def cell(row: dict | None) -> arithmetic.Cell | None:
    return None if row is None else arithmetic.Cell(bool(row.get("withheld")), measure_figures(row))


def participation_figures(row: dict) -> participation_pb2.ParticipationFigures:
    return participation_pb2.ParticipationFigures.FromString(row.get("figures") or b"")


def reach_row(row: dict) -> views_pb2.ReachRow:
    figures = participation_figures(row)
    out = views_pb2.ReachRow(region=row["region"], organization_id=row["organization_id"],
                             organization_name=row.get("organization_name", ""), level=row["level"],
                             program_year=row["program_year"], withheld=figures.withheld)
    for name in ("teachers_reached", "schools_reached", "districts_reached"):
        if not figures.withheld and figures.HasField(name):
            setattr(out, name, getattr(figures, name))
    return out


def participation_row(row: dict) -> views_pb2.ParticipationRow:
    figures = participation_figures(row)
    out = views_pb2.ParticipationRow(region=row["region"], organization_id=row["organization_id"],
                                     organization_name=row.get("organization_name", ""), level=row["level"],
                                     program_year=row["program_year"], withheld=figures.withheld)
    if not figures.withheld:
        if figures.HasField("attendance_rate"):
            out.attendance_rate.CopyFrom(figures.attendance_rate)
        if figures.HasField("learning_hours"):
            out.learning_hours = figures.learning_hours
        if figures.HasField("attendance_records"):
            out.attendance_records = figures.attendance_records
    return out


def region_parts(rows: list[dict], linked_regions) -> tuple[arithmetic.Completeness, list[dict]]:
    """Which linked regions published region-level rows (withheld when any of theirs is), and those rows."""
    withheld: dict[str, bool] = {}
    counted = []
    for row in rows:
        if row["region"] not in linked_regions:
            continue
        withheld[row["region"]] = withheld.get(row["region"], False) or bool(row.get("withheld"))
        counted.append(row)
    return arithmetic.completeness(linked_regions, withheld), counted


def window_order(window: str) -> int:
    return WINDOWS.index(window) if window in WINDOWS else len(WINDOWS)


class ViewRpcs:
    """ListReach, ListParticipation, ListMeasures, ListMeasureGaps, GetMeasureTrend,
    GetParticipationTrend, ListCatalog, ListPrograms, ListOrganizations, ListCycleCounts."""

    # --- reach and participation ------------------------------------------------------------------

    def _participation_page(self, request, action: str):
        require_hub_reader(action)
        program_year = check.year(request.program_year, "program_year", required=True)
        level = check.one_of(request.level, "level", check.PARTICIPATION_LEVELS, default="region")
        region = check.optional_region(request.region)
        query = {"program_year": program_year, "level": level}
        rows, token = page(ParticipationView, query, request, without_empty({**query, "region": region}),
                           within=id_range(region))
        statewide = None
        if not request.page_token:
            linked = self.ctx.settings.linked_regions
            regional = list(ParticipationView._get_collection().find({"program_year": program_year,
                                                                      "level": "region"}))
            statewide = region_parts(regional, linked)
        return program_year, rows, token, statewide

    def ListReach(self, request, context):
        program_year, rows, token, statewide = self._participation_page(request, "reading statewide reach")
        response = views_pb2.ListReachResponse(rows=[reach_row(row) for row in rows], next_page_token=token)
        if statewide is not None:
            parts, regional = statewide
            total = response.statewide
            total.program_year, total.complete = program_year, parts.complete
            total.missing_regions.extend(parts.missing)
            total.withheld_regions.extend(parts.withheld)
            figures = [reach_row(row) for row in regional]
            for name in ("teachers_reached", "schools_reached", "districts_reached"):
                value = arithmetic.sum_if_complete(parts, [getattr(f, name) if f.HasField(name) else None
                                                           for f in figures])
                if value is not None:
                    setattr(total, name, value)
        return response

    def ListParticipation(self, request, context):
        program_year, rows, token, statewide = self._participation_page(request, "reading statewide participation")
        response = views_pb2.ListParticipationResponse(rows=[participation_row(row) for row in rows],
                                                       next_page_token=token)
        if statewide is not None:
            parts, regional = statewide
            total = response.statewide
            total.program_year, total.complete = program_year, parts.complete
            total.missing_regions.extend(parts.missing)
            total.withheld_regions.extend(parts.withheld)
            figures = [participation_row(row) for row in regional]
            hours = arithmetic.sum_if_complete(
                parts, [f.learning_hours if f.HasField("learning_hours") else None for f in figures])
            if hours is not None:
                total.learning_hours = round(hours, 1)
            records = arithmetic.sum_if_complete(
                parts, [f.attendance_records if f.HasField("attendance_records") else None for f in figures])
            if records is not None:
                total.attendance_records = records
        return response

    # --- outcome measures and gaps ----------------------------------------------------------------

    def ListMeasures(self, request, context):
        require_hub_reader("reading statewide measures")
        test = check.name(request.test, "test", required=True)
        school_year = check.year(request.school_year, "school_year", required=True)
        window = check.window(request.window, required=True)
        level = check.one_of(request.level, "level", check.MEASURE_LEVELS, default="district")
        region = check.optional_region(request.region)
        organization_id = check.optional_id(request.organization_id, "organization_id")
        groups, grades = check.student_groups(request.student_groups), check.grades(request.grades)
        if organization_id and not region:
            raise InvalidArgument.for_field("region", "is required with organization_id")
        query = {"test": test, "school_year": school_year, "window": window, "level": level}
        keep = None
        if len(groups) == 1 and len(grades) == 1:
            # The statewide table's path: one group and grade, straight from its index.
            query.update(student_group=groups[0], grade=grades[0])
        elif groups or grades:
            wanted_groups, wanted_grades = set(groups), set(grades)

            def keep(row: dict) -> bool:
                return ((not wanted_groups or row["student_group"] in wanted_groups)
                        and (not wanted_grades or row["grade"] in wanted_grades))
        token_query = {**without_empty({"test": test, "school_year": school_year, "window": window, "level": level,
                                        "region": region, "organization_id": organization_id}),
                       "student_groups": groups, "grades": grades}
        rows, token = page(MeasureCellView, query, request, token_query, within=id_range(region, organization_id),
                           keep=keep)
        response = views_pb2.ListMeasuresResponse(rows=[measure_row(row) for row in rows], next_page_token=token)
        if not request.page_token and groups and grades and len(groups) * len(grades) <= check.MAX_TOTAL_PAIRS:
            response.statewide.extend(self._measure_totals(test, school_year, window, groups, grades))
        return response

    def _measure_totals(self, test, school_year, window, groups, grades) -> list[views_pb2.MeasureTotal]:
        linked = self.ctx.settings.linked_regions
        by_pair: dict[tuple[str, str], dict[str, dict]] = defaultdict(dict)
        # Equalities then one operator (the groups): the (test, ..., level, student_group, ...) index.
        query = {"test": test, "school_year": school_year, "window": window, "level": "region",
                 "student_group": groups[0] if len(groups) == 1 else {"$in": groups}}
        wanted_grades = set(grades)
        for row in MeasureCellView._get_collection().find(query):
            if row["grade"] not in wanted_grades:
                continue
            by_region = by_pair[(row["student_group"], row["grade"])]
            # A region with more than one region-level organization is counted by none of them.
            by_region[row["region"]] = None if row["region"] in by_region else row
        totals = []
        for group in groups:
            for grade in grades:
                cells = {region: cell(row) if row is not None else arithmetic.Cell(True)
                         for region, row in by_pair[(group, grade)].items()}
                parts = arithmetic.completeness(linked, {r: c.withheld for r, c in cells.items() if r in linked})
                total = views_pb2.MeasureTotal(student_group=group, grade=grade, complete=parts.complete,
                                               missing_regions=parts.missing, withheld_regions=parts.withheld)
                figures = arithmetic.measure_total(group, grade, linked, cells)
                if figures is not None:
                    total.students_tested = figures.students_tested
                    if figures.students_tested:
                        total.mean_scale_score = figures.mean_scale_score
                    if figures.HasField("percent_met_or_exceeded"):
                        total.percent_met_or_exceeded.CopyFrom(figures.percent_met_or_exceeded)
                totals.append(total)
        return totals

    def ListMeasureGaps(self, request, context):
        require_hub_reader("reading statewide gaps")
        test = check.name(request.test, "test", required=True)
        school_year = check.year(request.school_year, "school_year", required=True)
        window = check.window(request.window, required=True)
        focal = check.name(request.focal_group, "focal_group", required=True)
        reference = check.name(request.reference_group, "reference_group", default=check.ALL_GROUPS)
        if focal == reference:
            raise InvalidArgument.for_field("reference_group", "must differ from focal_group")
        grade = check.grade(request.grade)
        level = check.one_of(request.level, "level", check.MEASURE_LEVELS, default="district")
        region = check.optional_region(request.region)
        common = {"test": test, "school_year": school_year, "window": window, "level": level}
        token_query = {**common, "grade": grade, "region": region, "focal_group": focal, "reference_group": reference}
        rows, token = page(MeasureCellView, {**common, "student_group": focal, "grade": grade}, request, token_query,
                           within=id_range(region))
        references = {}
        if rows:
            # The reference cells of the same organizations: one find over the page's id range.
            first = row_id(rows[0]["region"], rows[0]["organization_id"], "")
            last = row_id(rows[-1]["region"], rows[-1]["organization_id"], "\uffff")
            found = MeasureCellView._get_collection().find(
                {**common, "student_group": reference, "grade": grade, "_id": {"$gte": first, "$lte": last}})
            references = {(row["region"], row["organization_id"]): row for row in found}
        response = views_pb2.ListMeasureGapsResponse(next_page_token=token)
        for row in rows:
            other = references.get((row["region"], row["organization_id"]))
            out = response.rows.add(region=row["region"], organization_id=row["organization_id"],
                                    organization_name=row.get("organization_name", ""), level=row["level"],
                                    grade=row["grade"], focal_group=focal, focal_withheld=bool(row.get("withheld")),
                                    reference_published=other is not None,
                                    reference_withheld=bool(other is not None and other.get("withheld")))
            mine, theirs = cell(row), cell(other)
            if mine.figures is not None:
                out.focal.CopyFrom(mine.figures)
            if theirs is not None and theirs.figures is not None:
                out.reference.CopyFrom(theirs.figures)
            out.gap.CopyFrom(arithmetic.gap(mine, theirs, reference))
        return response

    # --- trends -----------------------------------------------------------------------------------

    def GetMeasureTrend(self, request, context):
        require_hub_reader("reading a measure's trend")
        region = check.required_region(request.region)
        organization_id = check.required_id(request.organization_id, "organization_id")
        test = check.name(request.test, "test", required=True)
        group = check.name(request.student_group, "student_group", default=check.ALL_GROUPS)
        grade = check.grade(request.grade)
        window = check.window(request.window, required=False)
        reference = check.name(request.reference_group, "reference_group")
        if reference and reference == group:
            raise InvalidArgument.for_field("reference_group", "must differ from student_group")
        base = without_empty({"region": region, "organization_id": organization_id, "test": test, "grade": grade,
                              "window": window})
        # Equalities only: the (region, organization_id, test, student_group, grade, window) index.
        collection = MeasureCellView._get_collection()
        # Each (school year, window) has one row: the record's latest version (a correction replaced it).
        points = sorted(collection.find({**base, "student_group": group}),
                        key=lambda row: (row["school_year"], window_order(row["window"])))
        references = ({(row["school_year"], row["window"]): row
                       for row in collection.find({**base, "student_group": reference})} if reference else {})
        response = views_pb2.GetMeasureTrendResponse(region=region, organization_id=organization_id)
        for row in points:
            response.organization_name = row.get("organization_name", "")
            point = response.points.add(school_year=row["school_year"], window=row["window"],
                                        withheld=bool(row.get("withheld")), version=row.get("version", 0))
            mine = cell(row)
            if mine.figures is not None:
                point.figures.CopyFrom(mine.figures)
            if reference:
                point.gap.CopyFrom(arithmetic.gap(mine, cell(references.get((row["school_year"], row["window"]))),
                                                  reference))
        return response

    def GetParticipationTrend(self, request, context):
        require_hub_reader("reading a participation trend")
        region = check.required_region(request.region)
        organization_id = check.required_id(request.organization_id, "organization_id")
        rows = sorted(ParticipationView._get_collection().find({"region": region, "organization_id": organization_id}),
                      key=lambda row: row["program_year"])
        response = views_pb2.GetParticipationTrendResponse(region=region, organization_id=organization_id)
        for row in rows:
            response.organization_name = row.get("organization_name", "")
            response.points.add(program_year=row["program_year"], reach=reach_row(row),
                                participation=participation_row(row))
        return response

    # --- catalog and directory (public) -----------------------------------------------------------

    def ListCatalog(self, request, context):
        region = check.optional_region(request.region)
        band = check.grade_band(request.grade_band)
        kind = check.kind(request.kind)
        county_office_id = check.optional_id(request.county_office_id, "county_office_id")
        token_query = without_empty({"region": region, "grade_band": band, "kind": kind,
                                     "county_office_id": county_office_id, "open_now": request.open_now,
                                     "seats_available": request.seats_available})
        # The catalog is small (communities open to sign-up): filters beyond the region read its rows.
        query = without_empty({"grade_bands": band, "kind": kind, "county_office_id": county_office_id})
        if request.open_now:
            now = utcnow()
            query.update({"status": "open", "signup_opens": {"$lte": now}, "signup_closes": {"$gt": now}})
        if request.seats_available:
            query["seats_available"] = {"$gt": 0}
        rows, token = page(CatalogCommunityView, query, request, token_query, within=id_range(region))
        program_ids = sorted({row_id(row["region"], row["program_id"]) for row in rows if row.get("program_id")})
        programs = {}
        for chunk in db.in_chunks(program_ids):
            for found in CatalogProgramView._get_collection().find({"_id": {"$in": chunk}}, {"name": 1}):
                programs[found["_id"]] = found.get("name", "")
        response = views_pb2.ListCatalogResponse(next_page_token=token)
        for row in rows:
            entry = response.entries.add(region=row["region"], host_organization_name=row.get("host_organization_name", ""),
                                         program_name=programs.get(row_id(row["region"], row.get("program_id", "")), ""))
            entry.community.ParseFromString(row.get("community") or b"")
        return response

    def ListPrograms(self, request, context):
        region = check.optional_region(request.region)
        program_year = check.year(request.program_year, "program_year", required=False)
        query = without_empty({"program_year": program_year})
        rows, token = page(CatalogProgramView, query, request, {**query, "region": region}, within=id_range(region))
        return views_pb2.ListProgramsResponse(
            programs=[views_pb2.CatalogProgram(region=row["region"],
                                               program=share_pb2.SharedProgram.FromString(row.get("program") or b""))
                      for row in rows], next_page_token=token)

    def ListOrganizations(self, request, context):
        region = check.optional_region(request.region)
        kind = check.kind(request.kind)
        parent_id = check.optional_id(request.parent_id, "parent_id")
        code = check.code(request.code)
        if parent_id and not region:
            raise InvalidArgument.for_field("region", "is required with parent_id")
        query = without_empty({"kind": kind, "parent_id": parent_id, "code": code})
        rows, token = page(DirectoryView, query, request, {**query, "region": region}, within=id_range(region))
        return views_pb2.ListOrganizationsResponse(
            organizations=[views_pb2.DirectoryOrganization(
                region=row["region"], organization=share_pb2.SharedOrganization.FromString(row.get("organization") or b""))
                for row in rows], next_page_token=token)

    # --- inquiry cycles ---------------------------------------------------------------------------

    def ListCycleCounts(self, request, context):
        require_hub_reader("reading inquiry-cycle counts")
        region = check.optional_region(request.region)
        organization_id = check.optional_id(request.organization_id, "organization_id")
        program_year = check.year(request.program_year, "program_year", required=False)
        level = check.kind(request.level, "level")
        if organization_id and not region:
            raise InvalidArgument.for_field("region", "is required with organization_id")
        query = without_empty({"program_year": program_year, "level": level})
        rows, token = page(CycleCountsView, query, request,
                           {**query, "region": region, "organization_id": organization_id},
                           within=id_range(region, organization_id))
        return views_pb2.ListCycleCountsResponse(
            rows=[views_pb2.CycleCountsRow(region=row["region"], organization_name=row.get("organization_name", ""),
                                           counts=share_pb2.SharedCycleCounts.FromString(row.get("counts") or b""))
                  for row in rows], next_page_token=token)
