"""People and role grants through the real gateway: validation, uniqueness, search, and who may
read or change whom (the person themself, managers over their affiliations, nobody else)."""

from __future__ import annotations

import pytest

from tests.integration.http import Reply, request
from tests.integration.jetstream_events import wait_for_types

pytestmark = pytest.mark.integration

TZ = "America/Los_Angeles"


class Api:
    def __init__(self, stack):
        self.stack = stack
        self.base = stack.gateway_url.rstrip("/")

    def call(self, method: str, path: str, body=None, token: str | None = None) -> Reply:
        kwargs = {"json_body": body} if body is not None else {}
        return request(method, self.base + path, token=token, **kwargs)

    def token(self, role: str, org: str = "", person: str = "ppl-tester") -> str:
        return self.stack.token(role, org, person=person)

    def admin(self) -> str:
        return self.token("platform_admin")

    def ok(self, method: str, path: str, body=None, token: str | None = None, status: int = 200) -> dict:
        reply = self.call(method, path, body, token=token or self.admin())
        assert reply.status == status, reply.text
        return reply.json()

    def ids(self, path: str, token: str) -> list[str]:
        found, page_token = [], ""
        while True:
            separator = "&" if "?" in path else "?"
            page = self.ok("GET", f"{path}{separator}page_size=2&page_token={page_token}", token=token)
            found += [item["id"] for item in page["items"]]
            page_token = page["next_page_token"]
            if not page_token:
                return found


def problem(reply: Reply, status: int, reason: str | None = None) -> dict:
    assert reply.status == status, reply.text
    assert reply.media_type == "application/problem+json"
    body = reply.json()
    if reason is not None:
        assert body["reason"] == reason, body
    return body


@pytest.fixture(scope="module")
def api(stack):
    """state > region > county A (district > 2 schools) and county B (district > school); six people."""
    api = Api(stack)
    for org_id, kind, parent in (("ppl-state", "state", None), ("ppl-region", "region", "ppl-state"),
                                 ("ppl-county-a", "county_office", "ppl-region"),
                                 ("ppl-county-b", "county_office", "ppl-region"),
                                 ("ppl-district-a", "district", "ppl-county-a"),
                                 ("ppl-district-b", "district", "ppl-county-b"),
                                 ("ppl-school-a1", "school", "ppl-district-a"),
                                 ("ppl-school-a2", "school", "ppl-district-a"),
                                 ("ppl-school-b", "school", "ppl-district-b")):
        api.ok("POST", "/api/v1/orgs", {"id": org_id, "name": org_id, "kind": kind, "parent_id": parent,
                                        "time_zone": TZ if parent is None else None}, status=201)
    for person_id, name, email, org, position in (
            ("ppl-ana", "Ana Alvarez", "Ana@School-A1.example", "ppl-school-a1", "teacher"),
            ("ppl-ben", "Ben O'Neil (Math)", "ben@school-a1.example", "ppl-school-a1", "site_admin"),
            ("ppl-cora", "Cora Chen", "cora@school-a2.example", "ppl-school-a2", "teacher"),
            ("ppl-dev", "Dev Das", "dev@district-a.example", "ppl-district-a", "coach"),
            ("ppl-eli", "Eli Eastman", "eli@school-b.example", "ppl-school-b", "teacher"),
            ("ppl-fay", "Fay Foster", "fay@school-b.example", "ppl-school-b", "specialist")):
        api.ok("POST", "/api/v1/people", {"id": person_id, "name": name, "email": email,
                                          "affiliations": [{"organization_id": org, "position": position}]},
               status=201)
    return api


# -- create ------------------------------------------------------------------------------------------
def test_create_answers_the_person_with_a_location(api):
    reply = api.call("POST", "/api/v1/people", {
        "id": "ppl-gil", "name": "Gil Green", "email": "gil@school-a2.example", "grade_bands": ["K-2", "3-5", "K-2"],
        "affiliations": [{"organization_id": "ppl-school-a2", "position": "teacher"},
                         {"organization_id": "ppl-district-a", "position": "specialist"}]},
        token=api.token("county_admin", "ppl-county-a"))
    assert reply.status == 201, reply.text
    person = reply.json()
    assert reply.headers["location"].endswith("/api/v1/people/ppl-gil")
    assert person["grade_bands"] == ["K-2", "3-5"]
    assert person["affiliations"] == [{"organization_id": "ppl-school-a2", "position": "teacher"},
                                      {"organization_id": "ppl-district-a", "position": "specialist"}]
    assert person["roles"] == [] and person["created_at"].endswith("Z") and person["updated_at"]
    assert api.ok("GET", "/api/v1/people/ppl-gil") == person


