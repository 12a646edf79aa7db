"""plugins' gRPC API: installed plugins, per-organization configuration, dashboards, roster imports."""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor

import grpc

from copnet.events.v1 import events_pb2
from copnet.kernel import auth, db, diagnostics
from copnet.kernel.auth import Role
from copnet.kernel.bus import Subscription
from copnet.kernel.clients import Clients
from copnet.kernel.enums import to_label
from copnet.kernel.errors import FailedPrecondition, InvalidArgument, NotFound, PermissionDenied, Unavailable
from copnet.kernel.events import CloudEvent
from copnet.kernel.plugin_config_feed import CONFIG_CHANGED, PluginConfig
from copnet.kernel.pagination import decode_token, encode_token, page_size
from copnet.kernel.service import ServiceContext
from copnet.kernel.settings import SERVICE_NAMES
from copnet.kernel.timestamps import timestamp
from copnet.kernel.v1 import diagnostics_pb2, diagnostics_pb2_grpc
from copnet.membership.client import MEMBERSHIP
from copnet.membership.v1 import membership_pb2
from copnet.plugins import config_store, reactions
from copnet.plugins.models import PluginConfigDocument, PluginConfigRevision, config_id, revision_id
from copnet.plugins.roster_import import RosterImport, read_batch
from copnet.plugins.v1 import plugins_pb2
from copnet.plugins.v1 import plugins_pb2_grpc

log = logging.getLogger(__name__)

CONFIG_EDITORS = {Role.REGIONAL_LEAD, Role.PLATFORM_ADMIN}
DASHBOARD_READERS = {Role.COUNTY_ADMIN, Role.REGIONAL_LEAD, Role.STATE_COORDINATOR, Role.PLATFORM_ADMIN}
ROSTER_IMPORTERS = {Role.COUNTY_ADMIN, Role.REGIONAL_LEAD, Role.PLATFORM_ADMIN}
CONFIGURABLE_KINDS = ("region", "county_office")
AUTO_DISABLED = "copnet.plugins.plugin.auto_disabled"
# Listing plugins asks every process for its failure counts; a slow one is left out, not waited for.
DIAGNOSTICS_TIMEOUT = 1.0


class Organization:
    """What configuration needs to know about an organization (from membership)."""

    def __init__(self, message: membership_pb2.Organization):
        self.id = message.id
        self.kind = to_label(membership_pb2.OrganizationKind, message.kind)
        self.region_id = message.region_id
        self.scope = [*message.ancestor_ids, message.id]


def caller_token(context) -> str | None:
    metadata = dict(context.invocation_metadata() or ()) if context is not None else {}
    return auth.bearer_from_header(metadata.get(auth.METADATA_KEY))


