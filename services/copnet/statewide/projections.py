"""The views' read models, kept by the ingest area in the same transaction as each record it
applies: `project(uow, region, record)` is called once per applied version (never for a stale or
repeated one), with `record.withdrawn` set when the entity is gone. The views area owns this
module and the documents it writes (`PROJECTION_DOCUMENTS`, in statewide/views/models.py).

Each record's rows are replaced whole (deleted by (region, record key), then inserted), so a
correction replaces the figures it corrects and a withdrawn record leaves no row. Only `uow`'s
methods are used: the rows commit or roll back with the record's state and history.
"""

from __future__ import annotations

from copnet.kernel import db
from copnet.kernel.timestamps import instant
from copnet.share.v1 import share_pb2
from copnet.statewide.views.models import (
    BY_KIND,
    DOCUMENTS,
    EARLIEST,
    LATEST,
    NAMED_BY_ORGANIZATION,
    CatalogCommunityView,
    CatalogProgramView,
    CycleCountsView,
    DirectoryView,
    MeasureCellView,
    ParticipationView,
    row_id,
)

PROJECTION_DOCUMENTS: list = list(DOCUMENTS)


def as_bytes(message) -> bytes:
    return message.SerializeToString(deterministic=True)


def project(uow: db.UnitOfWork, region: str, record: share_pb2.SharedRecord) -> None:
    """Bring the read models up to `record` (the newest version of its (region, kind, key))."""
    for document_class in BY_KIND.get(record.kind, ()):
        uow.delete_many(document_class, {"region": region, "entity": record.key})
    if record.withdrawn:
        return
    content = record.WhichOneof("content")
    rows = ROWS[content](uow, region, record) if content in ROWS else []
    by_class: dict[type, list] = {}
    for row in rows:
        by_class.setdefault(type(row), []).append(row)
    for documents in by_class.values():
        uow.insert_many(documents)
    if content == "organization":
        rename(uow, region, record.organization)


def organization_name(uow: db.UnitOfWork, region: str, organization_id: str) -> str:
    found = uow.find_one(DirectoryView, {"_id": row_id(region, organization_id)})
    return found.name if found is not None else ""


def measure_rows(uow, region: str, record: share_pb2.SharedRecord) -> list[MeasureCellView]:
    measures = record.measures
    name = organization_name(uow, region, measures.organization_id)
    return [MeasureCellView(
        id=row_id(region, measures.organization_id, measures.test, measures.school_year, measures.window,
                  cell.student_group, cell.grade),
        region=region, entity=record.key, organization_id=measures.organization_id, organization_name=name,
        level=measures.level, test=measures.test, school_year=measures.school_year, window=measures.window,
        student_group=cell.student_group, grade=cell.grade, withheld=cell.withheld,
        figures=b"" if cell.withheld else as_bytes(cell.figures), min_cell=measures.min_cell,
        cut_scores_version=measures.cut_scores_version, version=record.version)
        for cell in measures.cells]


def participation_rows(uow, region: str, record: share_pb2.SharedRecord) -> list[ParticipationView]:
    # Only the record's own figures: each child of district level and above has its own record.
    participation = record.participation
    figures = participation.figures
    return [ParticipationView(
        id=row_id(region, participation.organization_id, participation.program_year), region=region,
        entity=record.key, organization_id=participation.organization_id,
        organization_name=organization_name(uow, region, participation.organization_id),
        level=participation.level or figures.level, program_year=participation.program_year,
        withheld=figures.withheld, figures=as_bytes(figures), version=record.version)]


def community_rows(uow, region: str, record: share_pb2.SharedRecord) -> list[CatalogCommunityView]:
    community = record.community
    return [CatalogCommunityView(
        id=row_id(region, community.id), region=region, entity=record.key, status=community.status,
        kind=community.kind, grade_bands=list(community.grade_bands), county_office_id=community.county_office_id,
        host_organization_id=community.host_organization_id,
        host_organization_name=organization_name(uow, region, community.host_organization_id),
        program_id=community.program_id, seats_available=community.seats_available,
        signup_opens=instant(community.signup_opens) if community.HasField("signup_opens") else EARLIEST,
        signup_closes=instant(community.signup_closes) if community.HasField("signup_closes") else LATEST,
        community=as_bytes(community))]


def program_rows(uow, region: str, record: share_pb2.SharedRecord) -> list[CatalogProgramView]:
    program = record.program
    return [CatalogProgramView(id=row_id(region, program.id), region=region, entity=record.key, program_id=program.id,
                               name=program.name, program_year=program.program_year, program=as_bytes(program))]


def organization_rows(uow, region: str, record: share_pb2.SharedRecord) -> list[DirectoryView]:
    organization = record.organization
    return [DirectoryView(id=row_id(region, organization.id), region=region, entity=record.key,
                          organization_id=organization.id, name=organization.name, kind=organization.kind,
                          parent_id=organization.parent_id, code=organization.code,
                          organization=as_bytes(organization))]


def cycle_rows(uow, region: str, record: share_pb2.SharedRecord) -> list[CycleCountsView]:
    counts = record.cycles
    return [CycleCountsView(id=row_id(region, counts.organization_id, counts.program_year), region=region,
                            entity=record.key, organization_id=counts.organization_id,
                            organization_name=organization_name(uow, region, counts.organization_id),
                            level=counts.level, program_year=counts.program_year, counts=as_bytes(counts))]


def rename(uow: db.UnitOfWork, region: str, organization: share_pb2.SharedOrganization) -> None:
    """Copy a directory record's name onto every row of that organization (a rename, or the
    directory arriving after the figures)."""
    for document_class in NAMED_BY_ORGANIZATION:
        uow.update_many(document_class, {"region": region, "organization_id": organization.id},
                        {"$set": {"organization_name": organization.name}})
    uow.update_many(CatalogCommunityView, {"region": region, "host_organization_id": organization.id},
                    {"$set": {"host_organization_name": organization.name}})


ROWS = {
    "measures": measure_rows,
    "participation": participation_rows,
    "community": community_rows,
    "program": program_rows,
    "organization": organization_rows,
    "cycles": cycle_rows,
}
