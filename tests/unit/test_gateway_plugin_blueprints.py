"""Plugins' Flask blueprints are mounted under /plugins/<name>/ by the gateway."""

from __future__ import annotations

from flask import Blueprint

from copnet import hookimpl
from copnet.gateway.app import create_app
from copnet.kernel.plugin_host import PluginHost
from tests.support import tokens
from tests.unit.gateway_fakes import FakeClients


class WithBlueprint:
    COPNET_HOOKSPEC_VERSION = 2

    @hookimpl
    def register_gateway_blueprints(self):
        blueprint = Blueprint("hello", __name__)

        @blueprint.get("/hello")
        def hello():
            return {"hello": "from a plugin"}

        @blueprint.get("/boom")
        def boom():
            raise RuntimeError("plugin view failed")

        return [blueprint]


class ReturnsNonsense:
    COPNET_HOOKSPEC_VERSION = 2

    @hookimpl
    def register_gateway_blueprints(self):
        return ["not a blueprint"]


def app_with(*plugins):
    host = PluginHost(timeout_seconds=1.0)
    for name, plugin in plugins:
        host.register(plugin, name)
    app = create_app(tokens.settings(), clients=FakeClients(), plugin_host=host)
    app.testing = False   # errors answered as in production, not raised into the test
    return app.test_client()


def test_a_plugin_blueprint_answers_under_its_plugin_name():
    client = app_with(("greeter", WithBlueprint()), ("nonsense", ReturnsNonsense()))
    reply = client.get("/plugins/greeter/hello")
    assert reply.status_code == 200 and reply.get_json() == {"hello": "from a plugin"}
    assert client.get("/plugins/nonsense/hello").status_code == 404


def test_a_failing_plugin_view_is_a_500_problem_and_the_api_still_answers():
    client = app_with(("greeter", WithBlueprint()))
    reply = client.get("/plugins/greeter/boom")
    assert reply.status_code == 500 and reply.content_type == "application/problem+json"
    assert client.get("/healthz").status_code == 200
