"""`python -m copnet.reflection`: run the reflection service."""

import sys

from copnet.kernel.service import ServiceDefinition, run
from copnet.reflection import counts
from copnet.reflection.models import CommunityCount, CommunityPlacement
from copnet.reflection.servicer import PARTS, ReflectionServicer
from copnet.reflection.v1 import reflection_pb2_grpc

DEFINITION = ServiceDefinition(
    name="reflection",
    full_service_name="copnet.reflection.v1.ReflectionService",
    add_servicer=lambda server, ctx: reflection_pb2_grpc.add_ReflectionServiceServicer_to_server(
        ReflectionServicer(ctx), server),
    documents=[CommunityCount, CommunityPlacement, *(document for part in PARTS for document in part.documents)],
    subscriptions=lambda ctx: [*counts.subscriptions(ctx), *(s for part in PARTS for s in part.subscriptions(ctx))],
    jobs=lambda ctx: [job for part in PARTS for job in part.jobs(ctx)],
)

if __name__ == "__main__":
    sys.exit(run(DEFINITION))
