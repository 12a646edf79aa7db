"""Who works on an inquiry cycle: the community's confirmed members (a team's members for a team's
cycle), its facilitators and its managers; a coordinator or any other role in scope does not."""

from __future__ import annotations

import pytest
from copnet.kernel import auth
from copnet.kernel.auth import Grant, Identity, Role
from copnet.kernel.errors import PermissionDenied
from copnet.reflection.cycles.members import Community, CycleMembership, Team

SCOPE = ("ca", "bay", "alameda-coe", "eastbay-usd")
COMMUNITY = Community("plc", "eastbay-usd", SCOPE, frozenset({"fac"}), "")
TEAM = Team("team", "plc", frozenset({"teammate"}))


class Registrations(CycleMembership):
    """Membership's answer about confirmed places, without membership."""

    def __init__(self, confirmed: set[str]):
        super().__init__(ctx=None)
        self.confirmed = confirmed
        self.asked: list[str] = []

    def is_confirmed(self, community_id: str, person_id: str) -> bool:
        self.asked.append(person_id)
        return person_id in self.confirmed


def may(person: str, role: Role | None = None, org: str = "", *, team: Team | None = None,
        confirmed=frozenset({"teacher", "teammate"})) -> bool:
    grants = (Grant(role, org),) if role else ()
    token = auth.set_identity(Identity(person, grants))
    try:
        return Registrations(set(confirmed)).may_work_on(COMMUNITY, team)
    finally:
        auth.reset_identity(token)


@pytest.mark.parametrize("person,role,org", [
    ("teacher", Role.MEMBER, "lakeview-ms"),  # a confirmed member, wherever their role is held
    ("fac", Role.FACILITATOR, "elsewhere"),  # the community's facilitator
    ("lead", Role.REGIONAL_LEAD, "bay"),
    ("county", Role.COUNTY_ADMIN, "alameda-coe"),
    ("admin", Role.PLATFORM_ADMIN, ""),
])
def test_members_facilitators_and_managers_work_on_the_communitys_cycles(person, role, org):
    assert may(person, role, org)


@pytest.mark.parametrize("person,role,org", [
    ("coordinator", Role.STATE_COORDINATOR, "ca"),  # counts only
    ("steward", Role.DATA_STEWARD, "alameda-coe"),
    ("colleague", Role.MEMBER, "eastbay-usd"),  # in scope, not registered
    ("other-county", Role.COUNTY_ADMIN, "san-diego-coe"),
    ("fac-elsewhere", Role.FACILITATOR, "eastbay-usd"),  # a facilitator, of other communities
])
def test_anyone_else_does_not(person, role, org):
    assert not may(person, role, org)


def test_a_teams_cycle_is_its_members_and_the_facilitators_only():
    assert may("teammate", Role.MEMBER, "lakeview-ms", team=TEAM)
    assert may("fac", Role.FACILITATOR, "eastbay-usd", team=TEAM)
    assert not may("teacher", Role.MEMBER, "lakeview-ms", team=TEAM)  # confirmed, but not in the team


def test_refusal_says_counts_are_what_others_read():
    token = auth.set_identity(Identity("coordinator", (Grant(Role.STATE_COORDINATOR, "ca"),)))
    try:
        with pytest.raises(PermissionDenied) as raised:
            Registrations(set()).require_worker(COMMUNITY, None, "reading an inquiry cycle")
    finally:
        auth.reset_identity(token)
    assert raised.value.reason == "NOT_A_MEMBER" and "counts" in raised.value.message
