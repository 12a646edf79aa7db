"""How other processes call membership: its generated stub, found by the kernel's clients
(`copnet.kernel.clients.declared("membership")`) or imported by a caller:

    clients.stub(MEMBERSHIP, token=token).<Method>(request)
"""

from copnet.kernel.clients import ServiceClientSpec
from copnet.membership.v1 import membership_pb2, membership_pb2_grpc

MEMBERSHIP = ServiceClientSpec(
    name="membership", full_name=membership_pb2.DESCRIPTOR.services_by_name["MembershipService"].full_name,
    stub_class=membership_pb2_grpc.MembershipServiceStub)