def test_email_is_unique_without_regard_to_case(api):
    body = problem(api.call("POST", "/api/v1/people", {
        "id": "ppl-ana-twin", "name": "Other Ana", "email": "ana@SCHOOL-a1.example",
        "affiliations": [{"organization_id": "ppl-school-a1", "position": "teacher"}]}, token=api.admin()),
        409, "DUPLICATE_EMAIL")
    assert [e["field"] for e in body["errors"]] == ["email"]
    problem(api.call("GET", "/api/v1/people/ppl-ana-twin", token=api.admin()), 404)


@pytest.mark.parametrize(("changes", "status", "reason", "field"), [
    ({"email": "not-an-email"}, 422, "INVALID_EMAIL", "email"),
    ({"email": "two@@example.org"}, 422, "INVALID_EMAIL", "email"),
    ({"affiliations": [{"organization_id": "ppl-school-a1", "position": "teacher"},
                       {"organization_id": "ppl-nowhere", "position": "teacher"}]},
     422, "UNKNOWN_ORGANIZATION", "affiliations[1].organization_id"),
    ({"affiliations": []}, 422, "VALIDATION_FAILED", "affiliations"),
    ({"affiliations": [{"organization_id": "ppl-school-a1", "position": "janitor"}]},
     422, "VALIDATION_FAILED", "affiliations.0.position"),
    ({"id": "Not An Id"}, 422, "INVALID_FIELD", "id"),
    ({"grade_bands": ["K-12"]}, 422, "VALIDATION_FAILED", "grade_bands.0"),
])
def test_bad_people_are_refused_naming_the_field(api, changes, status, reason, field):
    body = {"id": "ppl-bad", "name": "Bad", "email": "bad@example.org",
            "affiliations": [{"organization_id": "ppl-school-a1", "position": "teacher"}], **changes}
    found = problem(api.call("POST", "/api/v1/people", body, token=api.admin()), status, reason)
    assert field in [e["field"] for e in found["errors"]]
    problem(api.call("GET", "/api/v1/people/ppl-bad", token=api.admin()), 404)


@pytest.mark.parametrize(("role", "org", "status"), [
    ("county_admin", "ppl-county-b", 403),     # another county
    ("county_admin", "ppl-county-a", 403),     # reaches one affiliation but not the other
    ("member", "ppl-school-a1", 403),
    ("facilitator", "ppl-county-a", 403),
    ("regional_lead", "ppl-region", 201),      # above both
])
def test_creating_needs_a_manager_over_every_affiliation(api, role, org, status):
    person_id = f"ppl-two-{role}-{org}".replace("_", "-")
    reply = api.call("POST", "/api/v1/people", {
        "id": person_id, "name": "Two Places", "email": f"{person_id}@example.org",
        "affiliations": [{"organization_id": "ppl-school-a1", "position": "teacher"},
                         {"organization_id": "ppl-school-b", "position": "coach"}]}, token=api.token(role, org))
    assert reply.status == status, reply.text
    if status == 403:
        assert reply.json()["reason"] == "OUT_OF_SCOPE"


def test_anonymous_callers_get_401_everywhere(api):
    for method, path, body in (("GET", "/api/v1/people", None), ("GET", "/api/v1/people/ppl-ana", None),
                               ("POST", "/api/v1/people", {"name": "x"}),
                               ("PATCH", "/api/v1/people/ppl-ana", {"name": "x"}),
                               ("POST", "/api/v1/people/ppl-ana/roles", {"role": "member"}),
                               ("DELETE", "/api/v1/people/ppl-ana/roles?role=member", None)):
        problem(api.call(method, path, body), 401, "TOKEN_REQUIRED")


# -- reading and searching ---------------------------------------------------------------------------
def test_a_teacher_reads_only_themself(api):
    ana = api.token("member", "ppl-school-a1", person="ppl-ana")
    assert api.ok("GET", "/api/v1/people/ppl-ana", token=ana)["email"] == "Ana@School-A1.example"
    problem(api.call("GET", "/api/v1/people/ppl-ben", token=ana), 404)  # as if there were nobody
    assert api.ids("/api/v1/people", ana) == ["ppl-ana"]
    assert api.ids("/api/v1/people?organization_id=ppl-school-a1", ana) == ["ppl-ana"]


