"""What is shared of each source, field by field: every content is built from an allow-list, so a
field the source gains (a roster, a facilitator, an e-mail) never crosses unless added here.

Pure: messages in, messages out; no database, no network.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from copnet.kernel.enums import GRADE_BAND_SPELLING, to_label
from copnet.kernel.timestamps import instant
from copnet.membership.v1 import membership_pb2
from copnet.reflection.v1 import cycles_pb2, measures_pb2, participation_pb2
from copnet.share.v1 import share_pb2

# Communities a teacher elsewhere can find: those taking sign-ups. Drafts are not public yet;
# closed and completed ones take nobody (the hub is told they are withdrawn).
CATALOG_STATUSES = frozenset({membership_pb2.COMMUNITY_STATUS_OPEN})
# The organizations whose inquiry cycles are counted.
CYCLE_COUNT_KINDS = frozenset({membership_pb2.ORGANIZATION_KIND_STATE, membership_pb2.ORGANIZATION_KIND_REGION,
                               membership_pb2.ORGANIZATION_KIND_COUNTY_OFFICE,
                               membership_pb2.ORGANIZATION_KIND_DISTRICT})
OPEN_CYCLE_STAGES = ("set_goals", "plan", "act", "assess", "reflect")


def in_catalog(community: membership_pb2.Community) -> bool:
    return community.status in CATALOG_STATUSES


def join_url(public_url: str, community_id: str) -> str:
    return f"{public_url.rstrip('/')}/communities/{community_id}" if public_url else ""


def community(source: membership_pb2.Community, public_url: str, now: dt.datetime) -> share_pb2.SharedCommunity:
    """The catalog entry: what a teacher elsewhere needs to find the community, never who is in it
    (no facilitators, no registrations, no team composition): seats are capacity less confirmed."""
    shared = share_pb2.SharedCommunity(
        id=source.id, name=source.name, kind=to_label(membership_pb2.CommunityKind, source.kind),
        description=source.description, focus=source.focus,
        grade_bands=[GRADE_BAND_SPELLING[to_label(membership_pb2.GradeBand, band)] for band in source.grade_bands
                     if band != membership_pb2.GRADE_BAND_UNSPECIFIED],
        host_organization_id=source.host_organization_id, county_office_id=source.county_office_id,
        program_id=source.program_id, status=to_label(membership_pb2.CommunityStatus, source.status),
        capacity=source.capacity, seats_available=max(source.capacity - source.confirmed_count, 0),
        eligible_organization_ids=list(source.eligibility.organization_ids),
        join_url=join_url(public_url, source.id))
    window = source.signup_window
    if source.HasField("signup_window"):
        shared.signup_opens.CopyFrom(window.open_time)
        shared.signup_closes.CopyFrom(window.close_time)
    shared.waitlist_open = waitlist_open(source, now)
    return shared


def waitlist_open(source: membership_pb2.Community, now: dt.datetime) -> bool:
    """Taking sign-ups and not past the soft deadline (after it, only free seats are taken)."""
    if source.status != membership_pb2.COMMUNITY_STATUS_OPEN or not source.HasField("signup_window"):
        return False
    window = source.signup_window
    if window.HasField("close_time") and now >= instant(window.close_time):
        return False
    return not window.HasField("soft_deadline") or now < instant(window.soft_deadline)


def program(source: membership_pb2.Program) -> share_pb2.SharedProgram:
    return share_pb2.SharedProgram(id=source.id, name=source.name, owner_organization_id=source.owner_organization_id,
                                   program_year=source.program_year, description=source.description)


def organization(source: membership_pb2.Organization) -> share_pb2.SharedOrganization:
    """Names, kinds, codes and the tree (not its history: a move names who moved it)."""
    return share_pb2.SharedOrganization(id=source.id, name=source.name,
                                        kind=to_label(membership_pb2.OrganizationKind, source.kind),
                                        parent_id=source.parent_id, code=source.code, time_zone=source.time_zone)


def region_info(region: str, public_url: str, organizations: Iterable[membership_pb2.Organization],
                min_cell: int) -> share_pb2.SharedRegion:
    return share_pb2.SharedRegion(
        region=region, public_url=public_url, min_cell=min_cell,
        region_organization_ids=sorted(o.id for o in organizations
                                       if o.kind == membership_pb2.ORGANIZATION_KIND_REGION))


def cycle_counts(organization_id: str, kind: int, counts: cycles_pb2.CycleCounts,
                 program_year: str) -> share_pb2.SharedCycleCounts:
    """Counts of cycles (never of people) of one organization and program year."""
    return share_pb2.SharedCycleCounts(
        organization_id=organization_id, level=to_label(membership_pb2.OrganizationKind, kind),
        program_year=program_year, cycles_open=sum(getattr(counts, stage) for stage in OPEN_CYCLE_STAGES),
        cycles_closed=counts.closed, cycles_abandoned=counts.abandoned, communities_with_cycles=counts.communities,
        goals_met=counts.goals_met, goals_not_met=counts.goals_not_met, goals_cannot_tell=counts.goals_cannot_tell)


def measures(source: measures_pb2.AggregatesPublished) -> measures_pb2.AggregatesPublished:
    """reflection's suppressed aggregates as published (checked by `guards`), field by field;
    the record's own version and time replace reflection's."""
    return measures_pb2.AggregatesPublished(
        schema_version=source.schema_version, region=source.region, organization_id=source.organization_id,
        level=source.level, test=source.test, school_year=source.school_year, window=source.window,
        min_cell=source.min_cell, cut_scores_version=source.cut_scores_version,
        cells=[measures_pb2.PublishedAggregateCell(
            student_group=cell.student_group, grade=cell.grade, withheld=cell.withheld,
            figures=None if cell.withheld else cell.figures) for cell in source.cells])


def participation(source: participation_pb2.ParticipationPublished) -> participation_pb2.ParticipationPublished:
    """reflection's suppressed participation figures (checked by `guards`); version and time are the
    record's own."""
    return participation_pb2.ParticipationPublished(
        schema_version=source.schema_version, region=source.region, organization_id=source.organization_id,
        level=source.level, program_year=source.program_year, min_cell=source.min_cell,
        figures=_figures(source.figures), children=[_figures(child) for child in source.children])


def _figures(row: participation_pb2.ParticipationFigures) -> participation_pb2.ParticipationFigures:
    shared = participation_pb2.ParticipationFigures(scope_id=row.scope_id, level=row.level,
                                                    program_year=row.program_year, withheld=row.withheld)
    if not row.withheld:
        for field in ("teachers_reached", "schools_reached", "districts_reached", "learning_hours",
                      "attendance_records", "attendance_rate"):
            if row.HasField(field):
                if field == "attendance_rate":
                    shared.attendance_rate.CopyFrom(row.attendance_rate)
                else:
                    setattr(shared, field, getattr(row, field))
    return shared
