"""From a source to the Change of one (kind, key): what each entity is now, asked of its owner
(membership, reflection) or taken from reflection's published message after the guard's check."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable

from copnet.kernel.db import utcnow
from copnet.membership.v1 import membership_pb2
from copnet.reflection.v1 import measures_pb2, participation_pb2
from copnet.share import builders, guards, records
from copnet.share.asking import Sources
from copnet.share.ledger import Change, SharedEntity

log = logging.getLogger(__name__)


def measures(ctx, message: measures_pb2.AggregatesPublished) -> Change | None:
    """reflection's message as a Change; None (logged as an error) when the guard refuses it."""
    key = records.measures_key(message.organization_id, message.test, message.school_year, message.window)
    if message.withdrawn:
        return Change("measures", key, None, source_version=message.version)
    try:
        guards.check_measures(message, ctx.settings.region, ctx.settings.suppression_min_cell)
    except guards.Refused as refusal:
        log.error("share: not shared, failed the suppression check: %s", refusal)
        return None
    return Change("measures", key, builders.measures(message), source_version=message.version)


def participation(ctx, message: participation_pb2.ParticipationPublished) -> Change | None:
    key = records.year_key(message.organization_id, message.program_year)
    try:
        guards.check_participation(message, ctx.settings.region, ctx.settings.suppression_min_cell)
    except guards.Refused as refusal:
        log.error("share: not shared, failed the suppression check: %s", refusal)
        return None
    return Change("participation", key, builders.participation(message), source_version=message.version)


def community(ctx, source: membership_pb2.Community | None, community_id: str,
              now: dt.datetime | None = None) -> Change:
    """In the catalog while open; withdrawn when not (or gone)."""
    key = records.community_key(community_id)
    if source is None or not builders.in_catalog(source):
        return Change("catalog", key, None)
    return Change("catalog", key, builders.community(source, ctx.settings.public_url, now or utcnow()))


def program(source: membership_pb2.Program | None, program_id: str) -> Change:
    return Change("catalog", records.program_key(program_id), None if source is None else builders.program(source))


def organization(source: membership_pb2.Organization | None, organization_id: str) -> Change:
    return Change("directory", records.organization_key(organization_id),
                  None if source is None else builders.organization(source))


def region(ctx, organizations: Iterable[membership_pb2.Organization]) -> Change:
    return Change("directory", records.REGION_KEY, builders.region_info(
        ctx.settings.region, ctx.settings.public_url, organizations, ctx.settings.suppression_min_cell))


def cycle_years(program_years: Iterable[str], organization_id: str, also: Iterable[str] = ()) -> set[str]:
    """The program years to count an organization's cycles for: the programs' years, those already
    shared for it, and `also`."""
    return {year for year in (*program_years, *cycle_years_shared(organization_id), *also) if year}


def cycle_years_shared(organization_id: str) -> set[str]:
    """The program years whose cycle counts of the organization were shared (a year keeps being
    counted once it was, even when its program is gone)."""
    prefix = records.year_key(organization_id, "")
    return {doc.key[len(prefix):] for doc in SharedEntity.objects(kind="cycles", key__startswith=prefix).only("key")}


def cycles(sources: Sources, organization: membership_pb2.Organization, years: Iterable[str]) -> list[Change]:
    """The organization's counts per program year (none below district level)."""
    if organization.kind not in builders.CYCLE_COUNT_KINDS:
        return []
    return [Change("cycles", records.year_key(organization.id, year),
                   builders.cycle_counts(organization.id, organization.kind,
                                         sources.cycle_counts(organization.id, year), year))
            for year in sorted(years)]