class PluginServicer(plugins_pb2_grpc.PluginServiceServicer):
    def __init__(self, context: ServiceContext, clients: Clients | None = None):
        self.ctx = context
        self.host = context.plugins
        self.clients = clients or context.clients

    # -- helpers ---------------------------------------------------------------------------------
    def service_token(self) -> str:
        return self.ctx.service_token()

    def descriptions(self) -> dict:
        return {d.name: d for d in self.host.describe()}

    def description(self, plugin: str, field: str = "plugin"):
        if not plugin:
            raise InvalidArgument.for_field(field, "is required")
        found = self.descriptions().get(plugin)
        if found is not None:
            return found
        for failure in getattr(self.host, "load_failures", None) or ():
            if failure.name == plugin:
                why = f": {failure.error}" if diagnostics.may_read_load_errors(auth.current_identity()) else ""
                raise FailedPrecondition(f"plugin {plugin!r} is installed but did not load{why}",
                                         reason="PLUGIN_NOT_LOADED")
        raise NotFound(f"no plugin {plugin!r} is installed", reason="UNKNOWN_PLUGIN")

    def organization(self, organization_id: str, *, configurable: bool = True) -> Organization:
        if not organization_id:
            raise InvalidArgument.for_field("organization_id", "is required")
        try:
            reply = self.clients.stub(MEMBERSHIP, token=self.service_token()).GetOrganization(
                membership_pb2.GetOrganizationRequest(id=organization_id))
        except grpc.RpcError as error:
            if error.code() == grpc.StatusCode.NOT_FOUND:
                raise NotFound(f"no organization {organization_id!r}") from None
            raise Unavailable(f"membership did not answer: {error.code().name}", reason="MEMBERSHIP_UNAVAILABLE") \
                from None
        org = Organization(reply.organization)
        if configurable and org.kind not in CONFIGURABLE_KINDS:
            raise InvalidArgument.for_field("organization_id", f"{organization_id!r} is a {org.kind}: plugins are "
                                            "configured for a region or a county office", reason="NOT_A_REGION")
        return org

    def config_message(self, doc: PluginConfigDocument, *, include_secrets: bool) -> plugins_pb2.PluginConfig:
        settings = dict(doc.settings or {})
        if not include_secrets:
            settings = config_store.redact(settings, self.secret_fields(doc.plugin))
        return plugins_pb2.PluginConfig(organization_id=doc.organization_id, plugin=doc.plugin, enabled=doc.enabled,
                               settings=config_store.dict_to_struct(settings), version=doc.version,
                               region_id=doc.region_id or "", organization_kind=doc.organization_kind,
                               scope=list(doc.scope or ()), update_time=timestamp(doc.updated_at),
                               updated_by=doc.updated_by, reason=doc.reason or "")

    def secret_fields(self, plugin: str) -> list[str]:
        description = self.descriptions().get(plugin)
        return list(getattr(description, "secret_fields", None) or ()) if description is not None else []

    def failure_tallies(self) -> dict[str, list[plugins_pb2.PluginFailureTally]]:
        """plugin -> failures every process counted (a process that does not answer is left out)."""
        def ask(service: str):
            if service == self.ctx.name:
                return diagnostics.failures_message(service, self.host)
            stub = diagnostics_pb2_grpc.DiagnosticsServiceStub(self.clients[service].channel)
            try:
                return stub.GetPluginFailures(diagnostics_pb2.GetPluginFailuresRequest(), timeout=DIAGNOSTICS_TIMEOUT,
                                              metadata=[(auth.METADATA_KEY, f"Bearer {self.service_token()}")])
            except grpc.RpcError as error:
                log.warning("plugin failures of %s not available: %s", service, error.code().name)
                return None

        tallies: dict[str, list[plugins_pb2.PluginFailureTally]] = {}
        with ThreadPoolExecutor(len(SERVICE_NAMES)) as pool:
            for reply in pool.map(ask, SERVICE_NAMES):
                for count in reply.failures if reply is not None else ():
                    tallies.setdefault(count.plugin, []).append(plugins_pb2.PluginFailureTally(
                        service=reply.service, organization_id=count.organization_id, count=count.count,
                        switched_off=count.switched_off))
        return tallies

    def visible_failures(self, failures, placements: list[PluginConfigDocument]) -> list:
        """The failures the caller may read: those of organizations they lead (kernel.diagnostics)."""
        identity = auth.current_identity()
        scopes = {doc.organization_id: list(doc.scope or ()) for doc in placements}
        return [f for f in failures or ()
                if diagnostics.may_read_failures_of(identity, scopes.get(f.organization_id, []))]

    def plugin_message(self, description, placements: list[PluginConfigDocument], sources: list[str],
                       failures: list[plugins_pb2.PluginFailureTally] | None = None) -> plugins_pb2.Plugin:
        schema = getattr(description, "settings_schema", None) or {}
        return plugins_pb2.Plugin(name=description.name, version=getattr(description, "version", "") or "",
                         title=getattr(description, "title", "") or "",
                         description=getattr(description, "description", "") or "",
                         hookspec_version=int(getattr(description, "hookspec_version", 0) or 0),
                         hooks=sorted(getattr(description, "hooks", None) or ()),
                         settings_schema=config_store.dict_to_struct(schema),
                         secret_fields=list(getattr(description, "secret_fields", None) or ()),
                         enabled_in=[plugins_pb2.PluginPlacement(organization_id=c.organization_id, enabled=c.enabled,
                                                        version=c.version) for c in placements],
                         roster_sources=sources, failures=failures or [])

    def roster_sources(self) -> dict[str, list]:
        """plugin -> the roster source objects it registers."""
        found: dict[str, list] = {}
        for result in self.host.call("register_roster_sources"):
            items = result.value if isinstance(result.value, (list, tuple)) else [result.value]
            found[result.plugin] = [s for s in items if getattr(s, "key", None) and callable(getattr(s, "read", None))]
        return found

    # -- plugins ---------------------------------------------------------------------------------
    def ListPlugins(self, request: plugins_pb2.ListPluginsRequest, _context) -> plugins_pb2.ListPluginsResponse:
        placements: dict[str, list[PluginConfigDocument]] = {}
        for doc in PluginConfigDocument.objects.order_by("id"):
            placements.setdefault(doc.plugin, []).append(doc)
        sources = self.roster_sources()
        # Nobody else reads any: they are not asked of every process on their behalf.
        readers = diagnostics.may_read_load_errors(auth.current_identity())
        tallies = self.failure_tallies() if readers else {}
        return plugins_pb2.ListPluginsResponse(plugins=[
            self.plugin_message(d, placements.get(name, []), [s.key for s in sources.get(name, [])],
                                self.visible_failures(tallies.get(name), placements.get(name, [])))
            for name, d in sorted(self.descriptions().items())],
            refused=[plugins_pb2.RefusedPlugin(name=f.name, reason=f.error)
                     for f in sorted(self.host.load_failures, key=lambda f: f.name) if readers])

    def GetPlugin(self, request: plugins_pb2.GetPluginRequest, _context) -> plugins_pb2.GetPluginResponse:
        description = self.description(request.name, "name")
        placements = list(PluginConfigDocument.objects(plugin=request.name).order_by("id"))
        sources = [s.key for s in self.roster_sources().get(request.name, [])]
        failures = self.visible_failures(self.failure_tallies().get(request.name), placements)
        return plugins_pb2.GetPluginResponse(plugin=self.plugin_message(description, placements, sources, failures))

    # -- configuration ---------------------------------------------------------------------------
    def ListPluginConfigs(self, request: plugins_pb2.ListPluginConfigsRequest,
                          _context) -> plugins_pb2.ListPluginConfigsResponse:
        identity = auth.require_authenticated("reading plugin configurations")
        service = auth.is_service(identity)
        # A service reads any configuration without asking membership where it is: every
        # process's fetch after a change must not wait for membership.
        if request.organization_id and not service:
            org = self.organization(request.organization_id, configurable=False)
            auth.require(CONFIG_EDITORS, org.scope, "reading this organization's plugin configurations")
        elif not service:
            auth.require({Role.PLATFORM_ADMIN}, [], "reading every organization's plugin configurations")
        include_secrets = request.include_secrets and service
        query = {key: value for key, value in (("organization_id", request.organization_id),
                                               ("plugin", request.plugin)) if value}
        size = page_size(request.page_size)
        after = decode_token(request.page_token, query)
        filters = dict(query)
        if after is not None:
            filters["id__gt"] = after
        found = list(PluginConfigDocument.objects(**filters).order_by("id").limit(size + 1))
        token = encode_token(found[size - 1].id, query) if len(found) > size else ""
        return plugins_pb2.ListPluginConfigsResponse(
            configs=[self.config_message(doc, include_secrets=include_secrets) for doc in found[:size]],
            next_page_token=token)

    def GetPluginConfig(self, request: plugins_pb2.GetPluginConfigRequest,
                        _context) -> plugins_pb2.GetPluginConfigResponse:
        auth.require_authenticated("reading a plugin configuration")
        self.description(request.plugin)
        org = self.organization(request.organization_id, configurable=False)
        auth.require(CONFIG_EDITORS, org.scope, "reading this organization's plugin configuration")
        doc = PluginConfigDocument.objects(id=config_id(org.id, request.plugin)).first()
        if doc is None:
            raise NotFound(f"plugin {request.plugin!r} is not configured for {org.id!r}", reason="NOT_CONFIGURED")
        return plugins_pb2.GetPluginConfigResponse(config=self.config_message(doc, include_secrets=False))

    def PutPluginConfig(self, request: plugins_pb2.PutPluginConfigRequest,
                        _context) -> plugins_pb2.PutPluginConfigResponse:
        identity = auth.require_authenticated("configuring a plugin")
        description = self.description(request.plugin)
        org = self.organization(request.organization_id)
        auth.require(CONFIG_EDITORS, org.scope, "configuring plugins for this organization")
        if request.HasField("expected_version") and request.expected_version < 0:
            raise InvalidArgument.for_field("expected_version", "must not be negative")
        secret_fields = list(getattr(description, "secret_fields", None) or ())
        key = config_id(org.id, request.plugin)
        stored = PluginConfigDocument.objects(id=key).first()
        sent = config_store.struct_to_dict(request.settings)
        previous = dict(stored.settings or {}) if stored else {}
        document = config_store.merge_secrets(sent, previous, secret_fields)
        # A kept secret bound to a destination that changed is refused (SECRET_REQUIRED).
        settings = config_store.stored_settings(self.host.validate_settings(request.plugin, document, previous=previous,
                                                                       sent=sent))
        now = db.utcnow()

        def work(uow: db.UnitOfWork) -> tuple[PluginConfigDocument, bool]:
            current = uow.find_one(PluginConfigDocument, {"_id": key})
            version = current.version if current else 0
            if request.HasField("expected_version") and request.expected_version != version:
                raise FailedPrecondition(f"the configuration is at version {version}, not {request.expected_version}: "
                                         "read it again and retry", reason="VERSION_MISMATCH",
                                         metadata={"current_version": str(version)})
            if current is not None and current.enabled == request.enabled and dict(current.settings or {}) == settings:
                return current, False
            doc = PluginConfigDocument(id=key, organization_id=org.id, plugin=request.plugin, enabled=request.enabled,
                                       settings=settings, version=version + 1, region_id=org.region_id,
                                       organization_kind=org.kind, scope=org.scope, updated_at=now,
                                       updated_by=identity.person_id, reason=request.reason)
            write_revision(uow, doc, secret_fields)
            uow.emit(self.config_changed_event(doc))
            return doc, True

        doc, changed = self.ctx.transaction(work)
        return plugins_pb2.PutPluginConfigResponse(config=self.config_message(doc, include_secrets=False),
                                                   changed=changed)

    def config_changed_event(self, doc: PluginConfigDocument) -> CloudEvent:
        """Says what changed, never the settings: each process fetches them (ListPluginConfigs)."""
        return self.ctx.event(CONFIG_CHANGED, doc.id, events_pb2.PluginConfigChanged(
            organization_id=doc.organization_id, plugin=doc.plugin, version=doc.version, enabled=doc.enabled))

    def ListPluginConfigHistory(self, request: plugins_pb2.ListPluginConfigHistoryRequest,
                                _context) -> plugins_pb2.ListPluginConfigHistoryResponse:
        auth.require_authenticated("reading a plugin configuration's history")
        if not request.plugin:
            raise InvalidArgument.for_field("plugin", "is required")
        org = self.organization(request.organization_id, configurable=False)
        auth.require(CONFIG_EDITORS, org.scope, "reading this organization's plugin configuration")
        query = {"config_id": config_id(org.id, request.plugin)}
        size = page_size(request.page_size)
        after = decode_token(request.page_token, query)
        filters = dict(query)
        if after is not None:
            filters["version__lt"] = int(after)
        found = list(PluginConfigRevision.objects(**filters).order_by("-version").limit(size + 1))
        token = encode_token(str(found[size - 1].version), query) if len(found) > size else ""
        return plugins_pb2.ListPluginConfigHistoryResponse(revisions=[revision_message(r) for r in found[:size]],
                                                  next_page_token=token)

    # -- dashboards ------------------------------------------------------------------------------
    def ListDashboardPanels(self, request: plugins_pb2.ListDashboardPanelsRequest,
                            _context) -> plugins_pb2.ListDashboardPanelsResponse:
        auth.require_authenticated("reading a dashboard")
        org = self.organization(request.organization_id, configurable=False)
        auth.require(DASHBOARD_READERS, org.scope, "reading this organization's dashboard")
        panels, keys = [], set()
        for result in self.host.call("register_dashboard_panels", scope=org.scope):
            for item in result.value if isinstance(result.value, (list, tuple)) else [result.value]:
                panel = panel_message(item, result.plugin)
                if panel is None or panel.key in keys:
                    log.warning("plugins: %s returned an invalid or duplicate dashboard panel; skipped", result.plugin)
                    continue
                keys.add(panel.key)
                panels.append(panel)
        return plugins_pb2.ListDashboardPanelsResponse(panels=panels)

    # -- roster imports --------------------------------------------------------------------------
    def ImportRoster(self, request: plugins_pb2.ImportRosterRequest, context) -> plugins_pb2.ImportRosterResponse:
        auth.require_authenticated("importing a roster")
        if not request.source:
            raise InvalidArgument.for_field("source", "is required")
        if not request.files:
            raise InvalidArgument.for_field("files", "at least one file is required", reason="NO_FILES")
        org = self.organization(request.organization_id)
        auth.require(ROSTER_IMPORTERS, org.scope, "importing a roster into this organization")
        plugin, source = self.find_roster_source(request.source)
        # This service's own writes, so an import right after enabling the plugin need not wait
        # for the change's event to reach this process (snapshots apply by version: never older).
        for doc in PluginConfigDocument.objects(plugin=plugin, organization_id__in=org.scope):
            self.host.configs.apply(plugin_config(doc))
        batch = read_batch(self.host, plugin, org.scope, source, dict(request.files),
                           timeout=max(30.0, self.ctx.settings.plugin_hook_timeout_seconds))
        importer = RosterImport(self.clients.stub(MEMBERSHIP, token=caller_token(context)), dry_run=request.dry_run)
        return importer.run(plugin, batch, default_parent=org.id)

    def find_roster_source(self, key: str):
        """The source with this key, or the only source of the plugin with this name (`oneroster`)."""
        registered = sorted(self.roster_sources().items())
        for plugin, sources in registered:
            for source in sources:
                if source.key == key:
                    return plugin, source
        for plugin, sources in registered:
            if plugin == key and len(sources) == 1:
                return plugin, sources[0]
        raise InvalidArgument.for_field("source", f"no installed plugin provides a roster source {key!r}",
                                        reason="UNKNOWN_ROSTER_SOURCE")

    # -- automatic disabling ---------------------------------------------------------------------
    def ReportPluginFailing(self, request: plugins_pb2.ReportPluginFailingRequest,
                            _context) -> plugins_pb2.ReportPluginFailingResponse:
        """A service's report that a plugin keeps failing for one organization's configuration.

        Over gRPC with a service token, not an event: a NATS publisher cannot switch plugins off."""
        identity = auth.require_authenticated("reporting a failing plugin")
        if not auth.is_service(identity):
            raise PermissionDenied("only a copnet service reports a failing plugin", reason="SERVICES_ONLY")
        if not request.plugin:
            raise InvalidArgument.for_field("plugin", "is required")
        if not request.organization_id:
            raise InvalidArgument.for_field("organization_id", "is required")
        service = identity.person_id.removeprefix(auth.SERVICE_SUBJECT_PREFIX)
        reason = (f"switched off after {request.failures} consecutive failures in {service}: "
                  f"{request.reason}")[:1000]
        doc, switched_off = self.ctx.transaction(
            lambda uow: self.switch_off(uow, config_id(request.organization_id, request.plugin), reason))
        if switched_off:
            log.warning("plugins: %s switched off for %s (reported by %s)", request.plugin, request.organization_id,
                        service)
        return plugins_pb2.ReportPluginFailingResponse(
            config=self.config_message(doc, include_secrets=False) if doc is not None else None,
            switched_off=switched_off)

    def switch_off(self, uow: db.UnitOfWork, key: str, reason: str) -> tuple[PluginConfigDocument | None, bool]:
        """A new, disabled version of the configuration `key`, unless there is none or it is off already."""
        current = uow.find_one(PluginConfigDocument, {"_id": key})
        if current is None or not current.enabled:
            return current, False  # nothing enabled to switch off (already off, or never configured there)
        doc = PluginConfigDocument(id=current.id, organization_id=current.organization_id, plugin=current.plugin,
                                   enabled=False, settings=dict(current.settings or {}), version=current.version + 1,
                                   region_id=current.region_id, organization_kind=current.organization_kind,
                                   scope=list(current.scope or ()), updated_at=db.utcnow(),
                                   updated_by=config_store.AUTO_DISABLE, reason=reason)
        write_revision(uow, doc, self.secret_fields(doc.plugin))
        uow.emit(self.config_changed_event(doc))
        uow.emit(self.ctx.event(AUTO_DISABLED, doc.id, events_pb2.PluginAutoDisabled(
            organization_id=doc.organization_id, plugin=doc.plugin, version=doc.version, reason=reason)))
        return doc, True


