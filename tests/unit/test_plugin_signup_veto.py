"""Sign-up validation by plugins: the snapshot they see, vetoes, and what is not a veto."""

import dataclasses
import threading

import pytest

from copnet import hookimpl
from copnet.kernel.errors import FailedPrecondition
from copnet.kernel.plugin_config_feed import PluginConfig
from copnet.kernel.plugin_host import PluginHost
from copnet.membership.models import Affiliation, Community, Person
from copnet.membership.signup_rules import check_plugins_allow, signup_attempt

SCOPE = ["state", "region-a", "county-a1", "district-1", "school-1"]


@pytest.fixture
def person():
    return Person(id="p1", name="Pat", email="pat@example.org", grade_bands=["3_5"], affiliations=[
        Affiliation(organization_id="school-1", position="teacher", scope=SCOPE)])


@pytest.fixture
def community():
    return Community(id="c1", name="Fractions", kind="plc", grade_bands=["3_5", "6_8"], host_organization_id="county-a1",
                     county_office_id="county-a1", region_id="region-a", scope=SCOPE[:3])


class Ctx:
    def __init__(self, host):
        self.plugins = host


class Rule:
    COPNET_HOOKSPEC_VERSION = 2

    def __init__(self, answer):
        self.answer = answer
        self.seen = []

    @hookimpl
    def validate_registration(self, attempt, settings, context):
        self.seen.append((attempt, context))
        if isinstance(self.answer, BaseException):
            raise self.answer
        if self.answer == "hang":
            threading.Event().wait(5)
        return self.answer


@pytest.fixture
def host():
    plugin_host = PluginHost(timeout_seconds=0.2)
    plugin_host.configs.load([PluginConfig("region-a", name, 1, True, region_id="region-a")
                              for name in ("rule", "other", "broken")])
    yield plugin_host
    plugin_host.close()


def test_the_attempt_is_a_frozen_snapshot_of_this_person_and_community(person, community):
    attempt = signup_attempt(person, community, "team-1")
    assert attempt.person.id == "p1" and attempt.person.grade_bands == ("3-5",)
    assert attempt.community.grade_bands == ("3-5", "6-8")
    [affiliation] = attempt.person.affiliations
    assert (affiliation.organization_id, affiliation.position, affiliation.scope) == ("school-1", "teacher",
                                                                                     tuple(SCOPE))
    assert (attempt.community.id, attempt.community.kind, attempt.community.region_id,
            attempt.community.county_office_id) == ("c1", "plc", "region-a", "county-a1")
    assert attempt.community.scope == ("state", "region-a", "county-a1")
    assert attempt.team_id == "team-1"
    with pytest.raises(dataclasses.FrozenInstanceError):
        attempt.person.id = "someone-else"


def test_a_reason_refuses_the_sign_up_naming_the_plugin(host, person, community):
    rule = Rule("only teachers from our districts")
    host.register(rule, "rule")
    with pytest.raises(FailedPrecondition) as caught:
        check_plugins_allow(Ctx(host), person, community)
    error = caught.value
    assert error.reason == "PLUGIN_VETO"
    assert "plugin rule: only teachers from our districts" in error.message
    assert error.metadata["plugin"] == "rule"
    [(attempt, context)] = rule.seen
    assert context.organization_id == "region-a" and context.scope == ("state", "region-a", "county-a1")


def test_every_vetoing_plugin_is_named(host, person, community):
    host.register(Rule("no"), "rule")
    host.register(Rule("not this year"), "other")
    with pytest.raises(FailedPrecondition) as caught:
        check_plugins_allow(Ctx(host), person, community, field="members[0].person_id")
    assert "plugin rule: no" in caught.value.message and "plugin other: not this year" in caught.value.message
    assert caught.value.metadata["field"] == "members[0].person_id"


@pytest.mark.parametrize("answer", [None, "", "   ", True])
def test_no_reason_lets_it_through(host, person, community, answer):
    host.register(Rule(answer), "rule")
    check_plugins_allow(Ctx(host), person, community)


@pytest.mark.parametrize("answer", [RuntimeError("district API down"), "hang"])
def test_an_exception_or_a_time_out_is_not_a_veto(host, person, community, answer):
    host.register(Rule(answer), "broken")
    check_plugins_allow(Ctx(host), person, community)
    assert host.failures[("broken", "region-a")] == 1


def test_a_plugin_not_enabled_for_the_community_is_not_asked(host, person, community):
    rule = Rule("no")
    host.register(rule, "rule")
    community.scope = ["state", "region-b"]
    check_plugins_allow(Ctx(host), person, community)
    assert rule.seen == []