def test_a_county_admin_sees_their_county_only(api):
    county_a = api.token("county_admin", "ppl-county-a")
    visible = api.ids("/api/v1/people", county_a)
    assert {"ppl-ana", "ppl-ben", "ppl-cora", "ppl-dev"} <= set(visible)
    assert not {"ppl-eli", "ppl-fay"} & set(visible)
    # Outside one's reach is answered like nobody at all: the same 404, the same words.
    outside = problem(api.call("GET", "/api/v1/people/ppl-eli", token=county_a), 404)
    nobody = problem(api.call("GET", "/api/v1/people/ppl-nobody", token=county_a), 404)
    assert (outside["reason"], outside["detail"].replace("ppl-eli", "?")) == (
        nobody["reason"], nobody["detail"].replace("ppl-nobody", "?"))
    assert set(api.ids("/api/v1/people", api.token("county_admin", "ppl-county-b"))) >= {"ppl-eli", "ppl-fay"}
    problem(api.call("GET", "/api/v1/people/ppl-nobody", token=county_a), 404)


def test_search_by_text_organization_and_position(api):
    lead = api.token("regional_lead", "ppl-region")
    assert api.ids("/api/v1/people?query=ALVAREZ", lead) == ["ppl-ana"]          # name, any case
    assert api.ids("/api/v1/people?query=school-b.EXAMPLE", lead) == ["ppl-eli", "ppl-fay"]  # email
    assert api.ids("/api/v1/people?query=%28math%29", lead) == ["ppl-ben"]       # "(math)" taken literally
    assert api.ids("/api/v1/people?query=o.n", lead) == []                      # "." is not a wildcard
    below_district = api.ids("/api/v1/people?organization_id=ppl-district-a", lead)
    assert {"ppl-ana", "ppl-ben", "ppl-cora", "ppl-dev"} <= set(below_district)
    assert not {"ppl-eli", "ppl-fay"} & set(below_district)
    assert api.ids("/api/v1/people?organization_id=ppl-school-a1&position=site_admin", lead) == ["ppl-ben"]
    # Position and organization must match the same affiliation: Ivy teaches at A1 and coaches at B.
    api.ok("POST", "/api/v1/people", {"id": "ppl-ivy", "name": "Ivy Iqbal", "email": "ivy@example.org",
                                      "affiliations": [{"organization_id": "ppl-school-a1", "position": "teacher"},
                                                       {"organization_id": "ppl-school-b", "position": "coach"}]},
           status=201)
    assert api.ids("/api/v1/people?organization_id=ppl-school-b&position=teacher", lead) == ["ppl-eli"]
    assert api.ids("/api/v1/people?organization_id=ppl-school-b&position=teacher&query=eli", lead) == ["ppl-eli"]
    # A county admin searching outside their county finds nobody rather than an error.
    county_a = api.token("county_admin", "ppl-county-a")
    assert api.ids("/api/v1/people?organization_id=ppl-school-b&position=specialist", county_a) == []


# -- updating ------------------------------------------------------------------------------------------
def test_a_person_changes_their_own_name_email_and_grade_bands_but_not_affiliations(api):
    cora = api.token("member", "ppl-school-a2", person="ppl-cora")
    updated = api.ok("PATCH", "/api/v1/people/ppl-cora", {"name": "Cora Chen-Li", "email": "cora@new.example",
                                                          "grade_bands": ["6-8"]}, token=cora)
    assert (updated["name"], updated["email"], updated["grade_bands"]) == ("Cora Chen-Li", "cora@new.example",
                                                                          ["6-8"])
    assert updated["affiliations"] == [{"organization_id": "ppl-school-a2", "position": "teacher"}]
    problem(api.call("PATCH", "/api/v1/people/ppl-cora", {
        "affiliations": [{"organization_id": "ppl-school-b", "position": "teacher"}]}, token=cora), 403)
    problem(api.call("PATCH", "/api/v1/people/ppl-ana", {"name": "Not Me"}, token=cora), 404)
    taken = problem(api.call("PATCH", "/api/v1/people/ppl-cora", {"email": "ELI@school-b.example"}, token=cora),
                    409, "DUPLICATE_EMAIL")
    assert [e["field"] for e in taken["errors"]] == ["email"]
    assert api.ok("GET", "/api/v1/people/ppl-cora", token=cora) == updated
    events = wait_for_types(api.stack, "membership.person.*", "ppl-cora", [
        "copnet.membership.person.created", "copnet.membership.person.updated"])
    # Ids only: the e-mail address stays in membership.
    assert events[1].data == {"person_id": "ppl-cora", "changed_by": "ppl-cora"}


