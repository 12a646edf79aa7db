"""The entry point every service process runs: settings, DB, plugins, bus, gRPC, shutdown."""

from __future__ import annotations

import logging
import signal
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

import grpc
import mongoengine

from copnet.kernel import db
from copnet.kernel.bus import EventBus, Subscription
from copnet.kernel.events import CloudEvent, source_for
from copnet.kernel.grpcserver import DEPENDENCY_MONGODB, DEPENDENCY_NATS, GrpcServer, PortInUse
from copnet.kernel.logs import configure_logging
from copnet.kernel.plugins import PluginHost
from copnet.kernel.settings import ConfigError, Settings, load_settings

log = logging.getLogger(__name__)
SHUTDOWN_GRACE_SECONDS = 5.0


@dataclass
class ServiceContext:
    """What a service's code gets from the kernel."""

    name: str
    settings: Settings
    plugins: PluginHost

    @property
    def source(self) -> str:
        return source_for(self.settings.region, self.name)

    def transaction(self, work: Callable[[db.UnitOfWork], object]):
        return db.run_in_transaction(work, self.settings.region)

    def event(self, type: str, subject: str, payload) -> CloudEvent:
        return CloudEvent.of(type, self.source, subject, payload)


@dataclass
class ServiceDefinition:
    name: str
    full_service_name: str
    add_servicer: Callable[[grpc.Server, ServiceContext], None]
    documents: list[type[mongoengine.Document]] = field(default_factory=list)
    subscriptions: Callable[[ServiceContext], list[Subscription]] = lambda context: []


def run(definition: ServiceDefinition) -> int:
    try:
        settings = load_settings()
        mongodb_uri, _ = settings.require_backends()
        secret = settings.require_secret()
    except ConfigError as error:
        print(f"copnet {definition.name}: configuration error: {error}", file=sys.stderr)
        return 2
    configure_logging(definition.name, settings.log_level)

    db.connect(mongodb_uri, settings.database_name(definition.name))
    plugins = PluginHost(settings.plugin_hook_timeout_seconds)
    plugins.load_entry_points()
    context = ServiceContext(definition.name, settings, plugins)

    server = GrpcServer(service_name=definition.name, full_service_names=[definition.full_service_name],
                        host=settings.host, port=settings.port_of(definition.name), secret=secret,
                        workers=settings.grpc_workers)
    definition.add_servicer(server.server, context)
    server.set_serving(False)
    try:
        server.start()
    except PortInUse as error:
        print(f"copnet {definition.name}: {error}", file=sys.stderr)
        return 2

    bus = EventBus(settings, definition.name, definition.subscriptions(context))
    bus.start()

    stopping = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stopping.set())
    log.info("%s serving on %s:%d (region %s)", definition.name, settings.host,
             settings.port_of(definition.name), settings.region)

    monitor = threading.Thread(target=_watch_dependencies, name="dependency-monitor", daemon=True,
                               args=(server, bus, [db.OutboxEntry, db.InboxEntry, *definition.documents], stopping))
    monitor.start()
    stopping.wait()

    log.info("%s shutting down", definition.name)
    server.set_serving(False)
    server.stop(SHUTDOWN_GRACE_SECONDS)
    bus.stop()
    plugins.close()
    return 0


def _watch_dependencies(server: GrpcServer, bus: EventBus, documents, stopping: threading.Event) -> None:
    """Keeps health current: SERVING once MongoDB answers and indexes exist.

    NATS being down does not make a service unready (writes go on; events wait in the outbox),
    but it is reported as a dependency so /readyz can show it.
    """
    indexed = False
    while not stopping.is_set():
        mongo_up = db.ping()
        if mongo_up and not indexed:
            try:
                db.ensure_indexes(*documents)
                indexed = True
            except Exception as exc:
                log.warning("could not create indexes yet: %s", exc)
        server.set_dependency(DEPENDENCY_MONGODB, mongo_up)
        server.set_dependency(DEPENDENCY_NATS, bus.connected)
        server.set_serving(mongo_up and indexed)
        stopping.wait(1.0)
