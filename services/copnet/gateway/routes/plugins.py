"""/api/v1/plugins (installed plugins, public) and /api/v1/regions/{region}/... (a region's or a
county office's plugin configuration, roster imports and dashboard): the plugins service."""

from __future__ import annotations

from flask import Flask, request
from flask_openapi3 import APIBlueprint, Tag

from copnet.gateway.auth import BEARER_REQUIRED, CONFIG_EDITORS, DASHBOARD_READERS, ROSTER_IMPORTERS, roles_required
from copnet.gateway.backend import plugins
from copnet.gateway.convert import plugins as convert
from copnet.gateway.openapi import LIST_PROBLEMS, READ_PROBLEMS, WRITE_PROBLEMS, operation_id, problem_responses
from copnet.gateway.schemas.plugins import (ConfigQuery, Dashboard, HistoryQuery, PluginConfig, PluginConfigHistory,
                                            PluginConfigList, PluginConfigPut, PluginConfigWritten, PluginList,
                                            PluginPath, RefusedPlugin, RegionPath, RegionPluginPath, RosterImportCreate,
                                            RosterImportReport)
from copnet.gateway.schemas.plugins import Plugin as PluginModel
from copnet.kernel import limits
from copnet.plugins.v1 import plugins_pb2

# A roster import carries whole CSV files: this route takes bodies up to 16 MiB (others 1 MiB), and
# every gRPC message on its way is allowed to be larger (kernel.limits).
ROSTER_IMPORT_MAX_BODY_BYTES = limits.ROSTER_IMPORT_MAX_BODY_BYTES
# A district of 100,000 staff is written in a few minutes (docs/plugins/oneroster.md#limits).
ROSTER_IMPORT_TIMEOUT_SECONDS = limits.ROSTER_IMPORT_TIMEOUT_SECONDS
TAG = [Tag(name="plugins", description="Installed plugins; each region's (or county office's) configuration of "
                                       "them, roster imports and dashboard.")]

blueprint = APIBlueprint("plugins", __name__, url_prefix="/api/v1", operation_id_callback=operation_id,
                         abp_tags=TAG)


@blueprint.get("/plugins", responses={200: PluginList, **problem_responses(503, 504)})
def list_plugins():
    """Every installed plugin: version, hooks, settings schema, roster sources, and where it is configured."""
    reply = plugins().ListPlugins(plugins_pb2.ListPluginsRequest())
    return PluginList(items=[convert.plugin(p) for p in reply.plugins],
                      refused=[RefusedPlugin(name=r.name, reason=r.reason) for r in reply.refused]).model_dump(mode="json")


@blueprint.get("/plugins/<name>", responses={200: PluginModel, **problem_responses(404, 503, 504)})
def get_plugin(path: PluginPath):
    """One installed plugin (404 UNKNOWN_PLUGIN when none has that name)."""
    reply = plugins().GetPlugin(plugins_pb2.GetPluginRequest(name=path.name))
    return convert.plugin(reply.plugin).model_dump(mode="json")


@blueprint.get("/regions/<region>/plugins", responses={200: PluginConfigList, **problem_responses(403, 404, 422,
                                                                                                   503, 504)},
               security=BEARER_REQUIRED,
               openapi_extensions=roles_required(*CONFIG_EDITORS))
def list_region_plugin_configs(path: RegionPath, query: ConfigQuery):
    """This organization's plugin configurations (a regional_lead over it or a platform_admin)."""
    reply = plugins().ListPluginConfigs(plugins_pb2.ListPluginConfigsRequest(
        organization_id=path.region, page_size=query.page_size, page_token=query.page_token))
    return PluginConfigList(items=[convert.config(c) for c in reply.configs],
                            next_page_token=reply.next_page_token).model_dump(mode="json")


@blueprint.get("/regions/<region>/plugins/<name>", responses={200: PluginConfig, **problem_responses(403, 404, 503,
                                                                                                     504)},
               security=BEARER_REQUIRED,
               openapi_extensions=roles_required(*CONFIG_EDITORS))
