import time

import jwt
import pytest

from copnet.kernel import auth
from copnet.kernel.auth import Grant, Identity, Role
from copnet.kernel.errors import PermissionDenied, Unauthenticated

SECRET = "unit-test-secret-0123456789abcdef-xyz"


def test_issued_token_verifies_to_the_same_identity():
    token = auth.issue_token(SECRET, "p-1", "county_admin", "alameda")
    identity = auth.verify_token(SECRET, token)
    assert identity == Identity("p-1", (Grant(Role.COUNTY_ADMIN, "alameda"),))


def test_token_signed_with_another_secret_is_refused():
    token = auth.issue_token("another-secret-0123456789abcdef-xyz", "p-1", "member", "school-1")
    with pytest.raises(Unauthenticated) as raised:
        auth.verify_token(SECRET, token)
    assert raised.value.reason == "TOKEN_INVALID"


def test_expired_token_is_refused():
    claims = {"iss": "copnet", "aud": "copnet", "sub": "p", "iat": int(time.time()) - 100,
              "exp": int(time.time()) - 10, "roles": []}
    with pytest.raises(Unauthenticated) as raised:
        auth.verify_token(SECRET, jwt.encode(claims, SECRET, algorithm="HS256"))
    assert raised.value.reason == "TOKEN_EXPIRED"


def test_roles_other_than_platform_admin_need_an_org():
    with pytest.raises(ValueError, match="organization"):
        auth.issue_token(SECRET, "p", "regional_lead")
    with pytest.raises(ValueError):
        auth.issue_token(SECRET, "p", "wizard", "org")


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


def test_a_service_token_is_recognised_as_a_service_and_a_person_token_is_not():
    service = auth.verify_token(SECRET, auth.service_token(SECRET, "scheduling"))
    assert service.person_id == "service:scheduling" and auth.is_service(service)
    admin = auth.verify_token(SECRET, auth.issue_token(SECRET, "someone", "platform_admin"))
    assert not auth.is_service(admin)
    # Calling oneself "service:" does not help without the platform_admin role.
    member = auth.verify_token(SECRET, auth.issue_token(SECRET, "service:fake", "member", "org-1"))
    assert not auth.is_service(member)
