"""The kernel's DiagnosticsService, served by every copnet process: what its plugin host counted.

Plugin failures are counted per process (each runs its own hooks); the plugins service gathers
every process's counts so `GET /api/v1/plugins` and `copnet plugins list` show them in one place.

Failure counts and load errors tell where a region's plugins break (and error text can name
internals), so they are not public: the service itself answers only a service token (the plugins
service gathering them) or a platform admin, and what the plugins service passes on is filtered by
`may_read_failures_of` and `may_read_load_errors`.
"""

from __future__ import annotations

from collections.abc import Sequence

from copnet.kernel import auth
from copnet.kernel.auth import Identity, Role
from copnet.kernel.errors import PermissionDenied
from copnet.kernel.plugin_host import PluginHost
from copnet.kernel.v1 import diagnostics_pb2
from copnet.kernel.v1 import diagnostics_pb2_grpc

FULL_SERVICE_NAME = "copnet.kernel.v1.DiagnosticsService"
# Who reads failure counts and load errors beside services: platform admins (everywhere) and
# regional leads (the organizations at or under their region, which they configure).
FAILURE_READERS = {Role.PLATFORM_ADMIN, Role.REGIONAL_LEAD}


class DiagnosticsServicer(diagnostics_pb2_grpc.DiagnosticsServiceServicer):
    def __init__(self, service: str, host: PluginHost):
        self.service = service
        self.host = host

    def GetPluginFailures(self, request: diagnostics_pb2.GetPluginFailuresRequest,
                          _context) -> diagnostics_pb2.GetPluginFailuresResponse:
        identity = auth.require_authenticated("reading plugin failure counts")
        if not (auth.is_service(identity) or identity.may({Role.PLATFORM_ADMIN}, [])):
            raise PermissionDenied("reading a process's plugin failure counts needs a service token or "
                                   "a platform_admin", reason="OUT_OF_SCOPE")
        return failures_message(self.service, self.host)


def may_read_failures_of(identity: Identity | None, organization_scope: Sequence[str]) -> bool:
    """Whether `identity` sees failures counted under the organization whose ancestry-and-self is
    `organization_scope` (empty for a call outside any organization: services and admins only)."""
    if auth.is_service(identity):
        return True
    return identity is not None and identity.may(
        FAILURE_READERS if organization_scope else {Role.PLATFORM_ADMIN}, list(organization_scope))


def may_read_load_errors(identity: Identity | None) -> bool:
    """Whether `identity` sees why installed plugins were refused at load (a regional lead anywhere:
    those plugins are off in their region too)."""
    return auth.is_service(identity) or (
        identity is not None and any(grant.role in FAILURE_READERS for grant in identity.grants))


def failures_message(service: str, host: PluginHost) -> diagnostics_pb2.GetPluginFailuresResponse:
    return diagnostics_pb2.GetPluginFailuresResponse(service=service, failures=[
        diagnostics_pb2.PluginFailureCount(plugin=plugin, organization_id=organization_id, count=count,
                                           switched_off=switched_off)
        for plugin, organization_id, count, switched_off in host.failure_counts()])


def add_to_server(server, service: str, host: PluginHost) -> None:
    diagnostics_pb2_grpc.add_DiagnosticsServiceServicer_to_server(DiagnosticsServicer(service, host), server)
