"""The events the share service follows (durable consumers; each handler runs in the transaction
that records the event as applied, so a redelivery shares nothing twice):

- reflection's `aggregates.published` and `participation.published` -> measures, participation;
- membership's community, registration (seats) and program events -> catalog;
- membership's organization events -> directory (and the region's own record);
- reflection's inquiry-cycle events -> cycles of the host's organizations.

A membership event only says what changed: the current public state is asked of membership.
"""

from __future__ import annotations

from collections.abc import Callable

from copnet.kernel import db
from copnet.kernel.bus import Subscription
from copnet.kernel.events import CloudEvent
from copnet.membership.v1 import membership_pb2
from copnet.reflection.v1 import measures_pb2, participation_pb2
from copnet.share import changes
from copnet.share.asking import Sources
from copnet.share.ledger import share

MEASURES_EVENTS = ("copnet.reflection.aggregates.published",)
PARTICIPATION_EVENTS = ("copnet.reflection.participation.published",)
CATALOG_EVENTS = ("copnet.membership.community.*", "copnet.membership.registration.*",
                  "copnet.membership.program.*")
DIRECTORY_EVENTS = ("copnet.membership.organization.*",)
CYCLE_EVENTS = ("copnet.reflection.cycle.*",)


def subscriptions(ctx, on_new_program: Callable[[], None] = lambda: None) -> list[Subscription]:
    """`on_new_program` is called for each program event (its year's cycle counts are shared by the
    reconcile job it asks for)."""
    sources = Sources(ctx)

    def on_measures(uow: db.UnitOfWork, event: CloudEvent) -> None:
        change = changes.measures(ctx, event.payload(measures_pb2.AggregatesPublished))
        if change is not None:
            share(ctx, uow, [change])

    def on_participation(uow: db.UnitOfWork, event: CloudEvent) -> None:
        change = changes.participation(ctx, event.payload(participation_pb2.ParticipationPublished))
        if change is not None:
            share(ctx, uow, [change])

    def on_catalog(uow: db.UnitOfWork, event: CloudEvent) -> None:
        entity = event.type.split(".")[2]
        if entity == "program":
            share(ctx, uow, [changes.program(sources.program(event.subject), event.subject)])
            on_new_program()
            return
        if entity == "registration":
            community_id = str((event.data.get("registration") or {}).get("community_id") or "")
        else:
            community_id = event.subject
        if community_id:
            share(ctx, uow, [changes.community(ctx, sources.community(community_id), community_id)])

    def on_directory(uow: db.UnitOfWork, event: CloudEvent) -> None:
        regions = list(sources.organizations(kind=membership_pb2.ORGANIZATION_KIND_REGION))
        share(ctx, uow, [changes.organization(sources.organization(event.subject), event.subject),
                         changes.region(ctx, regions)])

    def on_cycle(uow: db.UnitOfWork, event: CloudEvent) -> None:
        year = str(event.data.get("program_year") or "")
        program_years = {program.program_year for program in sources.programs()}
        found = []
        for organization_id in event.scope:
            organization = sources.organization(organization_id)
            if organization is not None:
                found += changes.cycles(sources, organization,
                                        changes.cycle_years(program_years, organization_id, also=[year]))
        share(ctx, uow, found)

    return [Subscription("measures", MEASURES_EVENTS, on_measures),
            Subscription("participation", PARTICIPATION_EVENTS, on_participation),
            Subscription("catalog", CATALOG_EVENTS, on_catalog),
            Subscription("directory", DIRECTORY_EVENTS, on_directory),
            Subscription("cycles", CYCLE_EVENTS, on_cycle)]
