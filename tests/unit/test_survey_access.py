"""Who reads survey reports: any role over the program's owner reads the whole; a county admin
only their county offices' groups (and only where the program has a community); others nobody."""

from __future__ import annotations

import contextlib

import pytest

from copnet.kernel import auth
from copnet.kernel.auth import Grant, Identity, Role
from copnet.kernel.errors import PermissionDenied, Unauthenticated
from copnet.reflection.surveys import access
from copnet.reflection.surveys.reports import Reach

OWNER_SCOPE = ("ca", "ca-bay-area")
PROGRAM_COUNTIES = ("alameda-coe", "santa-clara-coe")


@contextlib.contextmanager
def calling(*grants: tuple[Role, str], service: str = ""):
    token = auth.set_identity(Identity("someone", tuple(Grant(role, org) for role, org in grants), service=service))
    try:
        yield
    finally:
        auth.reset_identity(token)


def reach():
    return access.report_reach(OWNER_SCOPE, lambda: PROGRAM_COUNTIES, "reading")


@pytest.mark.parametrize("grant", [(Role.REGIONAL_LEAD, "ca-bay-area"), (Role.STATE_COORDINATOR, "ca"),
                                   (Role.PLATFORM_ADMIN, "")])
def test_a_role_over_the_owner_reads_the_whole(grant):
    with calling(grant):
        assert reach() is None


def test_a_county_admin_reads_their_county_offices_of_the_program_only():
    with calling((Role.COUNTY_ADMIN, "alameda-coe"), (Role.COUNTY_ADMIN, "san-diego-coe")):
        assert reach() == Reach(frozenset({"alameda-coe"}))


@pytest.mark.parametrize("grant", [(Role.COUNTY_ADMIN, "san-diego-coe"), (Role.REGIONAL_LEAD, "ca-southern"),
                                   (Role.FACILITATOR, "eastbay-usd"), (Role.MEMBER, "lakeview-ms"),
                                   (Role.DATA_STEWARD, "alameda-coe")])
def test_everyone_else_is_refused(grant):
    with calling(grant), pytest.raises(PermissionDenied) as refused:
        reach()
    assert refused.value.reason == "OUT_OF_SCOPE"


def test_a_service_reads_the_whole_but_never_answers():
    with calling(service="gateway"):
        assert reach() is None
        with pytest.raises(PermissionDenied) as refused:
            access.person("responding")
        assert refused.value.reason == "PERSON_REQUIRED"
    with pytest.raises(Unauthenticated):
        access.person("responding")
