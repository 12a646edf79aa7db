"""The roster-import route at the gateway: who may send a large body is checked before it is read,
the body is read once and reaches the plugins service whole (over gRPC's default 4 MiB), and a bad
text is refused at the door rather than answering 500."""

from __future__ import annotations

import json

import pytest

from copnet.kernel import limits
from copnet.plugins.v1 import plugins_pb2
from tests.unit.gateway_fakes import FakeClients, assert_problem, bearer, make_app

PATH = "/api/v1/regions/coe/roster-imports"


@pytest.fixture()
def gateway():
    clients = FakeClients()
    clients.fakes["plugins"].replies["ImportRoster"] = plugins_pb2.ImportRosterResponse(plugin="oneroster")
    return clients, make_app(clients).test_client()


def post(client, body: bytes, role: str):
    return client.post(PATH, data=body, headers={**bearer(role, "coe"), "Content-Type": "application/json"})


def body_of(size: int) -> bytes:
    text = "x" * size
    return json.dumps({"source": "oneroster", "files": {"users.csv": text}}).encode()


def test_a_token_without_an_importer_role_is_refused_before_the_body_is_read(gateway):
    clients, client = gateway
    # Over the limit: a lead would get 413 (the body's length); a facilitator gets 403 first.
    too_large = body_of(limits.ROSTER_IMPORT_MAX_BODY_BYTES + 1)
    assert_problem(post(client, too_large, "facilitator"), 403, "ROLE_REQUIRED")
    assert_problem(post(client, too_large, "regional_lead"), 413)
    assert clients.all_calls() == []


def test_a_body_over_grpcs_default_4_mib_reaches_the_service_whole(gateway):
    clients, client = gateway
    answer = post(client, body_of(6 << 20), "regional_lead")
    assert answer.status_code == 200, answer.get_data(as_text=True)
    [call] = clients.fakes["plugins"].calls
    assert len(call.request.files["users.csv"]) == 6 << 20
    assert call.request.ByteSize() > 4 << 20


@pytest.mark.parametrize("text", ['"\\ud800"', '"x\\udc00y"'])
def test_a_lone_surrogate_in_a_file_is_refused_at_the_door(gateway, text):
    clients, client = gateway
    body = ('{"source": "oneroster", "files": {"users.csv": %s}}' % text).encode()
    assert post(client, body, "regional_lead").status_code == 400
    assert clients.all_calls() == []
