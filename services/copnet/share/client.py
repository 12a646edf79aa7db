"""How other processes call the share service: its generated stub, found by the kernel's clients
(`copnet.kernel.clients.declared("share")`) or imported by a caller."""

from copnet.kernel.clients import ServiceClientSpec
from copnet.share.v1 import share_pb2, share_pb2_grpc

SHARE = ServiceClientSpec(
    name="share", full_name=share_pb2.DESCRIPTOR.services_by_name["ShareService"].full_name,
    stub_class=share_pb2_grpc.ShareServiceStub)
