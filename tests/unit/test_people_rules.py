"""People: email rule, who a caller may see, and the gateway's PATCH semantics."""

from __future__ import annotations

import pytest
from copnet.gateway.convert.organizations import update_organization_request
from copnet.gateway.convert.people import update_person_request
from copnet.gateway.schemas.organizations import OrganizationUpdate
from copnet.gateway.schemas.people import PersonUpdate
from copnet.kernel.auth import Grant, Identity, Role
from copnet.kernel.errors import InvalidArgument
from copnet.membership.access import people_visible_to
from copnet.membership.people import valid_email
from copnet.membership.v1 import membership_pb2


@pytest.mark.parametrize("email", ["ana@school.example", "  Ana.Lopez+cop@k12.ca.us ", "o'neil@x.org"])
def test_sane_emails_are_accepted_trimmed(email):
    assert valid_email(email) == email.strip()


@pytest.mark.parametrize(("email", "reason"), [
    ("", "INVALID_FIELD"), ("ana", "INVALID_EMAIL"), ("ana@", "INVALID_EMAIL"), ("@school.example", "INVALID_EMAIL"),
    ("ana@school", "INVALID_EMAIL"), ("a b@school.example", "INVALID_EMAIL"), ("a@@school.example", "INVALID_EMAIL"),
    ("ana@school.", "INVALID_EMAIL"), ("a" * 250 + "@x.org", "INVALID_EMAIL"),
])
def test_bad_emails_are_refused(email, reason):
    with pytest.raises(InvalidArgument) as raised:
        valid_email(email)
    assert (raised.value.reason, [f.field for f in raised.value.fields]) == (reason, ["email"])


def test_a_platform_admin_sees_everyone_others_themself_and_their_managed_scopes():
    assert people_visible_to(Identity("root", (Grant(Role.PLATFORM_ADMIN, ""),))) is None
    teacher = people_visible_to(Identity("ana", (Grant(Role.MEMBER, "s1"), Grant(Role.FACILITATOR, "d1"))))
    assert teacher == {"$or": [{"_id": "ana"}, {"scope": {"$in": []}}]}
    admin = people_visible_to(Identity("cat", (Grant(Role.COUNTY_ADMIN, "c1"), Grant(Role.REGIONAL_LEAD, "r1"),
                                        Grant(Role.MEMBER, "s1"))))
    assert admin == {"$or": [{"_id": "cat"}, {"scope": {"$in": ["c1", "r1"]}}]}


def test_patch_person_sets_only_what_was_sent():
    assert update_person_request("p", PersonUpdate(name="New")) == membership_pb2.UpdatePersonRequest(id="p", name="New")
    both = update_person_request("p", PersonUpdate(grade_bands=[], affiliations=[
        {"organization_id": "s1", "position": "coach"}]))
    assert both.set_grade_bands and list(both.grade_bands) == []
    assert both.set_affiliations and list(both.affiliations) == [membership_pb2.Affiliation(organization_id="s1",
                                                                                            position=membership_pb2.POSITION_COACH)]
    assert not both.HasField("name") and not both.HasField("email")


def test_patch_organization_clears_the_code_with_null_or_empty_and_keeps_it_when_absent():
    assert not update_organization_request("o", OrganizationUpdate(name="N")).HasField("code")
    for cleared in (OrganizationUpdate(code=None), OrganizationUpdate(code="")):
        request = update_organization_request("o", cleared)
        assert request.HasField("code") and request.code == ""
