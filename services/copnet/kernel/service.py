"""The entry point every service process runs: settings, DB, plugins, bus, gRPC, shutdown."""

from __future__ import annotations

import functools
import logging
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

import grpc
import mongoengine
from nats.js.api import StreamConfig

from copnet.kernel import auth, db, diagnostics, token_keys
from copnet.kernel.bus import EventBus, Subscription
from copnet.kernel.call_limits import CallAllowance
from copnet.kernel.clients import Clients, ServiceClientSpec, declared
from copnet.kernel.events import CloudEvent, source_for
from copnet.kernel.grpcserver import DEPENDENCY_MONGODB, DEPENDENCY_NATS, GrpcServer, PortInUse
from copnet.kernel.logs import configure_logging
from copnet.kernel.plugin_config_feed import ConfigFeed, PluginConfig
from copnet.kernel.plugin_host import PluginHost
from copnet.kernel.revocations import REFRESH_SECONDS as REVOCATIONS_REFRESH_SECONDS
from copnet.kernel.revocations import RevocationList
from copnet.kernel.settings import ConfigError, Settings, load_settings

log = logging.getLogger(__name__)
SHUTDOWN_GRACE_SECONDS = 5.0


@dataclass
class ServiceContext:
    """What a service's code gets from the kernel."""

    name: str
    settings: Settings
    plugins: PluginHost
    _token: tuple[float, str] | None = field(default=None, init=False, repr=False)
    _token_lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)

    @functools.cached_property
    def clients(self) -> Clients:
        """This process's clients of the other services: one set of channels, made on first use
        (after any fork)."""
        return Clients(self.settings)

    @functools.cached_property
    def signer(self) -> auth.Signer:
        """This service's own token key (COPNET_SERVICE_KEY_FILE): it signs `service:<name>` only."""
        return token_keys.service_signer(self.settings, self.name)

    def service_token(self) -> str:
        """This service's token for calls to the others, signed again a minute before it expires."""
        with self._token_lock:
            if self._token is None or self._token[0] < time.monotonic():
                self._token = (time.monotonic() + auth.SERVICE_TOKEN_SECONDS - 60, auth.service_token(self.signer))
            return self._token[1]

    @property
    def source(self) -> str:
        return source_for(self.settings.region, self.name)

    def transaction(self, work: Callable[[db.UnitOfWork], object]):
        return db.run_in_transaction(work, self.settings.region)

    def event(self, type: str, subject: str, payload, scope: Sequence[str] = ()) -> CloudEvent:
        """A domain event from this service; `scope` is the organization scope it belongs to
        (ancestry plus the target), carried as the `copnetscope` extension attribute."""
        return CloudEvent.of(type, self.source, subject, payload, scope=tuple(scope))


@dataclass(frozen=True)
class PeriodicJob:
    """Work a service does on its own every `interval_seconds` (first run right after start), in
    its own thread. A run that raises is logged and the job goes on; `run` must be safe to repeat
    and to run in several replicas at once (the database decides who wins)."""

    name: str
    interval_seconds: float
    run: Callable[[], object]


@dataclass
class ServiceDefinition:
    name: str
    full_service_name: str
    add_servicer: Callable[[grpc.Server, ServiceContext], None]
    documents: list[type[mongoengine.Document]] = field(default_factory=list)
    subscriptions: Callable[[ServiceContext], list[Subscription]] = lambda context: []
    # Where this service's plugin configuration comes from: every one (at start, after a
    # reconnection, periodically) and one (organization_id, plugin) when an event says it changed.
    # None: the plugins service's ListPluginConfigs; the plugins service reads its own database.
    plugin_configs: Callable[[ServiceContext], Iterable[PluginConfig]] | None = None
    plugin_config: Callable[[ServiceContext, str, str], Iterable[PluginConfig]] | None = None
    jobs: Callable[[ServiceContext], list[PeriodicJob]] = lambda context: []
    # The revoked token ids, for the service that keeps them (its own database); None: asked of
    # the service whose client declares `revoked_tokens`.
    revoked_tokens: Callable[[ServiceContext], Iterable[str]] | None = None
    # JetStream streams of this service's own, besides the region's event and dead-letter streams:
    # the bus creates them at connect (and after a NATS server lost its store), or updates them.
    streams: Callable[[ServiceContext], list[StreamConfig]] = lambda context: []