def test_a_manager_moves_a_person_and_their_visibility_follows(api):
    county_a, county_b = api.token("county_admin", "ppl-county-a"), api.token("county_admin", "ppl-county-b")
    api.ok("POST", "/api/v1/people", {"id": "ppl-hal", "name": "Hal Hill", "email": "hal@example.org",
                                      "affiliations": [{"organization_id": "ppl-school-a1", "position": "teacher"}]},
           token=county_a, status=201)
    # County A cannot place someone in county B; the regional lead can.
    problem(api.call("PATCH", "/api/v1/people/ppl-hal", {
        "affiliations": [{"organization_id": "ppl-school-b", "position": "coach"}]}, token=county_a), 403)
    moved = api.ok("PATCH", "/api/v1/people/ppl-hal", {
        "affiliations": [{"organization_id": "ppl-school-b", "position": "coach"}]},
        token=api.token("regional_lead", "ppl-region"))
    assert moved["affiliations"] == [{"organization_id": "ppl-school-b", "position": "coach"}]
    problem(api.call("GET", "/api/v1/people/ppl-hal", token=county_a), 404)
    assert api.ok("GET", "/api/v1/people/ppl-hal", token=county_b)["id"] == "ppl-hal"
    assert "ppl-hal" in api.ids("/api/v1/people?organization_id=ppl-district-b&position=coach", county_b)
    problem(api.call("PATCH", "/api/v1/people/ppl-hal", {
        "affiliations": [{"organization_id": "ppl-nowhere", "position": "coach"}]}, token=api.admin()),
        422, "UNKNOWN_ORGANIZATION")


# -- roles -------------------------------------------------------------------------------------------
def test_granting_is_idempotent_and_revoking_removes_the_grant(api):
    county_a = api.token("county_admin", "ppl-county-a", person="ppl-granter")
    granted = api.ok("POST", "/api/v1/people/ppl-dev/roles", {"role": "facilitator",
                                                              "organization_id": "ppl-district-a"}, token=county_a)
    [grant] = granted["roles"]
    assert (grant["role"], grant["organization_id"], grant["granted_by"]) == ("facilitator", "ppl-district-a",
                                                                              "ppl-granter")
    again = api.ok("POST", "/api/v1/people/ppl-dev/roles", {"role": "facilitator",
                                                            "organization_id": "ppl-district-a"}, token=county_a)
    assert again == granted
    revoked = api.ok("DELETE", "/api/v1/people/ppl-dev/roles?role=facilitator&organization_id=ppl-district-a",
                     token=county_a)
    assert revoked["roles"] == []
    problem(api.call("DELETE", "/api/v1/people/ppl-dev/roles?role=facilitator&organization_id=ppl-district-a",
                     token=county_a), 404, "ROLE_NOT_GRANTED")
    # One event per change: granting again and revoking what is not held announce nothing.
    events = wait_for_types(api.stack, "membership.person.*", "ppl-dev", [
        "copnet.membership.person.created", "copnet.membership.person.role_granted",
        "copnet.membership.person.role_revoked"])
    assert [e.data["changed_by"] for e in events[1:]] == ["ppl-granter", "ppl-granter"]
    assert events[1].data == {"person_id": "ppl-dev", "changed_by": "ppl-granter"}


@pytest.mark.parametrize(("role", "org", "grantor_role", "grantor_org", "status", "reason"), [
    ("member", "ppl-school-b", "county_admin", "ppl-county-a", 403, "OUT_OF_SCOPE"),   # another county
    ("county_admin", "ppl-county-a", "county_admin", "ppl-county-a", 403, "OUT_OF_SCOPE"),  # not a grantor of it
    ("county_admin", "ppl-county-a", "regional_lead", "ppl-region", 200, None),
    ("regional_lead", "ppl-region", "regional_lead", "ppl-region", 200, None),
    ("state_coordinator", "ppl-state", "regional_lead", "ppl-region", 403, "OUT_OF_SCOPE"),
    ("platform_admin", None, "regional_lead", "ppl-region", 403, "OUT_OF_SCOPE"),
    ("platform_admin", None, "platform_admin", "", 200, None),
    ("platform_admin", "ppl-state", "platform_admin", "", 422, "PLATFORM_ADMIN_HAS_NO_ORGANIZATION"),
    ("member", None, "platform_admin", "", 422, "INVALID_FIELD"),
    ("member", "ppl-nowhere", "platform_admin", "", 422, "UNKNOWN_ORGANIZATION"),
])
def test_who_may_grant_which_role_where(api, role, org, grantor_role, grantor_org, status, reason):
    body = {"role": role, **({"organization_id": org} if org else {})}
    reply = api.call("POST", "/api/v1/people/ppl-fay/roles", body, token=api.token(grantor_role, grantor_org))
    assert reply.status == status, reply.text
    held = [(g["role"], g["organization_id"]) for g in api.ok("GET", "/api/v1/people/ppl-fay")["roles"]]
    if status == 200:
        assert (role, org) in held
        query = f"?role={role}" + (f"&organization_id={org}" if org else "")
        api.ok("DELETE", f"/api/v1/people/ppl-fay/roles{query}")
    else:
        assert reply.json()["reason"] == reason
        assert (role, org) not in held


