"""The statewide service's gRPC API: one StatewideService made of each area's methods."""

from __future__ import annotations

from copnet.kernel.service import ServiceContext
from copnet.kernel.service_parts import ServicePart
from copnet.statewide import ingest, views
from copnet.statewide.v1 import statewide_pb2_grpc

PARTS: tuple[ServicePart, ...] = (ingest.PART, views.PART)


class StatewideServicer(*(part.rpcs for part in PARTS), statewide_pb2_grpc.StatewideServiceServicer):
    def __init__(self, context: ServiceContext):
        self.ctx = context
