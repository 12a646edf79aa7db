import time
import uuid

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from copnet.kernel import auth, token_keys
from copnet.kernel.auth import Grant, Identity, Role
from copnet.kernel.errors import PermissionDenied, Unauthenticated
from copnet.kernel.settings import ConfigError
from tests.support import tokens


def signer_of(path, signer: str, region: str = "local", max_seconds: int = auth.DEFAULT_MAX_TOKEN_SECONDS):
    key = token_keys.read_private_key(path, "test")
    return auth.Signer(key, token_keys.key_id(signer, key.public_key()), region, max_seconds)


def people_signer(**kwargs) -> auth.Signer:
    return signer_of(tokens.key_files().issuer, auth.PEOPLE_SIGNER, **kwargs)


def service_signer(name: str) -> auth.Signer:
    return signer_of(tokens.key_files().service(name), f"service:{name}")


def signed(key, kid: str, **claims) -> str:
    """A token with exactly these claims (defaults: a valid person's token of region local)."""
    now = int(time.time())
    body = {"iss": "copnet", "aud": "copnet:local", "sub": "p", "iat": now, "exp": now + 60,
            "jti": uuid.uuid4().hex, "roles": [{"role": "platform_admin", "org": ""}], **claims}
    return jwt.encode({k: v for k, v in body.items() if v is not None}, key, algorithm="EdDSA", headers={"kid": kid})


def refused(token: str, reason: str = "TOKEN_INVALID") -> str:
    with pytest.raises(Unauthenticated) as raised:
        tokens.verifier().verify(token)
    assert raised.value.reason == reason
    return str(raised.value)


def test_issued_token_verifies_to_the_same_identity():
    identity = tokens.verifier().verify(tokens.person_token("county_admin", "alameda", person="p-1"))
    assert (identity.person_id, identity.grants) == ("p-1", (Grant(Role.COUNTY_ADMIN, "alameda"),))
    assert identity.service == "" and not auth.is_service(identity)


def test_every_token_has_its_own_id_and_the_regions_audience():
    first, second = tokens.person_token("member", "s1"), tokens.person_token("member", "s1")
    claims = [jwt.decode(t, options={"verify_signature": False}) for t in (first, second)]
    assert claims[0]["jti"] and claims[0]["jti"] != claims[1]["jti"]
    assert claims[0]["aud"] == "copnet:local"
    assert jwt.get_unverified_header(first)["alg"] == "EdDSA"
    assert tokens.verifier().verify(first).token_id == claims[0]["jti"]


def test_a_token_of_another_regions_instance_is_refused():
    other = tokens.person_token("platform_admin", region="north")
    assert "another instance" in refused(other)
    assert tokens.verifier("north").verify(other).grants == (Grant(Role.PLATFORM_ADMIN, ""),)


def test_a_token_signed_with_a_key_the_instance_does_not_list_is_refused():
    stranger = Ed25519PrivateKey.generate()
    assert "does not know" in refused(signed(stranger, token_keys.key_id("people", stranger.public_key())))
    # Nor does naming a listed key's id help: the signature is checked with that key.
    refused(signed(stranger, people_signer().key_id))


def test_a_shared_secret_token_is_refused():
    legacy = jwt.encode({"iss": "copnet", "aud": "copnet:local", "sub": "p", "iat": int(time.time()),
                         "exp": int(time.time()) + 60, "jti": "x", "roles": []},
                        "a-shared-secret-0123456789abcdef", algorithm="HS256", headers={"kid": people_signer().key_id})
    refused(legacy)


def test_expired_token_is_refused():
    now = int(time.time())
    refused(signed(people_signer().key, people_signer().key_id, iat=now - 600, exp=now - 100), "TOKEN_EXPIRED")


def test_a_token_without_an_id_is_refused():
    refused(signed(people_signer().key, people_signer().key_id, jti=None))


def test_roles_other_than_platform_admin_need_an_org():
    with pytest.raises(ValueError, match="organization"):
        auth.issue_token(people_signer(), "p", "regional_lead")
    with pytest.raises(ValueError):
        auth.issue_token(people_signer(), "p", "wizard", "org")


# -- lifetimes -------------------------------------------------------------------------------------
def test_a_lifetime_over_the_cap_is_not_issued():
    with pytest.raises(auth.LifetimeTooLong, match="at most 3600 seconds"):
        auth.issue_token(people_signer(max_seconds=3600), "p", "platform_admin", ttl_seconds=3601)
    assert auth.issue_token(people_signer(max_seconds=3600), "p", "platform_admin", ttl_seconds=3600)


def test_a_token_living_longer_than_the_cap_is_refused_even_when_well_signed():
    now = int(time.time())
    long_lived = signed(people_signer().key, people_signer().key_id, exp=now + auth.DEFAULT_MAX_TOKEN_SECONDS + 60)
    assert "longer than this instance allows" in refused(long_lived)
    shorter = token_keys.verifier(tokens.settings(token_max_seconds=600))
    with pytest.raises(Unauthenticated):
        shorter.verify(tokens.person_token("member", "s1", ttl_seconds=3600))


# -- service tokens --------------------------------------------------------------------------------
def test_a_service_token_is_a_service_with_no_roles():
    identity = tokens.verifier().verify(tokens.service_token("scheduling"))
    assert auth.is_service(identity) and identity.service == "scheduling"
    assert identity.person_id == "service:scheduling" and identity.grants == ()
    assert not identity.may({Role.PLATFORM_ADMIN}, [])


