"""Standing check: who may do what, for every route of the gateway, asked of a running demo stack.

The table below has one row per route (method and path template, as the gateway's own route table
has it) saying who may call it, in scope of the row's target: "anyone", "authenticated", or a set
of in-scope callers ("self", "facilitator", "county_admin", ...). Every row is tried by every
caller:

- anonymous, and platform_admin (instance-wide);
- each other role held at an organization over the target (`member`, `facilitator`, ...) and the
  same role held at an unrelated organization (`member@elsewhere`, ...): out of scope;
- `self`: the person the row's path names, with their own member token.

A caller the row does not name must be refused (401, 403 or 404) with a problem body that carries
none of the target's data; a caller it names must not be refused (and a read must succeed). A list
that shows each caller only what they may read says who `sees` its marker; the others get the list
without it. A route with no row fails the test, so a new route forces a decision here.

Bodies are minimal and valid, so a refusal comes from access and not from a malformed request;
writes are chosen to change little (the same name again, a move under the current parent) or to
hit items this test makes for them. For each row the callers to refuse go first, so a write an
allowed caller makes never decides what a refused caller is answered.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urlencode

import pytest

from copnet import seed
from copnet.api_client import ApiClient
from copnet.gateway.app import create_app

from tests.integration.http import Reply, request
from tests.support.stack import RunningStack, own_demo_stack, settings_for_tests

pytestmark = pytest.mark.integration

# -- who calls ------------------------------------------------------------------------------------
ORG_ROLES = ("member", "facilitator", "county_admin", "regional_lead", "state_coordinator", "data_steward")
# Where each role is held when it is in scope of the targets below (all in the Bay Area, under
# Alameda County and East Bay Unified), and where it is held when it is not.
IN_SCOPE_AT = {"member": "eastbay-usd", "facilitator": "eastbay-usd", "county_admin": "alameda-coe",
               "regional_lead": "ca-bay-area", "state_coordinator": "ca", "data_steward": "alameda-coe"}
OTHER_STATE = "authz-other-state"
ELSEWHERE_AT = {"member": "san-diego-coe", "facilitator": "san-diego-coe", "county_admin": "san-diego-coe",
                "regional_lead": "ca-southern", "state_coordinator": OTHER_STATE, "data_steward": "san-diego-coe"}
# The person the person routes are about (a Lakeview Middle teacher registered in the PLC); `self`
# is them. The in-scope facilitator is the program communities' facilitator.
PERSON, FACILITATOR = "daniel-kim", "robert-nguyen"


@dataclass(frozen=True)
class Caller:
    name: str
    role: str = ""  # empty: anonymous
    org: str = ""
    person: str = ""


def callers() -> list[Caller]:
    found = [Caller("anonymous"), Caller("self", "member", "lakeview-ms", PERSON)]
    for role in ORG_ROLES:
        person = FACILITATOR if role == "facilitator" else f"authz-{role.replace('_', '-')}"
        found.append(Caller(role, role, IN_SCOPE_AT[role], person))
        found.append(Caller(f"{role}@elsewhere", role, ELSEWHERE_AT[role], f"{person}-elsewhere"))
    found.append(Caller("platform_admin", "platform_admin", "", "authz-platform-admin"))
    return found


CALLERS = callers()
EVERYONE = frozenset(caller.name for caller in CALLERS)

# -- who may (in scope of the row's target) -------------------------------------------------------
ANYONE = EVERYONE
AUTHENTICATED = EVERYONE - {"anonymous"}
NOBODY_BY_BEARER = frozenset()  # calendar feeds: only the feed token opens them
SERVES_NOTHING = frozenset()  # the documentation's static folder is empty: 404 for all
PLATFORM_ADMIN = frozenset({"platform_admin"})
PROGRAM_MANAGERS = PLATFORM_ADMIN | {"regional_lead"}  # over the program's owner (the region)
MANAGERS = PROGRAM_MANAGERS | {"county_admin"}  # org, community and people managers over the target
FACILITATORS_AND_MANAGERS = MANAGERS | {"facilitator"}  # the community's facilitators too
SELF_OR_MANAGERS = MANAGERS | {"self"}
CONFIG_EDITORS = PROGRAM_MANAGERS  # a regional lead over the region
DASHBOARD_READERS = PROGRAM_MANAGERS | {"state_coordinator"}  # (a county admin reads only a county's)
ROSTER_IMPORTERS = PROGRAM_MANAGERS  # over the region (a county admin: a county office)

# -- what is tried --------------------------------------------------------------------------------
REGION, COUNTY, DISTRICT, SCHOOL = "ca-bay-area", "alameda-coe", "eastbay-usd", "lakeview-ms"
PROGRAM, PLC, SERIES = seed.DEMO_PROGRAM.id, "bay-ratios-plc", "bay-ratios-plc-monthly"
TEAMS_COMMUNITY, TEAM = "eastbay-elementary-math-teams", "bayside-math-team"
DRAFT_COMMUNITY = "lakeview-grade6-plc"  # a standing draft: opening it is refused (no seats yet)
NETWORK = "authz-network"
# What no refusal may carry: every demo person's name and e-mail address.
PRIVATE = tuple(value for person in seed.DEMO_PEOPLE for value in (person.name, person.email))


@dataclass(frozen=True)
class Row:
    operation: str  # "METHOD /path/{param}" as in the gateway's route table
    who: frozenset[str]
    path: dict[str, str] = field(default_factory=dict)  # "$name": an item the `made` fixture made
    # A body or query may depend on the items made for the matrix and on the caller.
    body: dict | Callable[[dict, Caller], dict] | None = None
    query: dict[str, str] | Callable[[dict, Caller], dict] = field(default_factory=dict)
    # A list filtered by the caller: who sees `marker` in it; the others are answered without it.
    sees: frozenset[str] | None = None
    marker: str = ""


def row(operation: str, who: frozenset[str], body=None, query=None, sees=None, marker: str = "", **path) -> Row:
    return Row(operation, who, path, body, query or {}, sees, marker)


def later(days: int, hour: int = 10) -> Callable[[dict], str]:
    """An instant `days` after the demo's kick-off (inside the program's year), as RFC 3339."""
    return lambda made: (made["kick_off"] + dt.timedelta(days=days)).replace(hour=hour, minute=0).astimezone(
        dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def person_body(person_id: str, email: str) -> dict:
    return {"id": person_id, "name": "Authz Person", "email": email,
            "affiliations": [{"organization_id": SCHOOL, "position": "teacher"}]}


ROWS: tuple[Row, ...] = (
    # Health and the documentation of the API.
    row("GET /healthz", ANYONE),
    row("GET /readyz", ANYONE),
    row("GET /api/v1/", ANYONE),
    row("GET /api/v1/openapi.json", ANYONE),
    row("GET /api/v1/swagger", ANYONE),
    row("GET /api/v1/oauth2-redirect.html", ANYONE),
    row("GET /api/v1/swagger/{filename}", ANYONE, filename="css/swagger-ui.css"),
    row("GET /api/v1/static/{filename}", SERVES_NOTHING, filename="css/swagger-ui.css"),
    # Organizations.
    row("GET /api/v1/orgs", ANYONE),
    row("GET /api/v1/orgs/{id}", ANYONE, id=DISTRICT),
    row("POST /api/v1/orgs", MANAGERS, body={"id": "authz-new-school", "name": "Authz School", "kind": "school",
                                             "parent_id": DISTRICT}),
    row("PATCH /api/v1/orgs/{id}", MANAGERS, id=DISTRICT, body={"name": "East Bay Unified School District"}),
    row("POST /api/v1/orgs/{id}/move", MANAGERS, id=DISTRICT, body={"parent_id": COUNTY}),
    # The network sits in the region; the member school in the county: over either one.
    row("PUT /api/v1/orgs/{network_id}/members/{org_id}", MANAGERS, network_id=NETWORK, org_id=SCHOOL),
    row("DELETE /api/v1/orgs/{network_id}/members/{org_id}", MANAGERS, network_id=NETWORK, org_id=SCHOOL),
    # People.
    row("POST /api/v1/people", MANAGERS, body=person_body("authz-new-person", "authz.new@lakeview.example.org")),
    row("GET /api/v1/people", AUTHENTICATED, query={"query": "daniel"}, sees=SELF_OR_MANAGERS, marker=PERSON),
    row("GET /api/v1/people/{id}", SELF_OR_MANAGERS, id=PERSON),
    row("PATCH /api/v1/people/{id}", SELF_OR_MANAGERS, id=PERSON, body={"name": "Daniel Kim"}),
    # A role at the caller's own organization: the grantor must reach the person too, not only the
    # organization (issue 11, item 5: a county admin granting at their county to anyone in the state
    # got the person's record back).
    row("POST /api/v1/people/{id}/roles", MANAGERS, id=PERSON,
        body=lambda _made, caller: {"role": "member", "organization_id": caller.org or SCHOOL}),
    row("DELETE /api/v1/people/{id}/roles", MANAGERS, id=PERSON,
        query=lambda _made, caller: {"role": "member", "organization_id": caller.org or SCHOOL}),
    row("GET /api/v1/people/{id}/registrations", SELF_OR_MANAGERS, id=PERSON),
    # Programs, their proposals and their timeline.
    row("GET /api/v1/programs", ANYONE),
    row("GET /api/v1/programs/{id}", ANYONE, id=PROGRAM),
    row("POST /api/v1/programs", PROGRAM_MANAGERS, body={"id": "authz-program", "name": "Authz Program",
                                                         "owner_organization_id": REGION, "program_year": "2031-32"}),
    row("PATCH /api/v1/programs/{id}", PROGRAM_MANAGERS, id=PROGRAM,
        body=lambda made, _caller: {"name": made["program_name"]}),
    row("PUT /api/v1/programs/{id}/proposal-call", PROGRAM_MANAGERS, id=PROGRAM,
        body=lambda made, _caller: {"due_at": later(-7)(made)}),
    row("POST /api/v1/programs/{id}/proposals", AUTHENTICATED, id=PROGRAM,
        body={"title": "Authz proposal", "requested_capacity": 10, "kind": "plc", "host_organization_id": DISTRICT}),
    row("GET /api/v1/programs/{id}/proposals", AUTHENTICATED, id=PROGRAM, sees=PROGRAM_MANAGERS,
        marker="$proposal_to_decline"),
    row("GET /api/v1/proposals/{id}", PROGRAM_MANAGERS, id="$proposal_to_decline"),
    row("POST /api/v1/proposals/{id}/accept", PROGRAM_MANAGERS, id="$proposal_to_accept",
        body={"stipend_cents": 0, "community_id": "authz-accepted-community"}),
    row("POST /api/v1/proposals/{id}/decline", PROGRAM_MANAGERS, id="$proposal_to_decline", body={"note": "no"}),
    row("GET /api/v1/programs/{id}/milestones", AUTHENTICATED, id=PROGRAM),
    row("POST /api/v1/programs/{id}/milestones", PROGRAM_MANAGERS, id=PROGRAM,
        body=lambda made, _caller: {"kind": "custom", "title": "Authz milestone", "time": later(30)(made)}),
    row("GET /api/v1/milestones/{id}", AUTHENTICATED, id="$milestone"),
    row("PATCH /api/v1/milestones/{id}", PROGRAM_MANAGERS, id="$milestone", body={"title": "Authz milestone"}),
    row("DELETE /api/v1/milestones/{id}", PROGRAM_MANAGERS, id="$milestone"),
    # Communities, sign-ups and teams.
    row("GET /api/v1/communities", ANYONE),
    row("GET /api/v1/communities/{id}", ANYONE, id=PLC),
    row("POST /api/v1/communities", MANAGERS, body={"id": "authz-community", "name": "Authz Community", "kind": "plc",
                                                    "host_organization_id": DISTRICT}),
    row("PATCH /api/v1/communities/{id}", MANAGERS, id=PLC, body={"name": "Bay Area Grade 6-8 Ratios PLC"}),
    row("POST /api/v1/communities/{id}/status", MANAGERS, id=DRAFT_COMMUNITY, body={"status": "open"}),
    row("POST /api/v1/communities/{id}/registrations", MANAGERS, id=PLC, body={"person_id": "priya-patel"}),
    row("GET /api/v1/communities/{id}/registrations", FACILITATORS_AND_MANAGERS, id=PLC),
    row("POST /api/v1/communities/{id}/team-registrations", MANAGERS, id=TEAMS_COMMUNITY,
        body={"team_name": "Authz Team", "school_id": "bayside-es",
              "members": [{"person_id": "maria-lopez", "role": "lead"}]}),
    row("GET /api/v1/communities/{id}/teams", AUTHENTICATED, id=TEAMS_COMMUNITY,
        sees=FACILITATORS_AND_MANAGERS, marker=TEAM),
    row("POST /api/v1/communities/{id}/teams", FACILITATORS_AND_MANAGERS, id=PLC,
        body={"kind": "cross_district", "name": "Authz cross-district team"}),
    row("GET /api/v1/teams/{id}", FACILITATORS_AND_MANAGERS, id=TEAM),
    row("PUT /api/v1/teams/{id}/members/{person_id}", FACILITATORS_AND_MANAGERS, id=TEAM, person_id=PERSON,
        body={"role": "member"}),
    row("DELETE /api/v1/teams/{id}/members/{person_id}", FACILITATORS_AND_MANAGERS, id=TEAM, person_id=PERSON),
    row("GET /api/v1/registrations/{id}", FACILITATORS_AND_MANAGERS | {"self"}, id="$registration"),
    row("POST /api/v1/registrations/{id}/commitment", frozenset({"self"}), id="$registration", body={}),
    row("POST /api/v1/registrations/{id}/onboarding", FACILITATORS_AND_MANAGERS, id="$registration", body={}),
    # Sessions and occurrences.
    row("GET /api/v1/session-types", ANYONE),
    row("GET /api/v1/communities/{id}/sessions", AUTHENTICATED, id=PLC),
    row("POST /api/v1/communities/{id}/sessions", FACILITATORS_AND_MANAGERS, id=PLC,
        body=lambda made, _caller: {"session_type": "regular_convening", "title": "Authz session",
                                    "start_time": later(12)(made), "meeting_url": "https://meet.example.org/authz"}),
    row("GET /api/v1/sessions/{id}", AUTHENTICATED, id=SERIES),
    row("PATCH /api/v1/sessions/{id}", FACILITATORS_AND_MANAGERS, id=SERIES,
        body={"title": "Ratios PLC monthly convening"}),
    row("GET /api/v1/sessions/{id}/occurrences", AUTHENTICATED, id=SERIES),
    row("GET /api/v1/communities/{id}/occurrences", AUTHENTICATED, id=PLC),
    row("GET /api/v1/occurrences/{id}", AUTHENTICATED, id="$occurrence"),
    row("POST /api/v1/occurrences/{id}/move", FACILITATORS_AND_MANAGERS, id="$occurrence",
        body=lambda made, _caller: {"start_time": later(9, hour=11)(made)}),
    row("POST /api/v1/occurrences/{id}/cancel", FACILITATORS_AND_MANAGERS, id="$occurrence", body={}),
    row("POST /api/v1/occurrences/{id}/restore", FACILITATORS_AND_MANAGERS, id="$occurrence", body={}),
    row("POST /api/v1/sessions/{id}/cancel", FACILITATORS_AND_MANAGERS, id="$session", body={}),
    # Attendance, participation, learning hours.
    row("PUT /api/v1/occurrences/{id}/attendance", FACILITATORS_AND_MANAGERS, id="$series_occurrence",
        body={"entries": [{"person_id": PERSON, "status": "present"}]}),
    row("GET /api/v1/occurrences/{id}/attendance", FACILITATORS_AND_MANAGERS, id="$series_occurrence"),
    row("GET /api/v1/communities/{id}/attendance", FACILITATORS_AND_MANAGERS, id=PLC),
    row("GET /api/v1/people/{id}/attendance", SELF_OR_MANAGERS, id=PERSON),
    row("GET /api/v1/communities/{id}/participation", FACILITATORS_AND_MANAGERS, id=PLC),
    row("GET /api/v1/people/{id}/participation", SELF_OR_MANAGERS, id=PERSON),
    row("GET /api/v1/people/{id}/occurrences", SELF_OR_MANAGERS, id=PERSON),
    row("GET /api/v1/people/{id}/programs/{program_id}/hours", SELF_OR_MANAGERS, id=PERSON, program_id=PROGRAM),
    row("GET /api/v1/people/{id}/programs/{program_id}/certificate", SELF_OR_MANAGERS, id=PERSON,
        program_id=PROGRAM),
    # Calendar feeds and reminders.
    row("POST /api/v1/people/{id}/calendar-token", frozenset({"self"}), id=PERSON, body={}),  # a personal credential
    row("POST /api/v1/me/calendar-token", AUTHENTICATED, body={}),
    row("GET /api/v1/calendars/people/{id}.ics", NOBODY_BY_BEARER, id=PERSON, query={"token": "not-the-feed-token"}),
    row("GET /api/v1/calendars/communities/{id}.ics", NOBODY_BY_BEARER, id=PLC,
        query={"token": "not-the-feed-token"}),
    row("POST /api/v1/reminders/run", PLATFORM_ADMIN, body={}),
    # Reports.
    row("GET /api/v1/reports/community-counts", ANYONE),
    row("GET /api/v1/reports/community-counts/{county_office_id}", ANYONE, county_office_id=COUNTY),
    # Plugins.
    row("GET /api/v1/plugins", ANYONE),
    row("GET /api/v1/plugins/{name}", ANYONE, name="equity-sessions"),
    row("GET /api/v1/regions/{region}/plugins", CONFIG_EDITORS, region=REGION),
    row("GET /api/v1/regions/{region}/plugins/{name}", CONFIG_EDITORS, region=REGION, name="equity-sessions"),
    row("PUT /api/v1/regions/{region}/plugins/{name}", CONFIG_EDITORS, region=REGION, name="equity-sessions",
        body={"enabled": True}),
    row("GET /api/v1/regions/{region}/plugins/{name}/history", CONFIG_EDITORS, region=REGION,
        name="equity-sessions"),
    row("POST /api/v1/regions/{region}/roster-imports", ROSTER_IMPORTERS, region=REGION,
        body={"source": "oneroster", "files": {"orgs.csv": "sourcedId,name,type\n"}, "dry_run": True}),
    row("GET /api/v1/regions/{region}/dashboard", DASHBOARD_READERS, region=REGION),
    # Last: cancelling the person's registration (the rows above read it).
    row("POST /api/v1/registrations/{id}/cancel", MANAGERS | {"self"}, id="$registration", body={}),
)


def all_rows() -> tuple[Row, ...]:
    """These rows and data reflection's (tests/integration/reflection_authz_rows.py)."""
    from tests.integration import reflection_authz_rows
    return (*ROWS, *reflection_authz_rows.ROWS)


