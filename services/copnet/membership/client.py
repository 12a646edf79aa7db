"""How other processes call membership: its generated stub, found by the kernel's clients
(`copnet.kernel.clients.declared("membership")`) or imported by a caller:

    clients.stub(MEMBERSHIP, token=token).<Method>(request)

Membership keeps the revoked token ids, so its client also says how every other process reads
them (the kernel's `RevocationList` finds that here).
"""

from copnet.kernel.clients import ServiceClientSpec
from copnet.membership.v1 import membership_pb2, membership_pb2_grpc

# A refresh must not hold up the call being verified for long.
REVOKED_TOKENS_TIMEOUT_SECONDS = 2.0


def revoked_token_ids(stub: membership_pb2_grpc.MembershipServiceStub) -> list[str]:
    reply = stub.ListRevokedTokens(membership_pb2.ListRevokedTokensRequest(), timeout=REVOKED_TOKENS_TIMEOUT_SECONDS)
    return [revoked.token_id for revoked in reply.revoked]


MEMBERSHIP = ServiceClientSpec(
    name="membership", full_name=membership_pb2.DESCRIPTOR.services_by_name["MembershipService"].full_name,
    stub_class=membership_pb2_grpc.MembershipServiceStub, revoked_tokens=revoked_token_ids)
