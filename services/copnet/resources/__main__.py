"""`python -m copnet.resources`: run the resources service."""

import sys

from copnet.kernel.service import ServiceDefinition, run
from copnet.resources.models import Library
from copnet.resources.servicer import ResourcesServicer, subscriptions
from copnet.resources.v1 import resources_pb2_grpc

DEFINITION = ServiceDefinition(
    name="resources",
    full_service_name="copnet.resources.v1.ResourcesService",
    add_servicer=lambda server, ctx: resources_pb2_grpc.add_ResourcesServiceServicer_to_server(
        ResourcesServicer(ctx), server),
    documents=[Library],
    subscriptions=subscriptions,
)

if __name__ == "__main__":
    sys.exit(run(DEFINITION))
