"""The gateway's Flask application factory: `gunicorn 'copnet.gateway.app:create_app()'`.

Nothing happens at import time, and nothing here opens a connection: gRPC channels are made at
the first request (`backend`), i.e. in each gunicorn worker after the fork.
"""

from __future__ import annotations

import logging

from flask import Blueprint
from flask_openapi3 import Info
from werkzeug.middleware.proxy_fix import ProxyFix

import copnet
from copnet.gateway import auth, backend, problems, request_body, request_line
from copnet.gateway.openapi import GatewayOpenAPI
from copnet.gateway.routes import (attendance, catalog, communities, cycles, data_sets, feeds, health,
                                   learning_hours, measures, milestones, occurrences, orgs, participation, people,
                                   plugins, programs, proposals, registrations, reminders, reports, sessions,
                                   statewide, student_rows, surveys, teams)
from copnet.gateway.schemas import Problem
from copnet.kernel import token_keys
from copnet.kernel.clients import Clients
from copnet.kernel.logs import configure_logging
from copnet.kernel.plugin_host import PluginHost
from copnet.kernel.settings import Settings, load_settings

log = logging.getLogger(__name__)
API_PREFIX = "/api/v1"
# Plugins' own routes (their blueprints), outside the documented API.
PLUGIN_PREFIX = "/plugins"
# Far above any JSON body this API takes (but a roster import's, see routes.plugins); a larger
# one is refused (413) before it is read.
MAX_BODY_BYTES = 1 << 20
BLUEPRINTS = (orgs.blueprint, people.blueprint, programs.blueprint, proposals.blueprint, communities.blueprint,
              registrations.blueprint, teams.blueprint, catalog.blueprint, reports.blueprint, plugins.blueprint,
              milestones.blueprint, sessions.blueprint, occurrences.blueprint, attendance.blueprint,
              learning_hours.blueprint, feeds.blueprint, reminders.blueprint, data_sets.blueprint,
              student_rows.blueprint, measures.blueprint, participation.blueprint, cycles.blueprint,
              surveys.blueprint, health.blueprint)
# The statewide hub's gateway (settings.instance == "hub"): its views and the probes, nothing regional.
HUB_BLUEPRINTS = (statewide.blueprint, health.blueprint)


def create_app(settings: Settings | None = None, *, clients=None,
               plugin_host: PluginHost | None = None) -> GatewayOpenAPI:
    """The gateway for `settings` (default: the COPNET_* environment).

    `clients` replaces the per-process `Clients` (tests pass a fake); production leaves it None.
    `plugin_host` replaces the host whose blueprints are mounted (default: every installed plugin).
    """
    settings = settings or load_settings()
    hub = settings.instance == "hub"
    verifier = token_keys.verifier(settings)  # fail at start-up, not at the first request
    if not logging.getLogger().handlers:  # gunicorn leaves the root logger alone; a test runner does not
        configure_logging("gateway", settings.log_level)
    app = GatewayOpenAPI(
        __name__,
        static_folder=None,  # the API serves no files of its own; the docs page brings its assets
        info=Info(title="copnet statewide hub API" if hub else "copnet API", version=copnet.__version__,
                  description=("What every linked region shares, statewide. " if hub else
                               "Regional networks of math communities of practice. ")
                  + "Errors are RFC 9457 application/problem+json."),
        security_schemes=auth.SECURITY_SCHEMES,
        doc_prefix=API_PREFIX, doc_url="/openapi.json",
        validation_error_status=422, validation_error_model=Problem,
        validation_error_callback=problems.from_validation_error,
    )
    app.config["MAX_CONTENT_LENGTH"] = MAX_BODY_BYTES
    # Absolute URLs the gateway hands out (routes.feeds.public_url_for) start here when set.
    app.config["COPNET_PUBLIC_URL"] = settings.public_url.rstrip("/")
    if settings.trusted_proxies:
        # Believe that many proxies' X-Forwarded-For/-Proto/-Host/-Port/-Prefix (a TLS-terminating
        # proxy's https, the public host), and no more: a client can send those headers too.
        hops = settings.trusted_proxies
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops, x_port=hops, x_prefix=hops)
    # The docs page keeps a token entered under "Authorize" across reloads.
    app.config["SWAGGER_CONFIG"] = {"persistAuthorization": True}
    app.config[health.SERVICE_NAMES_CONFIG] = settings.service_names  # what /readyz asks

    backend.install(app, (lambda: clients) if clients is not None else (lambda: Clients(settings)))
    problems.register(app)
    request_line.register(app)  # first: a URL too long is 414 whoever asks, before anything reads it
    auth.register(app, verifier)  # before the body check: an anonymous write is 401 whatever it sends
    if not hub:
        plugins.register(app)  # a roster import may be up to 16 MiB: raised before the body is read
        data_sets.register(app, settings.assessment_file_max_bytes)  # an upload streams, up to the file limit
    request_body.register(app)
    for blueprint in HUB_BLUEPRINTS if hub else BLUEPRINTS:
        app.register_api(blueprint)
    if not hub:  # the hub runs no plugins
        mount_plugin_blueprints(app, plugin_host or installed_plugins(settings))
    return app


def installed_plugins(settings: Settings) -> PluginHost:
    host = PluginHost(settings.plugin_hook_timeout_seconds, settings.plugin_failure_limit)
    host.load_entry_points()
    return host


def mount_plugin_blueprints(app: GatewayOpenAPI, host: PluginHost) -> None:
    """Each plugin's blueprints under /plugins/<plugin name>/ (the hook call is isolated like any other;
    a view that raises answers a 500 problem without affecting other routes)."""
    for result in host.call("register_gateway_blueprints"):
        blueprints = result.value if isinstance(result.value, (list, tuple)) else [result.value]
        for blueprint in blueprints:
            if not isinstance(blueprint, Blueprint):
                log.error("plugins: %s.register_gateway_blueprints returned %r, not a flask.Blueprint; skipped",
                          result.plugin, blueprint)
                continue
            app.register_blueprint(blueprint, url_prefix=f"{PLUGIN_PREFIX}/{result.plugin}",
                                   name=f"plugin.{result.plugin}.{blueprint.name}")
