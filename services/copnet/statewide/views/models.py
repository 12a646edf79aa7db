"""The views' read models: rows shaped for the statewide queries, kept by `projections.project`
in the ingest area's transaction (one replace per applied record, a delete when withdrawn).

Each row names the record it came from (`entity`, the record's key, with `region`), so a newer
version replaces exactly its own rows. Row ids sort by region then organization, which is the
order every list pages in. Figures and descriptions are kept as the serialized protobuf message
(read back in microseconds, where parsing JSON would cost a page of 1,000 rows tens of
milliseconds). An organization's name is copied onto its rows (from the directory
record, and again whenever that changes) so that a page of 1,000 rows needs no second lookup.
"""

from __future__ import annotations

import datetime as dt

import mongoengine as me

# Unset sign-up bounds are stored as these so that "open now" is two range conditions.
EARLIEST = dt.datetime(1900, 1, 1, tzinfo=dt.UTC)
LATEST = dt.datetime(2200, 1, 1, tzinfo=dt.UTC)


def row_id(*parts: str) -> str:
    return "|".join(parts)


class MeasureCellView(me.Document):
    """One published cell of a measures record: (region, organization, test, school year, window,
    student group, grade), its figures (MeasureFigures, serialized) or withheld."""

    id = me.StringField(primary_key=True)  # row_id(region, organization, test, year, window, group, grade)
    region = me.StringField(required=True)
    entity = me.StringField(required=True)
    organization_id = me.StringField(required=True)
    organization_name = me.StringField(default="")
    level = me.StringField(required=True)
    test = me.StringField(required=True)
    school_year = me.StringField(required=True)
    window = me.StringField(required=True)
    student_group = me.StringField(required=True)
    grade = me.StringField(required=True)
    withheld = me.BooleanField(default=False)
    figures = me.BinaryField()
    min_cell = me.IntField(default=0)
    cut_scores_version = me.StringField(default="")
    version = me.IntField(default=0)
    meta = {"collection": "view_measure_cells", "indexes": [
        # The embedded server walks a compound index only when a query's equality fields are
        # exactly its leading fields, with at most one operator on the next (here the id range
        # that pages and narrows to a region or organization): one index per query shape.
        # One group and grade across the state; the gaps (focal, then reference).
        ("test", "school_year", "window", "level", "student_group", "grade", "id"),
        # Any other selection of groups and grades (filtered while reading).
        ("test", "school_year", "window", "level", "id"),
        # Trends: one organization's cell over years.
        ("region", "organization_id", "test", "student_group", "grade", "window"),
        # Replacing a record's rows; renaming an organization.
        ("region", "entity"),
        ("region", "organization_id"),
    ]}


class ParticipationView(me.Document):
    """The figures of one participation record (an organization and program year): reach,
    attendance and hours (ParticipationFigures, serialized)."""

    id = me.StringField(primary_key=True)  # row_id(region, organization, program year)
    region = me.StringField(required=True)
    entity = me.StringField(required=True)
    organization_id = me.StringField(required=True)
    organization_name = me.StringField(default="")
    level = me.StringField(required=True)
    program_year = me.StringField(required=True)
    withheld = me.BooleanField(default=False)
    figures = me.BinaryField()
    version = me.IntField(default=0)
    meta = {"collection": "view_participation", "indexes": [
        ("program_year", "level", "id"),
        ("region", "organization_id", "program_year"),
        ("region", "entity"),
    ]}


class CatalogCommunityView(me.Document):
    """A community of the public catalog (SharedCommunity, serialized) and what it is filtered by."""

    id = me.StringField(primary_key=True)  # row_id(region, community)
    region = me.StringField(required=True)
    entity = me.StringField(required=True)
    status = me.StringField(default="")
    kind = me.StringField(default="")
    grade_bands = me.ListField(me.StringField())
    county_office_id = me.StringField(default="")
    host_organization_id = me.StringField(default="")
    host_organization_name = me.StringField(default="")
    program_id = me.StringField(default="")
    seats_available = me.IntField(default=0)
    signup_opens = me.DateTimeField(default=EARLIEST)
    signup_closes = me.DateTimeField(default=LATEST)
    community = me.BinaryField()
    meta = {"collection": "view_catalog_communities", "indexes": [
        ("status", "id"),
        ("region", "entity"),
        ("region", "host_organization_id"),
        ("region", "program_id"),
    ]}


class CatalogProgramView(me.Document):
    id = me.StringField(primary_key=True)  # row_id(region, program)
    region = me.StringField(required=True)
    entity = me.StringField(required=True)
    program_id = me.StringField(required=True)
    name = me.StringField(default="")
    program_year = me.StringField(default="")
    program = me.BinaryField()
    meta = {"collection": "view_catalog_programs", "indexes": [("region", "entity"), ("program_year", "id")]}


class DirectoryView(me.Document):
    """An organization of a region's directory (SharedOrganization, serialized)."""

    id = me.StringField(primary_key=True)  # row_id(region, organization)
    region = me.StringField(required=True)
    entity = me.StringField(required=True)
    organization_id = me.StringField(required=True)
    name = me.StringField(default="")
    kind = me.StringField(default="")
    parent_id = me.StringField(default="")
    code = me.StringField(default="")
    organization = me.BinaryField()
    meta = {"collection": "view_directory", "indexes": [
        ("region", "entity"), ("region", "organization_id"), ("kind", "id"), ("parent_id", "id"), ("code", "id"),
    ]}


class CycleCountsView(me.Document):
    """Inquiry-cycle counts of one organization and program year (SharedCycleCounts, serialized)."""

    id = me.StringField(primary_key=True)  # row_id(region, organization, program year)
    region = me.StringField(required=True)
    entity = me.StringField(required=True)
    organization_id = me.StringField(required=True)
    organization_name = me.StringField(default="")
    level = me.StringField(default="")
    program_year = me.StringField(default="")
    counts = me.BinaryField()
    meta = {"collection": "view_cycle_counts", "indexes": [
        ("region", "entity"), ("program_year", "id"), ("program_year", "level", "id"), ("level", "id"),
        ("region", "organization_id"),
    ]}


DOCUMENTS = [MeasureCellView, ParticipationView, CatalogCommunityView, CatalogProgramView, DirectoryView,
             CycleCountsView]

# The read models each share kind writes (a withdrawn record's rows are removed from these).
BY_KIND = {
    "measures": (MeasureCellView,),
    "participation": (ParticipationView,),
    "catalog": (CatalogCommunityView, CatalogProgramView),
    "directory": (DirectoryView,),
    "cycles": (CycleCountsView,),
}

# The read models that carry an organization's name (copied from the directory).
NAMED_BY_ORGANIZATION = (MeasureCellView, ParticipationView, CycleCountsView)
