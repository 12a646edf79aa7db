"""How other processes call scheduling: its generated stub, found by the kernel's clients
(`copnet.kernel.clients.declared("scheduling")`) or imported by a caller:

    clients.stub(SCHEDULING, token=token).<Method>(request)
"""

from copnet.kernel.clients import ServiceClientSpec
from copnet.scheduling.v1 import scheduling_pb2, scheduling_pb2_grpc

SCHEDULING = ServiceClientSpec(
    name="scheduling", full_name=scheduling_pb2.DESCRIPTOR.services_by_name["SchedulingService"].full_name,
    stub_class=scheduling_pb2_grpc.SchedulingServiceStub)