def write_revision(uow: db.UnitOfWork, doc: PluginConfigDocument, secret_fields: list[str]) -> None:
    doc.validate()
    fields = doc.to_mongo().to_dict()
    fields.pop("_id")
    uow.update_one(PluginConfigDocument, {"_id": doc.id}, {"$set": fields}, upsert=True)
    uow.insert(PluginConfigRevision(id=revision_id(doc.organization_id, doc.plugin, doc.version), config_id=doc.id,
                                    organization_id=doc.organization_id, plugin=doc.plugin, version=doc.version,
                                    enabled=doc.enabled, settings=config_store.redact(dict(doc.settings or {}),
                                                                                      secret_fields),
                                    changed_by=doc.updated_by, changed_at=doc.updated_at, reason=doc.reason or ""))


def revision_message(revision: PluginConfigRevision) -> plugins_pb2.PluginConfigRevision:
    return plugins_pb2.PluginConfigRevision(organization_id=revision.organization_id, plugin=revision.plugin,
                                   version=revision.version, enabled=revision.enabled,
                                   settings=config_store.dict_to_struct(dict(revision.settings or {})),
                                   changed_by=revision.changed_by, change_time=timestamp(revision.changed_at),
                                   reason=revision.reason or "")


def panel_message(item, plugin: str) -> plugins_pb2.DashboardPanel | None:
    from copnet.pluginapi import DashboardPanel

    try:
        panel = item if isinstance(item, DashboardPanel) else DashboardPanel.model_validate(item)
    except Exception:
        return None
    return plugins_pb2.DashboardPanel(key=panel.key, title=panel.title, body=panel.body, link=panel.link or "",
                                      plugin=plugin)


def plugin_config(doc: PluginConfigDocument) -> PluginConfig:
    """A stored configuration as the plugin host of this process keeps it."""
    return PluginConfig(organization_id=doc.organization_id, plugin=doc.plugin, version=doc.version,
                        enabled=doc.enabled, settings=dict(doc.settings or {}), region_id=doc.region_id or "")


def stored_configs(_ctx: ServiceContext) -> list[PluginConfig]:
    """Every configuration in this service's database, as the plugin host of this process keeps them."""
    return [plugin_config(doc) for doc in PluginConfigDocument.objects.order_by("id")]


def stored_config(_ctx: ServiceContext, organization_id: str, plugin: str) -> list[PluginConfig]:
    """The configuration of `plugin` for `organization_id` in this service's database (none or one)."""
    return [plugin_config(doc) for doc in PluginConfigDocument.objects(id=config_id(organization_id, plugin))]


def subscriptions(ctx: ServiceContext) -> list[Subscription]:
    return reactions.reaction_subscriptions(ctx.plugins)
