"""How other processes call plugins: its generated stub, found by the kernel's clients
(`copnet.kernel.clients.declared("plugins")`) or imported by a caller:

    clients.stub(PLUGINS, token=token).<Method>(request)

The plugins service stores every organization's plugin configuration, so its client also says how
every other process loads it and reports a plugin that keeps failing (the kernel's
`ConfigAuthority`): the kernel finds that here and imports nothing of this service.
"""

from __future__ import annotations

from google.protobuf import json_format

from copnet.kernel.clients import ServiceClientSpec
from copnet.kernel.plugin_config_feed import PluginConfig
from copnet.plugins.v1 import plugins_pb2, plugins_pb2_grpc

CONFIG_PAGE_SIZE = 500
REASON_MAX = 2000


def config_of(message: plugins_pb2.PluginConfig) -> PluginConfig:
    """The kernel's snapshot of a configuration from its wire form."""
    settings = json_format.MessageToDict(message.settings) if message.HasField("settings") else {}
    return PluginConfig(organization_id=message.organization_id, plugin=message.plugin, version=int(message.version),
                        enabled=bool(message.enabled), settings=settings, region_id=message.region_id)


class PluginConfigsOverGrpc:
    """`ConfigAuthority` through ListPluginConfigs and ReportPluginFailing (a service token only)."""

    def load(self, stub: plugins_pb2_grpc.PluginServiceStub, *, organization_id: str = "",
             plugin: str = "") -> list[PluginConfig]:
        configs: list[PluginConfig] = []
        page_token = ""
        while True:
            reply = stub.ListPluginConfigs(plugins_pb2.ListPluginConfigsRequest(
                include_secrets=True, page_size=CONFIG_PAGE_SIZE, page_token=page_token,
                organization_id=organization_id, plugin=plugin))
            configs += [config_of(message) for message in reply.configs]
            page_token = reply.next_page_token
            if not page_token:
                return configs

    def report_failing(self, stub: plugins_pb2_grpc.PluginServiceStub, *, plugin: str, organization_id: str,
                       reason: str, failures: int) -> None:
        stub.ReportPluginFailing(plugins_pb2.ReportPluginFailingRequest(
            plugin=plugin, organization_id=organization_id, reason=reason[:REASON_MAX], failures=failures))


PLUGINS = ServiceClientSpec(
    name="plugins", full_name=plugins_pb2.DESCRIPTOR.services_by_name["PluginService"].full_name,
    stub_class=plugins_pb2_grpc.PluginServiceStub, plugin_config_authority=PluginConfigsOverGrpc())
