"""`python -m copnet.plugins`: run the plugins service."""

import sys

from copnet.kernel.service import ServiceDefinition, run
from copnet.plugins.models import PluginConfigDocument, PluginConfigRevision
from copnet.plugins.servicer import PluginServicer, stored_config, stored_configs, subscriptions
from copnet.plugins.v1 import plugins_pb2_grpc

DEFINITION = ServiceDefinition(
    name="plugins",
    full_service_name="copnet.plugins.v1.PluginService",
    add_servicer=lambda server, ctx: plugins_pb2_grpc.add_PluginServiceServicer_to_server(PluginServicer(ctx), server),
    documents=[PluginConfigDocument, PluginConfigRevision],
    subscriptions=subscriptions,
    # The other services ask this one; this one reads its own database.
    plugin_configs=stored_configs,
    plugin_config=stored_config,
)

if __name__ == "__main__":
    sys.exit(run(DEFINITION))
