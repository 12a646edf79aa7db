"""Community counts per county office, kept right as communities and organizations change.

Each community counts once, toward the county office above its host (none above county level).
That county office is set when the community is created and changes when its host's subtree moves
under another county office (`organization.moved`); community snapshots (`community.updated`,
`.status_changed`) say it again. Reflection keeps each community's placement and, in the same
transaction as the inbox record, moves its count from the county office it was counted toward to
the new one: an event applied twice, or a snapshot older than what is known, changes nothing.

`organization.moved` carries only the moved organization, so the communities hosted in its
subtree, and their county offices now, are asked of membership.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterator
from dataclasses import dataclass

from copnet.events.v1 import events_pb2
from copnet.kernel import db
from copnet.kernel.bus import Subscription
from copnet.kernel.events import CloudEvent
from copnet.kernel.service import ServiceContext
from copnet.kernel.timestamps import instant
from copnet.membership.client import MEMBERSHIP
from copnet.membership.v1 import membership_pb2
from copnet.reflection.models import CommunityCount, CommunityPlacement

log = logging.getLogger(__name__)

COMMUNITY_CREATED = "copnet.membership.community.created"
COMMUNITY_CHANGED = ("copnet.membership.community.updated", "copnet.membership.community.status_changed")
ORGANIZATION_MOVED = "copnet.membership.organization.moved"
# No county office sits above a county office, a region or the state: moving one of them changes
# no community's county office.
NO_COUNTY_OFFICE_ABOVE = frozenset({membership_pb2.ORGANIZATION_KIND_STATE, membership_pb2.ORGANIZATION_KIND_REGION,
                                    membership_pb2.ORGANIZATION_KIND_COUNTY_OFFICE})
PAGE_SIZE = 1000


@dataclass(frozen=True)
class Placement:
    community_id: str
    host_organization_id: str
    county_office_id: str
    # When membership last changed the community, as the event or reply says (None: it does not say).
    as_of: dt.datetime | None

    @classmethod
    def of(cls, community: membership_pb2.Community) -> Placement:
        changed = community.update_time if community.HasField("update_time") else community.create_time
        return cls(community.id, community.host_organization_id, community.county_office_id,
                   instant(changed) if changed.seconds or changed.nanos else None)

    def supersedes(self, known: CommunityPlacement | None) -> bool:
        """True unless reflection already knows a placement at least as recent (an event without a
        snapshot only places a community reflection does not know yet)."""
        if known is None:
            return True
        return self.as_of is not None and (known.as_of is None or self.as_of >= known.as_of)


def place(uow: db.UnitOfWork, placement: Placement) -> None:
    """Record where `placement`'s community is counted, moving its count from the county office it
    was counted toward (if any) to its county office now (if any)."""
    known = uow.find_one(CommunityPlacement, {"_id": placement.community_id})
    if not placement.supersedes(known):
        return
    uow.update_one(CommunityPlacement, {"_id": placement.community_id}, {"$set": {
        "host_organization_id": placement.host_organization_id, "county_office_id": placement.county_office_id,
        "as_of": placement.as_of}}, upsert=True)
    counted_toward = known.county_office_id if known else ""
    if counted_toward == placement.county_office_id:
        return
    if counted_toward:
        uow.update_one(CommunityCount, {"_id": counted_toward}, {"$inc": {"communities": -1}})
        uow.delete_many(CommunityCount, {"_id": counted_toward, "communities": {"$lte": 0}})
    if placement.county_office_id:
        uow.update_one(CommunityCount, {"_id": placement.county_office_id}, {"$inc": {"communities": 1}},
                       upsert=True)
    else:
        log.info("community %s sits above county level; not counted per county", placement.community_id)


def community_created(uow: db.UnitOfWork, event: CloudEvent) -> None:
    created = event.payload(events_pb2.CommunityCreated)
    if created.HasField("community"):
        place(uow, Placement.of(created.community))
    else:  # only the flat fields: counted if reflection does not know the community yet
        place(uow, Placement(created.community_id, created.host_organization_id, created.county_office_id, None))


def community_changed(uow: db.UnitOfWork, event: CloudEvent) -> None:
    place(uow, Placement.of(event.payload(events_pb2.CommunityChanged).community))


class Membership:
    """What the counts ask of membership, as this service."""

    def __init__(self, ctx: ServiceContext):
        self.ctx = ctx

    def _membership(self):
        return self.ctx.clients.stub(MEMBERSHIP, token=self.ctx.service_token())

    def subtree(self, organization_id: str) -> Iterator[str]:
        """`organization_id` and every organization below it."""
        yield organization_id
        token = ""
        while True:
            reply = self._membership().ListOrganizations(membership_pb2.ListOrganizationsRequest(
                ancestor_id=organization_id, page_size=PAGE_SIZE, page_token=token))
            yield from (organization.id for organization in reply.organizations)
            token = reply.next_page_token
            if not token:
                return

    def communities_hosted_by(self, organization_id: str) -> Iterator[membership_pb2.Community]:
        token = ""
        while True:
            reply = self._membership().ListCommunities(membership_pb2.ListCommunitiesRequest(
                host_organization_id=organization_id, page_size=PAGE_SIZE, page_token=token))
            yield from reply.communities
            token = reply.next_page_token
            if not token:
                return


def organization_moved(membership: Membership, uow: db.UnitOfWork, event: CloudEvent) -> None:
    """Place again every community hosted in the moved subtree, as membership has it now."""
    moved = event.payload(events_pb2.OrganizationChanged).organization
    if moved.kind in NO_COUNTY_OFFICE_ABOVE:
        return
    for host_id in membership.subtree(moved.id):
        for community in membership.communities_hosted_by(host_id):
            place(uow, Placement.of(community))


def subscriptions(ctx: ServiceContext) -> list[Subscription]:
    # One consumer for all of them: JetStream hands it the events in the order membership made them.
    membership = Membership(ctx)

    def apply(uow: db.UnitOfWork, event: CloudEvent) -> None:
        if event.type == COMMUNITY_CREATED:
            community_created(uow, event)
        elif event.type == ORGANIZATION_MOVED:
            organization_moved(membership, uow, event)
        else:
            community_changed(uow, event)

    return [Subscription("community-counts", (COMMUNITY_CREATED, *COMMUNITY_CHANGED, ORGANIZATION_MOVED), apply)]
