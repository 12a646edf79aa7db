"""ListRegions and ListRejections: what arrived from each linked region (for state_coordinator and
platform_admin) and what was refused (platform_admin), held at any organization: the hub has no
organization tree of its own."""

from __future__ import annotations

import re

from copnet.kernel import auth, pagination
from copnet.kernel.auth import Role
from copnet.kernel.errors import InvalidArgument, PermissionDenied
from copnet.kernel.timestamps import timestamp
from copnet.statewide.models import RegionLinkState, Rejection
from copnet.statewide.v1 import ingest_pb2

HUB_READERS = frozenset({Role.STATE_COORDINATOR, Role.PLATFORM_ADMIN})
REGION_PATTERN = re.compile(r"^[a-z][a-z0-9-]{1,31}$")


# The refusals are the hub's operations record: its platform admins read them (a coordinator sees
# each region's count in ListRegions).
HUB_OPERATORS = frozenset({Role.PLATFORM_ADMIN})


def require_hub_reader(action: str, readers: frozenset[Role] = HUB_READERS) -> auth.Identity:
    """The caller, when it holds one of `readers` (anywhere): by default state_coordinator or
    platform_admin."""
    identity = auth.require_authenticated(action)
    if not any(grant.role in readers for grant in identity.grants):
        wanted = ", ".join(sorted(role.value for role in readers))
        raise PermissionDenied(f"{action} needs one of [{wanted}]", reason="ROLE_REQUIRED")
    return identity


class IngestRpcs:
    """ListRegions, ListRejections."""

    def ListRegions(self, request, context):
        require_hub_reader("listing the hub's regions")
        linked = self.ctx.settings.linked_regions
        stored = {state.id: state for state in RegionLinkState.objects()}
        # The linked regions in the order configured, then any that was linked once.
        names = [*linked, *sorted(name for name in stored if name not in linked)]
        return ingest_pb2.ListRegionsResponse(regions=[region_link(name, stored.get(name), name in linked)
                                                       for name in names])

    def ListRejections(self, request, context):
        require_hub_reader("listing refused share messages", HUB_OPERATORS)
        query = {}
        if request.region:
            if not REGION_PATTERN.match(request.region):
                raise InvalidArgument.for_field("region", "is not a region name")
            query["region"] = request.region
        # Rejection ids sort newest first (ingest/apply.py).
        found, token = pagination.page_of(Rejection, query, request.page_size, request.page_token, key="id")
        return ingest_pb2.ListRejectionsResponse(rejections=[rejection_message(r) for r in found],
                                                 next_page_token=token)


def region_link(name: str, state: RegionLinkState | None, linked: bool) -> ingest_pb2.RegionLink:
    link = ingest_pb2.RegionLink(region=name, linked=linked)
    if state is not None:
        link.public_url = state.public_url or ""
        link.records_applied = state.records_applied or 0
        link.rejections = state.rejections or 0
        if state.last_applied_at is not None:
            link.last_applied_time.CopyFrom(timestamp(state.last_applied_at))
    return link


def rejection_message(rejection: Rejection) -> ingest_pb2.Rejection:
    return ingest_pb2.Rejection(id=rejection.id, receive_time=timestamp(rejection.received_at),
                                region=rejection.region, subject=rejection.subject, reason=rejection.reason,
                                detail=rejection.detail, stream_sequence=rejection.stream_sequence,
                                size_bytes=rejection.size_bytes)