def run(definition: ServiceDefinition) -> int:
    try:
        settings = load_settings()
        mongodb_uri, _ = settings.require_backends()
        verifier = token_keys.verifier(settings)
        token_keys.service_signer(settings, definition.name)  # a missing or bad key stops the start here
    except ConfigError as error:
        print(f"copnet {definition.name}: configuration error: {error}", file=sys.stderr)
        return 2
    configure_logging(definition.name, settings.log_level)

    db.connect(mongodb_uri, settings.database_name(definition.name))
    plugins = PluginHost(settings.plugin_hook_timeout_seconds, settings.plugin_failure_limit)
    plugins.load_entry_points()
    context = ServiceContext(definition.name, settings, plugins)
    plugins.on_repeated_failure = lambda plugin, organization_id, reason: report_repeated_failure(
        context, plugin, organization_id, reason)
    revoked = RevocationList(lambda: revoked_token_ids(definition, context))
    verifier.revoked = revoked

    server = GrpcServer(service_name=definition.name, full_service_names=[definition.full_service_name],
                        host=settings.host, port=settings.port_of(definition.name), verifier=verifier,
                        workers=settings.grpc_workers, queued_calls=settings.grpc_queued_calls,
                        allowance=CallAllowance(per_caller=settings.grpc_calls_per_caller,
                                                per_service=settings.grpc_calls_per_service),
                        extra_service_names=[diagnostics.FULL_SERVICE_NAME])
    definition.add_servicer(server.server, context)
    diagnostics.add_to_server(server.server, definition.name, plugins)
    server.set_serving(False)
    try:
        server.start()
    except PortInUse as error:
        print(f"copnet {definition.name}: {error}", file=sys.stderr)
        return 2

    bus = EventBus(settings, definition.name, definition.subscriptions(context), streams=definition.streams(context))
    feed = plugin_config_feed(definition, context)
    if feed is not None:
        bus.listen(feed.listener())  # one NATS connection and loop per process: the bus's
    bus.start()
    if feed is not None:
        feed.start()

    stopping = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stopping.set())
    log.info("%s serving on %s:%d (region %s)", definition.name, settings.host,
             settings.port_of(definition.name), settings.region)

    monitor = threading.Thread(target=_watch_dependencies, name="dependency-monitor", daemon=True,
                               args=(server, bus, [db.OutboxEntry, db.InboxEntry, *definition.documents], stopping))
    monitor.start()
    # The revoked token ids are refreshed off the request path: a check never waits on the network.
    refresh_revoked = PeriodicJob("revoked-tokens", REVOCATIONS_REFRESH_SECONDS, revoked.refresh)
    for job in [refresh_revoked, *definition.jobs(context)]:
        threading.Thread(target=_run_periodically, name=f"job-{job.name}", daemon=True,
                         args=(job, stopping)).start()
    stopping.wait()

    log.info("%s shutting down", definition.name)
    server.set_serving(False)
    server.stop(SHUTDOWN_GRACE_SECONDS)
    bus.stop()
    if feed is not None:
        feed.stop()
    plugins.close()
    return 0


def _run_periodically(job: PeriodicJob, stopping: threading.Event) -> None:
    while not stopping.is_set():
        try:
            job.run()
        except Exception:  # noqa: BLE001 - a failed run is retried at the next interval
            log.exception("job %s failed; retrying in %.0f s", job.name, job.interval_seconds)
        stopping.wait(job.interval_seconds)


# -- plugins ------------------------------------------------------------------------------------
# Reporting a plugin that keeps failing: attempts, the first wait between them (doubling), its cap.
FAILING_REPORT_ATTEMPTS = 8
FAILING_REPORT_BACKOFF = 1.0
FAILING_REPORT_MAX_BACKOFF = 30.0


def revoked_token_ids(definition: ServiceDefinition, context: ServiceContext) -> Iterable[str]:
    """The revoked token ids: from this service's own database when it keeps them, else from the
    service whose client declares them (with this service's token); none when no service does."""
    if definition.revoked_tokens is not None:
        return definition.revoked_tokens(context)
    for name in context.settings.service_names:
        spec = declared(name)
        if name != definition.name and spec.revoked_tokens is not None:
            return spec.revoked_tokens(context.clients.stub(spec, token=context.service_token()))
    return ()


