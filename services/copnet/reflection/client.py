"""How other processes call reflection: its generated stub, found by the kernel's clients
(`copnet.kernel.clients.declared("reflection")`) or imported by a caller:

    clients.stub(REFLECTION, token=token).<Method>(request)
"""

from copnet.kernel.clients import ServiceClientSpec
from copnet.reflection.v1 import reflection_pb2, reflection_pb2_grpc

REFLECTION = ServiceClientSpec(
    name="reflection", full_name=reflection_pb2.DESCRIPTOR.services_by_name["ReflectionService"].full_name,
    stub_class=reflection_pb2_grpc.ReflectionServiceStub)
