"""The kernel's DiagnosticsService, served by every copnet process: what its plugin host counted.

Plugin failures are counted per process (each runs its own hooks); the plugins service gathers
every process's counts so `GET /api/v1/plugins` and `copnet plugins list` show them in one place.
"""

from __future__ import annotations

from copnet.kernel.plugins import PluginHost
from copnet.kernel.v1 import diagnostics_pb2 as pb
from copnet.kernel.v1 import diagnostics_pb2_grpc

FULL_SERVICE_NAME = "copnet.kernel.v1.DiagnosticsService"


class DiagnosticsServicer(diagnostics_pb2_grpc.DiagnosticsServiceServicer):
    def __init__(self, service: str, host: PluginHost):
        self.service = service
        self.host = host

    def GetPluginFailures(self, request: pb.GetPluginFailuresRequest, _context) -> pb.GetPluginFailuresResponse:
        return failures_message(self.service, self.host)


def failures_message(service: str, host: PluginHost) -> pb.GetPluginFailuresResponse:
    return pb.GetPluginFailuresResponse(service=service, failures=[
        pb.PluginFailureCount(plugin=plugin, organization_id=organization_id, count=count, switched_off=switched_off)
        for plugin, organization_id, count, switched_off in host.failure_counts()])


def add_to_server(server, service: str, host: PluginHost) -> None:
    diagnostics_pb2_grpc.add_DiagnosticsServiceServicer_to_server(DiagnosticsServicer(service, host), server)
