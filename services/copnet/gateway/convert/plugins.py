"""Plugins: plugins-service messages <-> JSON models."""

from __future__ import annotations

from copnet.gateway.convert.common import or_null, rfc3339
from copnet.gateway.schemas import plugins as schemas
from copnet.kernel.structs import dict_to_struct, struct_to_dict
from copnet.plugins.v1 import plugins_pb2


def struct_dict(message, field: str) -> dict | None:
    return struct_to_dict(getattr(message, field)) if message.HasField(field) else None


def plugin(message: plugins_pb2.Plugin) -> schemas.Plugin:
    return schemas.Plugin(
        name=message.name, version=message.version, title=message.title, description=message.description,
        hookspec_version=message.hookspec_version, hooks=list(message.hooks),
        settings_schema=struct_dict(message, "settings_schema") or None, secret_fields=list(message.secret_fields),
        roster_sources=list(message.roster_sources),
        enabled_in=[schemas.Placement(organization_id=p.organization_id, enabled=p.enabled, version=p.version)
                    for p in message.enabled_in],
        failures=[schemas.FailureTally(service=f.service, organization_id=f.organization_id or None, count=f.count,
                                       switched_off=f.switched_off) for f in message.failures])


def config(message: plugins_pb2.PluginConfig) -> schemas.PluginConfig:
    return schemas.PluginConfig(**config_fields(message))


def config_fields(message: plugins_pb2.PluginConfig) -> dict:
    return dict(organization_id=message.organization_id, plugin=message.plugin, enabled=message.enabled,
                settings=struct_dict(message, "settings") or {}, version=message.version,
                region_id=or_null(message.region_id), organization_kind=message.organization_kind,
                updated_at=rfc3339(message.update_time), updated_by=message.updated_by,
                reason=or_null(message.reason))


def written(reply: plugins_pb2.PutPluginConfigResponse) -> schemas.PluginConfigWritten:
    return schemas.PluginConfigWritten(**config_fields(reply.config), changed=reply.changed)


def put_request(region: str, name: str, body: schemas.PluginConfigPut) -> plugins_pb2.PutPluginConfigRequest:
    request = plugins_pb2.PutPluginConfigRequest(organization_id=region, plugin=name, enabled=body.enabled,
                                                 settings=dict_to_struct(body.settings), reason=body.reason)
    if body.expected_version is not None:
        request.expected_version = body.expected_version
    return request


def revision(message: plugins_pb2.PluginConfigRevision) -> schemas.PluginConfigRevision:
    return schemas.PluginConfigRevision(version=message.version, enabled=message.enabled,
                                        settings=struct_dict(message, "settings") or {},
                                        changed_by=message.changed_by, changed_at=rfc3339(message.change_time),
                                        reason=or_null(message.reason))


def import_request(region: str, body: schemas.RosterImportCreate) -> plugins_pb2.ImportRosterRequest:
    request = plugins_pb2.ImportRosterRequest(organization_id=region, source=body.source, dry_run=body.dry_run)
    for name, text in body.files.items():  # one file's bytes at a time: a roster is up to 16 MiB
        request.files[name] = text.encode("utf-8")
    return request


def counts(message: plugins_pb2.ImportCounts) -> schemas.ImportCounts:
    return schemas.ImportCounts(created=message.created, updated=message.updated, unchanged=message.unchanged,
                                failed=message.failed)


def import_report(reply: plugins_pb2.ImportRosterResponse) -> schemas.RosterImportReport:
    return schemas.RosterImportReport(
        plugin=reply.plugin, dry_run=reply.dry_run, organizations=counts(reply.organizations),
        people=counts(reply.people), affiliations=counts(reply.affiliations),
        # A row error's row 0 is the file as a whole; a refused write (no file) has no row.
        errors=[schemas.RosterImportError(file=or_null(e.file), row=e.row if e.file else None,
                                          kind=or_null(e.kind), record=or_null(e.record), message=e.message)
                for e in reply.errors])


def dashboard(region: str, reply: plugins_pb2.ListDashboardPanelsResponse) -> schemas.Dashboard:
    return schemas.Dashboard(organization_id=region, panels=[
        schemas.DashboardPanel(key=p.key, title=p.title, body=p.body, link=or_null(p.link), plugin=p.plugin)
        for p in reply.panels])
