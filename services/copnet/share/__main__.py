"""`python -m copnet.share`: run the share service."""

import sys

from copnet.kernel.service import ServiceDefinition, run
from copnet.share.servicer import ShareServicer
from copnet.share.v1 import share_pb2_grpc

DEFINITION = ServiceDefinition(
    name="share",
    full_service_name="copnet.share.v1.ShareService",
    add_servicer=lambda server, ctx: share_pb2_grpc.add_ShareServiceServicer_to_server(ShareServicer(ctx), server),
)

if __name__ == "__main__":
    sys.exit(run(DEFINITION))
