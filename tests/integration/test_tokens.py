"""Tokens against the real services and gateway: the region's audience, keys per signer, and
service tokens that read what services need and nothing more."""

from __future__ import annotations

import time
import uuid

import grpc
import jwt
import pytest

from copnet.kernel import auth, token_keys
from copnet.kernel.errors import details_of
from copnet.membership.v1 import membership_pb2
from copnet.scheduling.v1 import scheduling_pb2
from tests.integration.http import request

TZ = "America/Los_Angeles"


def rpc_error(call, request_) -> tuple[grpc.StatusCode, str]:
    with pytest.raises(grpc.RpcError) as raised:
        call(request_)
    return raised.value.code(), details_of(raised.value).reason


@pytest.fixture(scope="module")
def person(services):
    """A county office with a teacher, made by a platform admin."""
    admin = services.token("platform_admin")
    membership = services.membership(admin)
    for org_id, kind, parent in (("tok-state", membership_pb2.ORGANIZATION_KIND_STATE, ""),
                                 ("tok-region", membership_pb2.ORGANIZATION_KIND_REGION, "tok-state"),
                                 ("tok-county", membership_pb2.ORGANIZATION_KIND_COUNTY_OFFICE, "tok-region")):
        membership.CreateOrganization(membership_pb2.CreateOrganizationRequest(
            organization_id=org_id, name=org_id, kind=kind, parent_id=parent, time_zone=TZ))
    return membership.CreatePerson(membership_pb2.CreatePersonRequest(
        person_id="tok-teacher", name="Tok Teacher", email="tok.teacher@example.org",
        affiliations=[membership_pb2.Affiliation(organization_id="tok-county",
                                                 position=membership_pb2.POSITION_TEACHER)])).person


def test_a_service_token_reads_what_services_read_and_writes_nothing(services, person):
    scheduling = services.service_token("scheduling")
    membership = services.membership(scheduling)
    # Scheduling reads people for reminders and feeds ...
    assert membership.GetPerson(membership_pb2.GetPersonRequest(id=person.id)).person.email == person.email
    # ... but its token is no platform_admin: no write passes.
    code, reason = rpc_error(membership.CreateOrganization, membership_pb2.CreateOrganizationRequest(
        name="x", kind=membership_pb2.ORGANIZATION_KIND_STATE, time_zone=TZ))
    assert (code, reason) == (grpc.StatusCode.PERMISSION_DENIED, "OUT_OF_SCOPE")
    code, _ = rpc_error(membership.GrantRole, membership_pb2.GrantRoleRequest(
        person_id=person.id, role=membership_pb2.ROLE_PLATFORM_ADMIN))
    assert code == grpc.StatusCode.PERMISSION_DENIED
    code, _ = rpc_error(services.scheduling(scheduling).RunReminders, scheduling_pb2.RunRemindersRequest())
    assert code == grpc.StatusCode.PERMISSION_DENIED


def test_a_token_signed_with_another_services_key_is_refused(services, person):
    plugins_key = token_keys.read_private_key(token_keys.local_key_files(services.settings).service("plugins"), "t")
    now = int(time.time())
    claims = {"iss": "copnet", "aud": auth.audience(services.settings.region), "sub": "service:scheduling",
              "iat": now, "exp": now + 60, "jti": uuid.uuid4().hex, "roles": []}
    forged = jwt.encode(claims, plugins_key, algorithm="EdDSA",
                        headers={"kid": token_keys.key_id("service:plugins", plugins_key.public_key())})
    code, reason = rpc_error(services.membership(forged).GetPerson, membership_pb2.GetPersonRequest(id=person.id))
    assert (code, reason) == (grpc.StatusCode.UNAUTHENTICATED, "TOKEN_INVALID")


