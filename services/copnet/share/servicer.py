"""The share service's gRPC API."""

from __future__ import annotations

from copnet.kernel.service import ServiceContext
from copnet.share.v1 import share_pb2, share_pb2_grpc


class ShareServicer(share_pb2_grpc.ShareServiceServicer):
    def __init__(self, context: ServiceContext):
        self.ctx = context

    def GetShareStatus(self, request: share_pb2.GetShareStatusRequest, _context) -> share_pb2.GetShareStatusResponse:
        return share_pb2.GetShareStatusResponse(region=self.ctx.settings.region,
                                                hub_link_configured=bool(self.ctx.settings.hub_leaf_url))
