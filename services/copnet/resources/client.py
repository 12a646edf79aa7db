"""How other processes call resources: its generated stub, found by the kernel's clients
(`copnet.kernel.clients.declared("resources")`) or imported by a caller:

    clients.stub(RESOURCES, token=token).<Method>(request)
"""

from copnet.kernel.clients import ServiceClientSpec
from copnet.resources.v1 import resources_pb2, resources_pb2_grpc

RESOURCES = ServiceClientSpec(
    name="resources", full_name=resources_pb2.DESCRIPTOR.services_by_name["ResourcesService"].full_name,
    stub_class=resources_pb2_grpc.ResourcesServiceStub)