def test_another_instances_token_is_refused_by_services_and_gateway(stack, person):
    issuer = token_keys.issuer(stack.settings)
    other_region = auth.Signer(issuer.key, issuer.key_id, "another-region")
    elsewhere = auth.issue_token(other_region, "someone", "platform_admin")
    code, reason = rpc_error(stack.membership(elsewhere).GetPerson, membership_pb2.GetPersonRequest(id=person.id))
    assert (code, reason) == (grpc.StatusCode.UNAUTHENTICATED, "TOKEN_INVALID")
    reply = request("GET", f"{stack.gateway_url}/api/v1/people/{person.id}", token=elsewhere)
    assert reply.status == 401 and reply.json()["reason"] == "TOKEN_INVALID"
    here = request("GET", f"{stack.gateway_url}/api/v1/people/{person.id}", token=stack.token("platform_admin"))
    assert here.status == 200, here.text


# -- revocation ------------------------------------------------------------------------------------
def refuses(call, request_) -> bool:
    """True once `call` refuses the token as revoked."""
    try:
        call(request_)
    except grpc.RpcError as error:
        return details_of(error).reason == "TOKEN_REVOKED"
    return False


def token_id(token: str) -> str:
    return jwt.decode(token, options={"verify_signature": False})["jti"]


def test_a_revoked_token_is_refused_by_every_service(stack, person):
    services = stack
    teacher = services.token("member", "tok-county", person=person.id)
    other = services.token("member", "tok-county", person=person.id)
    read = membership_pb2.GetPersonRequest(id=person.id)
    assert services.membership(teacher).GetPerson(read).person.id == person.id

    # Only a platform admin revokes.
    code, _ = rpc_error(services.membership(services.token("regional_lead", "tok-region")).RevokeToken,
                        membership_pb2.RevokeTokenRequest(token_id=token_id(teacher)))
    assert code == grpc.StatusCode.PERMISSION_DENIED
    admin = services.token("platform_admin")
    reply = services.membership(admin).RevokeToken(membership_pb2.RevokeTokenRequest(token_id=token_id(teacher)))
    assert reply.revoked.token_id == token_id(teacher) and reply.revoked.revoked_by == "tester"

    # Every service refuses it once its copy of the list is refreshed (every few seconds).
    sessions = scheduling_pb2.ListSessionsRequest(community_id="tok-nowhere")
    services.wait_for(lambda: refuses(services.membership(teacher).GetPerson, read), 15,
                      "membership refusing the revoked token")
    services.wait_for(lambda: refuses(services.scheduling(teacher).ListSessions, sessions), 15,
                      "scheduling refusing the revoked token")
    through_gateway = request("GET", f"{stack.gateway_url}/api/v1/people/{person.id}", token=teacher)
    assert through_gateway.status == 401 and through_gateway.json()["reason"] == "TOKEN_REVOKED"
    # Another token of the same person still works.
    assert services.membership(other).GetPerson(read).person.id == person.id
    listed = services.membership(services.service_token("scheduling")).ListRevokedTokens(
        membership_pb2.ListRevokedTokensRequest())
    assert token_id(teacher) in [revoked.token_id for revoked in listed.revoked]
    code, _ = rpc_error(services.membership(other).ListRevokedTokens, membership_pb2.ListRevokedTokensRequest())
    assert code == grpc.StatusCode.PERMISSION_DENIED


def test_copnet_token_revoke_revokes_a_token_given_whole(services, person, monkeypatch):
    from typer.testing import CliRunner

    from copnet.cli.root import app

    teacher = services.token("member", "tok-county", person=person.id)
    for name, value in services.env.items():
        if name.startswith("COPNET_"):
            monkeypatch.setenv(name, value)
    monkeypatch.setenv("COPNET_TOKEN_ISSUER_KEY_FILE", str(services.settings.token_issuer_key_file))
    result = CliRunner().invoke(app, ["token", "revoke", teacher])
    assert result.exit_code == 0, result.output
    assert f"revoked {token_id(teacher)}" in result.stdout
    services.wait_for(lambda: refuses(services.membership(teacher).GetPerson,
                                      membership_pb2.GetPersonRequest(id=person.id)), 15, "the token refused")