def plugin_config_authority(own_name: str, service_names: Sequence[str]) -> ServiceClientSpec | None:
    """The client of the service among `service_names` (the services this instance runs) that
    stores the plugin configuration (it declares a `plugin_config_authority`), unless that is this
    service itself; None when no service does (the hub has no plugins service)."""
    for name in service_names:
        if name == own_name:
            continue
        spec = declared(name)
        if spec.plugin_config_authority is not None:
            return spec
    return None


def plugin_config_feed(definition: ServiceDefinition, context: ServiceContext) -> ConfigFeed | None:
    """The feed keeping this process's plugin configuration current, or None when there is no
    service to get it from (then no plugin is enabled for any organization)."""
    if definition.plugin_configs is not None:
        def load() -> Iterable[PluginConfig]:
            return definition.plugin_configs(context)

        fetch = None  # a hint loads every configuration again
        if definition.plugin_config is not None:
            def fetch(organization_id: str, plugin: str) -> Iterable[PluginConfig]:
                return definition.plugin_config(context, organization_id, plugin)
    elif plugin_config_authority(definition.name, context.settings.service_names) is not None:
        def load() -> Iterable[PluginConfig]:
            return load_plugin_configs(context, context.clients)

        def fetch(organization_id: str, plugin: str) -> Iterable[PluginConfig]:
            return load_plugin_configs(context, context.clients, organization_id=organization_id, plugin=plugin)
    else:
        log.info("plugins: no service stores plugin configuration; plugins configured per organization stay off")
        return None
    return ConfigFeed(context.plugins.configs, load, fetch)


def load_plugin_configs(context: ServiceContext, clients, *, organization_id: str = "",
                        plugin: str = "") -> list[PluginConfig]:
    """Every organization's plugin configuration (or the one of `organization_id` and `plugin`),
    secrets included, from the service that stores it: only a service's own token gets the secrets."""
    spec = plugin_config_authority(context.name, context.settings.service_names)
    stub = clients.stub(spec, token=context.service_token())
    return spec.plugin_config_authority.load(stub, organization_id=organization_id, plugin=plugin)


def report_repeated_failure(context: ServiceContext, plugin: str, organization_id: str, reason: str) -> None:
    """Tell the plugins service (over gRPC, with this service's token, off the caller's thread) so
    it switches the plugin off for that organization everywhere; the plugin is already off here.

    Not an event: anyone who can publish on NATS could forge one."""
    if not organization_id:
        log.error("plugins: %s keeps failing outside any organization's configuration; it stays off in this "
                  "process until it restarts: %s", plugin, reason)
        return
    thread = threading.Thread(target=send_failing_report, args=(context, plugin, organization_id, reason),
                              name="plugin-failing", daemon=True)
    thread.start()


def send_failing_report(context: ServiceContext, plugin: str, organization_id: str, reason: str, *,
                        attempts: int = FAILING_REPORT_ATTEMPTS, backoff: float = FAILING_REPORT_BACKOFF) -> bool:
    """ReportPluginFailing, retried with back-off while the plugins service cannot be reached;
    True once it answered. Given up: the plugin stays off in this process until it restarts."""
    spec = plugin_config_authority(context.name, context.settings.service_names)
    if spec is None:
        log.error("plugins: %s keeps failing for %s and no service stores plugin configuration to switch it off "
                  "everywhere; it stays off in this process until it restarts", plugin, organization_id)
        return False
    delay = backoff
    for attempt in range(1, attempts + 1):
        try:
            spec.plugin_config_authority.report_failing(
                context.clients.stub(spec, token=context.service_token()), plugin=plugin,
                organization_id=organization_id, reason=reason, failures=context.plugins.failure_limit)
            return True
        except grpc.RpcError as error:
            if error.code() not in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED) \
                    or attempt == attempts:
                log.error("plugins: could not report that %s keeps failing for %s (%s); it stays off in this "
                          "process until it restarts", plugin, organization_id, error.code().name)
                return False
        time.sleep(delay)
        delay = min(delay * 2, FAILING_REPORT_MAX_BACKOFF)
    return False


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
