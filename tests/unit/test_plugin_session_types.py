"""scheduling's session types from plugins: per community scope, the full SessionType shape."""

import json

import grpc
import pytest

from copnet import SessionType, hookimpl
from copnet.kernel.errors import NotFound, Unavailable
from copnet.kernel.plugin_config_feed import PluginConfig
from copnet.kernel.plugin_host import PluginHost
from copnet.kernel.service import ServiceContext
from tests.support import tokens
from copnet.membership.v1 import membership_pb2
from copnet.scheduling.catalog import collect_session_types
from copnet.scheduling.servicer import SchedulingServicer
from copnet.scheduling.v1 import scheduling_pb2
from tests.support.fake_grpc import clients_answered_by

SCOPE_A1 = ["state", "region-a", "county-a1", "district-1"]


class Core:
    COPNET_HOOKSPEC_VERSION = 2
    COPNET_ENABLED_BY_DEFAULT = True

    @hookimpl
    def register_session_types(self):
        return [{"key": "kick_off", "title": "Kick-off", "default_duration_minutes": 90}]


class Equity:
    COPNET_HOOKSPEC_VERSION = 2

    @hookimpl
    def register_session_types(self, settings, context):
        return [SessionType(key="student_voice", title=f"Student voice ({context.organization_id if context else '-'})",
                            default_duration_minutes=120,
                            fields={"type": "object", "properties": {"focus": {"type": "string"}}},
                            preparation_prompts=["Collect three student quotes"],
                            reflection_prompts=["Whose voice was missing?"]),
                {"key": "kick_off", "title": "Duplicate", "default_duration_minutes": 10},
                {"key": "Bad Key", "title": "x", "default_duration_minutes": 10}]


@pytest.fixture
def ctx():
    host = PluginHost(timeout_seconds=1.0)
    host.register(Core(), "core")
    host.register(Equity(), "equity")
    host.configs.load([PluginConfig("county-a1", "equity", 1, True, region_id="region-a")])
    yield ServiceContext("scheduling", tokens.settings("scheduling"), host)
    host.close()


def test_a_community_gets_the_types_of_plugins_enabled_for_its_scope(ctx):
    types = {t.key: t for t in collect_session_types(ctx, SCOPE_A1)}
    assert set(types) == {"kick_off", "student_voice"}
    voice = types["student_voice"]
    assert voice.plugin == "equity" and voice.title == "Student voice (county-a1)"
    assert json.loads(voice.fields_schema_json) == {"type": "object", "properties": {"focus": {"type": "string"}}}
    assert list(voice.preparation_prompts) == ["Collect three student quotes"]
    assert list(voice.reflection_prompts) == ["Whose voice was missing?"]
    # One per key: the first answer in call order (the last registered plugin first) wins.
    assert types["kick_off"].plugin == "equity"
    assert json.loads(collect_session_types(ctx, ["region-b"])[0].fields_schema_json) == {"type": "object", "properties": {}}


def test_elsewhere_only_the_defaults(ctx):
    assert [t.key for t in collect_session_types(ctx, ["state", "region-b"])] == ["kick_off"]


def test_without_a_community_every_installed_plugin(ctx):
    assert [t.key for t in collect_session_types(ctx)] == ["kick_off", "student_voice"]


class FakeMembership:
    def __init__(self, error=None):
        self.error = error
        self.calls = []

    def call(self, method, request, *, token=None):
        self.calls.append((method, request, token))
        if self.error is not None:
            raise self.error
        if method == "GetCommunity":
            return membership_pb2.GetCommunityResponse(community=membership_pb2.Community(id=request.id, host_organization_id="district-1"))
        return membership_pb2.GetOrganizationResponse(organization=membership_pb2.Organization(
            id="district-1", ancestor_ids=["state", "region-a", "county-a1"]))


class RpcError(grpc.RpcError):
    def __init__(self, code):
        self._code = code

    def code(self):
        return self._code


def servicer_with(ctx, membership):
    servicer = SchedulingServicer(ctx)
    servicer.directory.__dict__["_clients"] = clients_answered_by(
        membership=lambda call: membership.call(call.method, call.request, token=call.token))
    return servicer


def test_list_session_types_for_a_community_asks_membership_for_its_scope(ctx):
    membership = FakeMembership()
    reply = servicer_with(ctx, membership).ListSessionTypes(scheduling_pb2.ListSessionTypesRequest(community_id="c1"), None)
    assert [t.key for t in reply.session_types] == ["kick_off", "student_voice"]
    assert [method for method, _, _ in membership.calls] == ["GetCommunity", "GetOrganization"]
    assert all(token for _, _, token in membership.calls)


def test_an_unknown_community_is_not_found(ctx):
    servicer = servicer_with(ctx, FakeMembership(RpcError(grpc.StatusCode.NOT_FOUND)))
    with pytest.raises(NotFound) as caught:
        servicer.ListSessionTypes(scheduling_pb2.ListSessionTypesRequest(community_id="nope"), None)
    assert caught.value.reason == "UNKNOWN_COMMUNITY"


def test_membership_away_is_unavailable(ctx):
    servicer = servicer_with(ctx, FakeMembership(RpcError(grpc.StatusCode.UNAVAILABLE)))
    with pytest.raises(Unavailable):
        servicer.ListSessionTypes(scheduling_pb2.ListSessionTypesRequest(community_id="c1"), None)