def test_unknown_people_are_not_found(api):
    problem(api.call("POST", "/api/v1/people/ppl-nobody/roles", {"role": "member", "organization_id": "ppl-state"},
                     token=api.admin()), 404)
    problem(api.call("PATCH", "/api/v1/people/ppl-nobody", {"name": "x"}, token=api.admin()), 404)


# -- reach: a manager acts on people affiliated under what they manage, and learns nothing of others --
def test_a_role_is_granted_or_revoked_only_to_someone_the_granter_manages(api):
    county_a = api.token("county_admin", "ppl-county-a", person="ppl-granter")
    # Eli (county B) exists, but to county A's admin they answer exactly like nobody: no record comes back.
    for person_id in ("ppl-eli", "ppl-nobody"):
        grant = problem(api.call("POST", f"/api/v1/people/{person_id}/roles", {
            "role": "member", "organization_id": "ppl-county-a"}, token=county_a), 404, "NOT_FOUND")
        assert "Eastman" not in str(grant) and "eli@" not in str(grant)
        problem(api.call("DELETE", f"/api/v1/people/{person_id}/roles?role=member&organization_id=ppl-county-a",
                         token=county_a), 404, "NOT_FOUND")
    assert api.ok("GET", "/api/v1/people/ppl-eli")["roles"] == []
    granted = api.ok("POST", "/api/v1/people/ppl-eli/roles", {"role": "member", "organization_id": "ppl-county-b"},
                     token=api.token("county_admin", "ppl-county-b"))
    assert [g["organization_id"] for g in granted["roles"]] == ["ppl-county-b"]


def test_a_manager_changes_only_the_affiliations_they_manage_and_an_email_needs_all_of_them(api):
    api.ok("POST", "/api/v1/people", {"id": "ppl-jo", "name": "Jo Both", "email": "jo@example.org",
                                      "affiliations": [{"organization_id": "ppl-school-a1", "position": "teacher"},
                                                       {"organization_id": "ppl-school-b", "position": "coach"}]},
           status=201)
    county_a = api.token("county_admin", "ppl-county-a")
    # County A's list replaces county A's affiliations; county B's stays as it is.
    changed = api.ok("PATCH", "/api/v1/people/ppl-jo", {
        "affiliations": [{"organization_id": "ppl-school-a2", "position": "specialist"}]}, token=county_a)
    assert changed["affiliations"] == [{"organization_id": "ppl-school-b", "position": "coach"},
                                       {"organization_id": "ppl-school-a2", "position": "specialist"}]
    # Repeating what Jo holds in county B is no change and passes; adding there is refused.
    again = api.ok("PATCH", "/api/v1/people/ppl-jo", {
        "affiliations": [{"organization_id": "ppl-school-b", "position": "coach"},
                         {"organization_id": "ppl-school-a1", "position": "coach"}]}, token=county_a)
    assert again["affiliations"] == [{"organization_id": "ppl-school-b", "position": "coach"},
                                     {"organization_id": "ppl-school-a1", "position": "coach"}]
    problem(api.call("PATCH", "/api/v1/people/ppl-jo", {
        "affiliations": [{"organization_id": "ppl-school-b", "position": "teacher"}]}, token=county_a),
        403, "OUT_OF_SCOPE")
    # The e-mail: not by a manager over one affiliation only; by one over both, or by Jo.
    problem(api.call("PATCH", "/api/v1/people/ppl-jo", {"email": "jo@elsewhere.example"}, token=county_a),
            403, "OUT_OF_SCOPE")
    assert api.ok("GET", "/api/v1/people/ppl-jo")["email"] == "jo@example.org"
    assert api.ok("PATCH", "/api/v1/people/ppl-jo", {"email": "jo@region.example"},
                  token=api.token("regional_lead", "ppl-region"))["email"] == "jo@region.example"
    assert api.ok("PATCH", "/api/v1/people/ppl-jo", {"email": "jo@own.example"},
                  token=api.token("member", "ppl-school-b", person="ppl-jo"))["email"] == "jo@own.example"