# -- the route table ------------------------------------------------------------------------------
def route_table(settings) -> set[str]:
    """Every "METHOD /path/{param}" the gateway serves (its Flask route table, plugins' blueprints
    included), as the rows name them."""
    operations = set()
    for rule in create_app(settings).url_map.iter_rules():
        path = re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule.rule)
        operations |= {f"{method} {path}" for method in rule.methods - {"HEAD", "OPTIONS"}}
    return operations


def test_every_route_has_a_row(tmp_path):
    """A new route (or method) fails here until its row says who may call it."""
    routes = route_table(settings_for_tests(tmp_path / "data"))
    rows = [r.operation for r in all_rows()]
    assert len(rows) == len(set(rows)), "a route with two rows"
    assert sorted(routes - set(rows)) == [], "routes without a row in the authorization matrix"
    assert sorted(set(rows) - routes) == [], "rows for routes the gateway no longer has"


# -- the stack and the items the rows act on -------------------------------------------------------
@pytest.fixture(scope="module")
def matrix_stack(tmp_path_factory):
    """A stack of its own: the writes below never meet another test's expectations."""
    with own_demo_stack(tmp_path_factory.mktemp("authz")) as running:
        yield running


@pytest.fixture(scope="module")
def made(matrix_stack) -> dict:
    """What the rows need beyond the demo network: a network, an unrelated state, two proposals,
    a milestone and a session of their own; and the ids the demo's items were given."""
    stack = matrix_stack
    admin = ApiClient(stack.gateway_url, stack.token("platform_admin", person=seed.SEED_PERSON_ID))
    admin.post("/orgs", {"id": OTHER_STATE, "name": "Authz Other State", "kind": "state",
                         "time_zone": "America/Denver"})
    admin.post("/orgs", {"id": NETWORK, "name": "Authz Network", "kind": "network", "parent_id": REGION})
    timeline = {m["kind"]: m for m in admin.get(f"/programs/{PROGRAM}/milestones")["items"]}
    found: dict = {"kick_off": dt.datetime.fromisoformat(timeline["kick_off"]["time"]).astimezone(seed.DEMO_TIME_ZONE),
                   "program_name": admin.get(f"/programs/{PROGRAM}")["name"]}
    proposer = ApiClient(stack.gateway_url, stack.token("member", SCHOOL, person="sofia-garcia"))
    for name in ("proposal_to_accept", "proposal_to_decline"):
        found[name] = proposer.post(f"/programs/{PROGRAM}/proposals", {
            "title": f"Authz {name}", "requested_capacity": 12, "kind": "plc", "host_organization_id": DISTRICT})["id"]
    found["milestone"] = admin.post(f"/programs/{PROGRAM}/milestones", {
        "kind": "custom", "title": "Authz target milestone", "time": later(40)(found)})["id"]
    admin.post(f"/communities/{PLC}/sessions", {
        "id": "authz-session", "session_type": "regular_convening", "title": "Authz target session",
        "start_time": later(5)(found), "meeting_url": "https://meet.example.org/authz-target"})
    found["session"] = "authz-session"
    found["occurrence"] = admin.get("/sessions/authz-session/occurrences")["items"][0]["id"]
    found["series_occurrence"] = admin.get(f"/sessions/{SERIES}/occurrences")["items"][0]["id"]
    found["registration"] = next(r["id"] for r in admin.get(f"/people/{PERSON}/registrations")["items"]
                                 if r["community_id"] == PLC)
    from tests.integration import reflection_authz_rows
    found.update(reflection_authz_rows.made(stack, admin))
    return found