def test_a_service_token_signed_with_another_services_key_is_refused():
    forged = signed(service_signer("plugins").key, "service:scheduling/" + service_signer("plugins").key_id.split("/")[1],
                    sub="service:scheduling", roles=[])
    refused(forged)  # not a key the instance lists under that id
    claims_other = signed(service_signer("plugins").key, service_signer("plugins").key_id,
                          sub="service:scheduling", roles=[])
    assert "may not sign" in refused(claims_other)


def test_a_service_key_cannot_sign_a_person_or_roles():
    plugins = service_signer("plugins")
    refused(signed(plugins.key, plugins.key_id, sub="ana"))
    refused(signed(plugins.key, plugins.key_id, sub="service:plugins"))  # a platform_admin role claimed
    now = int(time.time())
    refused(signed(plugins.key, plugins.key_id, sub="service:plugins", roles=[], exp=now + 3600))  # too long


def test_the_issuer_key_cannot_sign_a_service_token():
    issuer = people_signer()
    assert "may not sign" in refused(signed(issuer.key, issuer.key_id, sub="service:plugins", roles=[]))
    with pytest.raises(ValueError, match="service:"):
        auth.issue_token(issuer, "service:plugins", "member", "org-1")
    with pytest.raises(ValueError):
        auth.service_token(issuer)


def test_a_person_token_cannot_be_made_with_a_service_key():
    with pytest.raises(ValueError, match="issuer key"):
        auth.issue_token(service_signer("membership"), "ana", "platform_admin")


# -- key files -------------------------------------------------------------------------------------
def test_a_key_set_keeps_its_keys_and_lists_only_public_halves(tmp_path):
    first = token_keys.make_key_set(tmp_path, ("membership",))
    issuer_pem = first.issuer.read_bytes()
    again = token_keys.make_key_set(tmp_path, ("membership",))
    assert again.issuer.read_bytes() == issuer_pem
    assert (first.issuer.stat().st_mode & 0o777) == 0o600
    public = first.public.read_text()
    assert "PRIVATE" not in public and '"d"' not in public
    assert sorted(kid.split("/")[0] for kid in token_keys.read_public_keys(first.public)) == \
        ["people", "service:membership"]


def test_a_missing_public_keys_file_is_a_configuration_error(tmp_path):
    with pytest.raises(ConfigError, match="COPNET_TOKEN_PUBLIC_KEYS_FILE"):
        token_keys.verifier(tokens.settings(token_public_keys_file=None))
    with pytest.raises(ConfigError, match="COPNET_TOKEN_PUBLIC_KEYS_FILE"):
        token_keys.verifier(tokens.settings(token_public_keys_file=tmp_path / "absent.json"))
    with pytest.raises(ConfigError, match="COPNET_SERVICE_KEY_FILE"):
        token_keys.service_signer(tokens.settings(), "membership")


# -- roles and scope -------------------------------------------------------------------------------
def test_a_role_reaches_the_subtree_of_its_organization_only():
    lead = Identity("p", (Grant(Role.REGIONAL_LEAD, "bay"),))
    assert lead.may({Role.REGIONAL_LEAD}, ["ca", "bay", "alameda"])
    assert not lead.may({Role.REGIONAL_LEAD}, ["ca", "south", "la"])
    assert not lead.may({Role.REGIONAL_LEAD}, ["ca"])           # not above where it is held
    assert not lead.may({Role.COUNTY_ADMIN}, ["ca", "bay"])      # a different role


def test_platform_admin_reaches_everything():
    admin = Identity("p", (Grant(Role.PLATFORM_ADMIN, ""),))
    assert admin.may({Role.PLATFORM_ADMIN}, [])
    assert admin.may({Role.PLATFORM_ADMIN, Role.COUNTY_ADMIN}, ["anything"])


def test_require_distinguishes_anonymous_from_out_of_scope():
    with pytest.raises(Unauthenticated):
        auth.require({Role.COUNTY_ADMIN}, ["x"], "doing it")
    token = auth.set_identity(Identity("p", (Grant(Role.COUNTY_ADMIN, "y"),)))
    try:
        with pytest.raises(PermissionDenied) as raised:
            auth.require({Role.COUNTY_ADMIN}, ["x"], "doing it")
        assert raised.value.reason == "OUT_OF_SCOPE"
    finally:
        auth.reset_identity(token)


@pytest.mark.parametrize("header", ["Basic abc", "Bearer", "Bearer   ", "token"])
def test_malformed_authorization_header_is_refused(header):
    with pytest.raises(Unauthenticated):
        auth.bearer_from_header(header)


def test_absent_authorization_header_is_anonymous():
    assert auth.bearer_from_header(None) is None
    assert auth.bearer_from_header("bearer abc.def") == "abc.def"


def test_calling_oneself_service_is_no_service():
    # A person's identity whose id looks like a service's is not a service.
    assert not auth.is_service(Identity("service:fake", (Grant(Role.PLATFORM_ADMIN, ""),)))


def test_a_token_issued_in_the_future_is_refused():
    # Else iat could be moved ahead to stretch a token past the cap while exp - iat stays under it.
    now = int(time.time())
    issuer = people_signer()
    refused(signed(issuer.key, issuer.key_id, iat=now + 3600, exp=now + 7200))


# -- revocation ------------------------------------------------------------------------------------
def test_a_revoked_token_id_is_refused():
    token = tokens.person_token("member", "s1")
    token_id = jwt.decode(token, options={"verify_signature": False})["jti"]
    verifier = tokens.verifier()
    verifier.revoked = {token_id}
    assert refused_by(verifier, token) == "TOKEN_REVOKED"
    assert verifier.verify(tokens.person_token("member", "s1")).person_id == "tester"


def refused_by(verifier, token: str) -> str:
    with pytest.raises(Unauthenticated) as raised:
        verifier.verify(token)
    return raised.value.reason