def get_region_plugin_config(path: RegionPluginPath):
    """One plugin's configuration here; secrets show as `{"set": true|false}` (404 NOT_CONFIGURED when none)."""
    reply = plugins().GetPluginConfig(plugins_pb2.GetPluginConfigRequest(organization_id=path.region,
                                                                         plugin=path.name))
    return convert.config(reply.config).model_dump(mode="json")


@blueprint.put("/regions/<region>/plugins/<name>",
               responses={200: PluginConfigWritten, **WRITE_PROBLEMS},
               security=BEARER_REQUIRED,
               openapi_extensions=roles_required(*CONFIG_EDITORS))
def put_region_plugin_config(path: RegionPluginPath, body: PluginConfigPut):
    """Enable, disable or change a plugin's settings for a region (or a county office's override).

    A regional_lead over it or a platform_admin. Settings are validated against the plugin's schema
    (422 naming `settings.<field>`); a secret left out keeps its value; each change is a new version
    in the history and reaches every service within seconds. `expected_version` guards against a
    concurrent change (409 VERSION_MISMATCH); a request that changes nothing makes no new version."""
    reply = plugins().PutPluginConfig(convert.put_request(path.region, path.name, body))
    return convert.written(reply).model_dump(mode="json")


@blueprint.get("/regions/<region>/plugins/<name>/history",
               responses={200: PluginConfigHistory, **LIST_PROBLEMS},
               security=BEARER_REQUIRED,
               openapi_extensions=roles_required(*CONFIG_EDITORS))
def get_region_plugin_config_history(path: RegionPluginPath, query: HistoryQuery):
    """Every version of this configuration, newest first: who, when, what (secrets redacted) and why."""
    reply = plugins().ListPluginConfigHistory(plugins_pb2.ListPluginConfigHistoryRequest(
        organization_id=path.region, plugin=path.name, page_size=query.page_size, page_token=query.page_token))
    return PluginConfigHistory(items=[convert.revision(r) for r in reply.revisions],
                               next_page_token=reply.next_page_token).model_dump(mode="json")


@blueprint.post("/regions/<region>/roster-imports",
                responses={200: RosterImportReport, **WRITE_PROBLEMS},
                security=BEARER_REQUIRED,
                openapi_extensions=roles_required(*ROSTER_IMPORTERS))
def import_roster(path: RegionPath, body: RosterImportCreate):
    """Import organizations, people and affiliations with a plugin's roster source (e.g. `oneroster`).

    The source's plugin must be enabled here. Idempotent: each record is created when missing,
    updated when it differs, left alone otherwise; the report counts each kind and lists every
    bad row and every write membership refused, while good rows import. Bodies up to 16 MiB."""
    reply = plugins().ImportRoster(convert.import_request(path.region, body),
                                   timeout=ROSTER_IMPORT_TIMEOUT_SECONDS)
    return convert.import_report(reply).model_dump(mode="json")


@blueprint.get("/regions/<region>/dashboard", responses={200: Dashboard, **READ_PROBLEMS},
               security=BEARER_REQUIRED,
               openapi_extensions=roles_required(*DASHBOARD_READERS))
def get_region_dashboard(path: RegionPath):
    """The panels the plugins enabled here contribute to this organization's dashboard."""
    reply = plugins().ListDashboardPanels(plugins_pb2.ListDashboardPanelsRequest(organization_id=path.region))
    return convert.dashboard(path.region, reply).model_dump(mode="json")


def allow_large_roster_imports() -> None:
    if request.url_rule is not None and request.url_rule.endpoint == "plugins.import_roster":
        request.max_content_length = ROSTER_IMPORT_MAX_BODY_BYTES


def register(app: Flask) -> None:
    """Before the body is read (request_body.register): the larger limit of roster imports."""
    app.before_request(allow_large_roster_imports)