# -- asking and judging ---------------------------------------------------------------------------
def resolved(value: str, made: dict) -> str:
    return made[value[1:]] if value.startswith("$") else value


def attempt(stack: RunningStack, caller: Caller, target: Row, made: dict) -> Reply:
    method, path = target.operation.split(" ", 1)
    for name, value in target.path.items():
        path = path.replace(f"{{{name}}}", resolved(value, made))
    query = target.query(made, caller) if callable(target.query) else target.query
    url = stack.gateway_url + path + (f"?{urlencode(query)}" if query else "")
    token = stack.token(caller.role, caller.org, person=caller.person) if caller.role else None
    body = target.body(made, caller) if callable(target.body) else target.body
    if body is None:
        return request(method, url, token=token)
    return request(method, url, json_body=body, token=token)


def finding(caller: Caller, target: Row, reply: Reply, made: dict) -> str | None:
    """What is wrong with `reply` to `caller` for `target`, or None."""
    method = target.operation.split(" ", 1)[0]
    answer = f"{reply.status} {reply.text[:160]!r}"
    if caller.name not in target.who:
        if reply.status not in (401, 403, 404):
            return f"not refused: {answer}"
        if reply.media_type != "application/problem+json":
            return f"refused without a problem body: {answer}"
        leaked = [value for value in PRIVATE if value.lower() in reply.text.lower()]
        return f"refusal carries {leaked}: {answer}" if leaked else None
    if reply.status in (401, 403) or reply.status >= 500:
        return f"refused: {answer}"
    if method == "GET" and not 200 <= reply.status < 300:
        return f"read failed: {answer}"
    if target.sees is not None:
        marker = resolved(target.marker, made)
        if (caller.name in target.sees) != (marker in reply.text):
            return f"{'misses' if caller.name in target.sees else 'sees'} {marker}: {answer}"
    return None


def test_every_caller_gets_what_the_table_says(matrix_stack, made):
    findings = []
    for target in all_rows():
        # Refusals first: what an allowed caller writes never decides what a refused one is answered.
        for caller in sorted(CALLERS, key=lambda c: c.name in target.who):
            reply = attempt(matrix_stack, caller, target, made)
            problem = finding(caller, target, reply, made)
            if problem:
                findings.append(f"{target.operation} as {caller.name}: {problem}")
    assert findings == [], f"{len(findings)} answers differ from the table:\n" + "\n".join(findings)
