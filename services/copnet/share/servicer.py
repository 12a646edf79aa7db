"""The share service's gRPC API: what the region has shared and what waits to be sent."""

from __future__ import annotations

from copnet.kernel import auth, db
from copnet.kernel.auth import Role
from copnet.kernel.errors import PermissionDenied
from copnet.kernel.federation import SHARE_KINDS
from copnet.kernel.service import ServiceContext
from copnet.kernel.timestamps import timestamp
from copnet.share import stream
from copnet.share.ledger import SharedEntity
from copnet.share.v1 import share_pb2, share_pb2_grpc

# Who reads the share status: operators of the instance. Every organization of a regional
# instance is the region's, so a regional lead or county admin anywhere in it qualifies.
STATUS_READERS = frozenset({Role.PLATFORM_ADMIN, Role.REGIONAL_LEAD, Role.COUNTY_ADMIN})


def require_status_reader() -> None:
    identity = auth.require_authenticated("reading the share status")
    if not any(grant.role in STATUS_READERS for grant in identity.grants):
        wanted = ", ".join(sorted(role.value for role in STATUS_READERS))
        raise PermissionDenied(f"reading the share status needs one of [{wanted}] in this region",
                               reason="OUT_OF_SCOPE")


def kind_statuses() -> list[share_pb2.KindStatus]:
    """Per kind: records currently shared (not withdrawn) and when the latest was sent."""
    grouped = {row["_id"]["kind"] if isinstance(row["_id"], dict) else row["_id"]: row
               for row in SharedEntity._get_collection().aggregate([
                   {"$group": {"_id": "$kind", "last": {"$max": "$shared_at"},
                               "records": {"$sum": {"$cond": [{"$eq": ["$withdrawn", False]}, 1, 0]}}}}])}
    statuses = []
    for kind in SHARE_KINDS:
        row = grouped.get(kind)
        status = share_pb2.KindStatus(kind=kind, records=int(row["records"]) if row else 0)
        if row and row.get("last") is not None:
            status.last_shared_time.CopyFrom(timestamp(row["last"]))
        statuses.append(status)
    return statuses


class ShareServicer(share_pb2_grpc.ShareServiceServicer):
    def __init__(self, context: ServiceContext):
        self.ctx = context

    def GetShareStatus(self, request: share_pb2.GetShareStatusRequest, _context) -> share_pb2.GetShareStatusResponse:
        require_status_reader()
        settings = self.ctx.settings
        return share_pb2.GetShareStatusResponse(
            region=settings.region, kinds=kind_statuses(), pending=db.OutboxEntry.objects.count(),
            stream_messages=stream.stream_messages(settings) or 0, hub_link_configured=bool(settings.hub_leaf_url))
