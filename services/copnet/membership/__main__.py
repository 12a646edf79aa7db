"""`python -m copnet.membership`: run the membership service."""

import sys

from copnet.kernel.service import ServiceDefinition, run
from copnet.membership import timeline, tokens
from copnet.membership.models import DOCUMENTS
from copnet.membership.servicer import MembershipServicer
from copnet.membership.v1 import membership_pb2_grpc

DEFINITION = ServiceDefinition(
    name="membership",
    full_service_name="copnet.membership.v1.MembershipService",
    add_servicer=lambda server, ctx: membership_pb2_grpc.add_MembershipServiceServicer_to_server(
        MembershipServicer(ctx), server),
    documents=[*DOCUMENTS, tokens.RevokedToken],
    subscriptions=timeline.subscriptions,
    revoked_tokens=lambda ctx: tokens.revoked_token_ids(),
)

if __name__ == "__main__":
    sys.exit(run(DEFINITION))
