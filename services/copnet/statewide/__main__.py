"""`python -m copnet.statewide`: run the statewide service (on the hub)."""

import sys

from copnet.kernel.service import ServiceDefinition, run
from copnet.statewide.servicer import PARTS, StatewideServicer
from copnet.statewide.v1 import statewide_pb2_grpc

DEFINITION = ServiceDefinition(
    name="statewide",
    full_service_name="copnet.statewide.v1.StatewideService",
    add_servicer=lambda server, ctx: statewide_pb2_grpc.add_StatewideServiceServicer_to_server(
        StatewideServicer(ctx), server),
    documents=[document for part in PARTS for document in part.documents],
    subscriptions=lambda ctx: [s for part in PARTS for s in part.subscriptions(ctx)],
    jobs=lambda ctx: [job for part in PARTS for job in part.jobs(ctx)],
    streams=lambda ctx: [stream for part in PARTS for stream in part.streams(ctx)],
)

if __name__ == "__main__":
    sys.exit(run(DEFINITION))
