"""`python -m copnet.share`: run the share service."""

import sys

from copnet.kernel.service import ServiceDefinition, run
from copnet.share import reconcile, stream
from copnet.share.ledger import DOCUMENTS
from copnet.share.servicer import ShareServicer
from copnet.share.subscriptions import subscriptions
from copnet.share.v1 import share_pb2_grpc


def definition() -> ServiceDefinition:
    """The share service; its reconcile job is asked for by the program events' handler."""
    jobs: dict[int, reconcile.ReconcileJob] = {}

    def reconcile_job(ctx) -> reconcile.ReconcileJob:
        return jobs.setdefault(id(ctx), reconcile.ReconcileJob(ctx))

    return ServiceDefinition(
        name="share",
        full_service_name="copnet.share.v1.ShareService",
        add_servicer=lambda server, ctx: share_pb2_grpc.add_ShareServiceServicer_to_server(ShareServicer(ctx), server),
        documents=DOCUMENTS,
        subscriptions=lambda ctx: subscriptions(ctx, on_new_program=reconcile_job(ctx).request),
        jobs=lambda ctx: [*stream.jobs(ctx), *reconcile.jobs(ctx, reconcile_job(ctx))],
    )


DEFINITION = definition()

if __name__ == "__main__":
    sys.exit(run(DEFINITION))
