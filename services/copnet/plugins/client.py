"""How other processes call plugins: its generated stub, found by the kernel's clients
(`copnet.kernel.clients.declared("plugins")`) or imported by a caller:

    clients.stub(PLUGINS, token=token).<Method>(request)
"""

from copnet.kernel.clients import ServiceClientSpec
from copnet.plugins.v1 import plugins_pb2, plugins_pb2_grpc

PLUGINS = ServiceClientSpec(
    name="plugins", full_name=plugins_pb2.DESCRIPTOR.services_by_name["PluginService"].full_name,
    stub_class=plugins_pb2_grpc.PluginServiceStub)
