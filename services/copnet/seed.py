"""The demo network, loaded through the gateway's REST API (so it goes the way real data goes).

Every item has a fixed, readable id, so loading twice is harmless: a create answering 409
Conflict means "already there", and steps that are not creates (a role grant, a proposal call,
opening a community) look first and leave alone what is already done. Items come in dependency
order: parents before children, people before the communities they facilitate, a community
opened before anyone registers for it.

Sign-up windows and the proposal call's due date are relative to the moment of loading, so a
freshly loaded demo always has a call and sign-ups open now. The program's timeline dates the
sign-up window with the very same instants (membership applies its linked milestones to every
program community), and each open community meets monthly from its kick-off on. The program's
school year is the one its kick-off falls in (see `demo_year`), so ids carry no year and the demo
loads the same way in any year.
"""

from __future__ import annotations

import datetime as dt
import io
import time
import zoneinfo
from collections.abc import Callable
from dataclasses import dataclass, field

from copnet.api_client import ApiClient, ApiError, GatewayUnreachable

# Who the loader says it is in the platform_admin token it signs.
SEED_PERSON_ID = "copnet-seed"
CREATED, EXISTING = "created", "existing"
# Every demo organization's time zone (the state's, inherited).
DEMO_TIME_ZONE = zoneinfo.ZoneInfo("America/Los_Angeles")
# A plugin's session types reach scheduling by event once the plugin is switched on for a region.
SESSION_TYPE_WAIT_SECONDS = 30.0


class SeedError(Exception):
    """The gateway refused an item or could not be reached; the message says which and why."""


def _created_or_existing(create: Callable[[], object], *already_there: str) -> str:
    """CREATED, or EXISTING when the gateway answers 409 (with one of `already_there` as its reason,
    when given: a 409 can also mean a rule the request broke)."""
    try:
        create()
    except ApiError as error:
        if error.status == 409 and (not already_there or error.reason in already_there):
            return EXISTING
        raise
    return CREATED


def _compact(body: dict) -> dict:
    """The request body without empty optional fields."""
    return {key: value for key, value in body.items() if value not in (None, "", (), [], {})}


def _rfc3339(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# -- the items ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Org:
    id: str
    name: str
    kind: str
    parent_id: str | None = None
    code: str | None = None
    time_zone: str | None = None

    def body(self) -> dict:
        return _compact({"id": self.id, "name": self.name, "kind": self.kind, "parent_id": self.parent_id,
                         "code": self.code, "time_zone": self.time_zone})

    def load(self, api: ApiClient, now: dt.datetime) -> str:
        return _created_or_existing(lambda: api.post("/orgs", self.body()))


@dataclass(frozen=True)
class Person:
    id: str
    name: str
    email: str
    # (organization id, position) pairs.
    affiliations: tuple[tuple[str, str], ...]
    grade_bands: tuple[str, ...] = ()

    def body(self) -> dict:
        return _compact({"id": self.id, "name": self.name, "email": self.email, "grade_bands": list(self.grade_bands),
                         "affiliations": [{"organization_id": org, "position": position}
                                          for org, position in self.affiliations]})

    def load(self, api: ApiClient, now: dt.datetime) -> str:
        return _created_or_existing(lambda: api.post("/people", self.body()))


@dataclass(frozen=True)
class Grant:
    """A role granted to a person at an organization (skipped when they hold it already)."""

    person_id: str
    role: str
    organization_id: str

    @property
    def id(self) -> str:
        return f"{self.person_id}:{self.role}"

    def load(self, api: ApiClient, now: dt.datetime) -> str:
        held = api.get(f"/people/{self.person_id}")["roles"]
        if any(r["role"] == self.role and r["organization_id"] == self.organization_id for r in held):
            return EXISTING
        api.post(f"/people/{self.person_id}/roles", {"role": self.role, "organization_id": self.organization_id})
        return CREATED


@dataclass(frozen=True)
class Program:
    """A program of the school year `year_of(now)` (e.g. "2026-27"); "{year}" in its name and
    description stands for it."""

    id: str
    name: str
    owner_organization_id: str
    year_of: Callable[[dt.datetime], str] = field(hash=False, compare=False)
    description: str = ""

    def body(self, now: dt.datetime) -> dict:
        year = self.year_of(now)
        return _compact({"id": self.id, "name": self.name.format(year=year),
                         "owner_organization_id": self.owner_organization_id, "program_year": year,
                         "description": self.description.format(year=year)})

    def load(self, api: ApiClient, now: dt.datetime) -> str:
        return _created_or_existing(lambda: api.post("/programs", self.body(now)))


@dataclass(frozen=True)
class ProposalCall:
    """A program's call for facilitator proposals, due `due_in` after loading (an open call is kept)."""

    program_id: str
    due_in: dt.timedelta

    @property
    def id(self) -> str:
        return f"{self.program_id}:proposal-call"

    def load(self, api: ApiClient, now: dt.datetime) -> str:
        if api.get(f"/programs/{self.program_id}").get("proposal_call"):
            return EXISTING
        api.put(f"/programs/{self.program_id}/proposal-call", {"due_at": _rfc3339(now + self.due_in)})
        return CREATED


@dataclass(frozen=True)
class PluginSetup:
    """A plugin switched on for a region with its settings (a configuration already there is kept)."""

    region_id: str
    plugin: str
    settings: dict = field(default_factory=dict, hash=False, compare=False)

    @property
    def id(self) -> str:
        return f"{self.region_id}:{self.plugin}"

    def load(self, api: ApiClient, now: dt.datetime) -> str:
        path = f"/regions/{self.region_id}/plugins/{self.plugin}"
        try:
            api.get(path)
            return EXISTING
        except ApiError as error:
            if error.status != 404:
                raise
        api.put(path, {"enabled": True, "settings": self.settings})
        return CREATED


@dataclass(frozen=True)
class Window:
    """A sign-up window open at the moment of loading: opened `opened_ago` before it, closing at
    `closes(now)`, with its soft deadline `soft_deadline_before_close` before that."""

    opened_ago: dt.timedelta
    soft_deadline_before_close: dt.timedelta | None
    closes: Callable[[dt.datetime], dt.datetime] = field(hash=False, compare=False)

    def opens(self, now: dt.datetime) -> dt.datetime:
        return now - self.opened_ago

    def soft_deadline(self, now: dt.datetime) -> dt.datetime | None:
        return self.closes(now) - self.soft_deadline_before_close if self.soft_deadline_before_close else None

    def body(self, now: dt.datetime) -> dict:
        soft_deadline = self.soft_deadline(now)
        return _compact({"opens_at": _rfc3339(self.opens(now)), "closes_at": _rfc3339(self.closes(now)),
                         "soft_deadline": _rfc3339(soft_deadline) if soft_deadline else None})


@dataclass(frozen=True)
class Community:
    id: str
    name: str
    kind: str
    host_organization_id: str
    description: str = ""
    program_id: str = ""
    focus: str = ""
    grade_bands: tuple[str, ...] = ()
    facilitator_ids: tuple[str, ...] = ()
    capacity: int = 0
    signup_window: Window | None = None
    # Eligibility: positions and organizations (each admits its subtree); empty admits all.
    eligible_positions: tuple[str, ...] = ()
    eligible_organization_ids: tuple[str, ...] = ()

    def body(self, now: dt.datetime) -> dict:
        eligibility = _compact({"positions": list(self.eligible_positions),
                                "organization_ids": list(self.eligible_organization_ids)})
        return _compact({
            "id": self.id, "name": self.name, "kind": self.kind, "host_organization_id": self.host_organization_id,
            "description": self.description, "program_id": self.program_id, "focus": self.focus,
            "grade_bands": list(self.grade_bands), "facilitator_ids": list(self.facilitator_ids),
            "capacity": self.capacity or None,
            "signup_window": self.signup_window.body(now) if self.signup_window else None,
            "eligibility": eligibility or None})

    def load(self, api: ApiClient, now: dt.datetime) -> str:
        return _created_or_existing(lambda: api.post("/communities", self.body(now)))


@dataclass(frozen=True)
class Opening:
    """A draft community opened for sign-up (one already past draft is left as it is)."""

    community_id: str

    @property
    def id(self) -> str:
        return f"{self.community_id}:open"

    def load(self, api: ApiClient, now: dt.datetime) -> str:
        if api.get(f"/communities/{self.community_id}")["status"] != "draft":
            return EXISTING
        api.post(f"/communities/{self.community_id}/status", {"status": "open"})
        return CREATED


@dataclass(frozen=True)
class Signup:
    """A person registered by an administrator (the person acknowledges the commitment themself)."""

    community_id: str
    person_id: str

    @property
    def id(self) -> str:
        return f"{self.community_id}:{self.person_id}"

    def load(self, api: ApiClient, now: dt.datetime) -> str:
        return _created_or_existing(
            lambda: api.post(f"/communities/{self.community_id}/registrations",
                             {"person_id": self.person_id, "acknowledge_commitment": False}),
            "ALREADY_REGISTERED")


@dataclass(frozen=True)
class TeamSignup:
    """A school team registered as a unit."""

    community_id: str
    team_id: str
    team_name: str
    school_id: str
    # (person id, team role) pairs.
    members: tuple[tuple[str, str], ...]

    @property
    def id(self) -> str:
        return f"{self.community_id}:{self.team_id}"

    def body(self) -> dict:
        return {"team_id": self.team_id, "team_name": self.team_name, "school_id": self.school_id,
                "members": [{"person_id": person, "role": role} for person, role in self.members]}

    def load(self, api: ApiClient, now: dt.datetime) -> str:
        return _created_or_existing(
            lambda: api.post(f"/communities/{self.community_id}/team-registrations", self.body()),
            "ALREADY_REGISTERED", "DUPLICATE_ID")


@dataclass(frozen=True)
class Milestone:
    """A milestone of a program's timeline at `at(now)` (a kind already on the timeline is kept; a custom
    one is told apart by its title)."""

    program_id: str
    kind: str
    at: Callable[[dt.datetime], dt.datetime] = field(hash=False, compare=False)
    title: str = ""
    description: str = ""

    @property
    def id(self) -> str:
        return f"{self.program_id}:{self.kind}" + (f":{self.title}" if self.kind == "custom" else "")

    def body(self, now: dt.datetime) -> dict:
        return _compact({"kind": self.kind, "time": _rfc3339(self.at(now)), "title": self.title,
                         "description": self.description})

    def load(self, api: ApiClient, now: dt.datetime) -> str:
        timeline = api.get(f"/programs/{self.program_id}/milestones")["items"]
        if any(m["kind"] == self.kind and (self.kind != "custom" or m["title"] == self.title) for m in timeline):
            return EXISTING
        api.post(f"/programs/{self.program_id}/milestones", self.body(now))
        return CREATED


@dataclass(frozen=True)
class Session:
    """A session (a series with `recurrence`) of a community; its first start is `first_start(now)` in
    the demo's time zone. Waits for a plugin's session type to reach scheduling."""

    id: str
    community_id: str
    session_type: str
    title: str
    first_start: Callable[[dt.datetime], dt.datetime] = field(hash=False, compare=False)
    minutes: int
    agenda: str = ""
    recurrence: str = ""
    modality: str = "virtual"
    venue: tuple[str, str] | None = None
    meeting_url: str = ""
    fields: dict = field(default_factory=dict, hash=False, compare=False)

    def body(self, now: dt.datetime) -> dict:
        start = self.first_start(now)
        return _compact({
            "id": self.id, "session_type": self.session_type, "title": self.title, "agenda": self.agenda,
            "start_time": start.isoformat(), "end_time": (start + dt.timedelta(minutes=self.minutes)).isoformat(),
            "recurrence": self.recurrence, "modality": self.modality, "meeting_url": self.meeting_url,
            "venue": {"name": self.venue[0], "address": self.venue[1]} if self.venue else None,
            "fields": self.fields})

    def load(self, api: ApiClient, now: dt.datetime) -> str:
        # Looked up first: sent again, a series would be refused for its own room before its id is.
        try:
            api.get(f"/sessions/{self.id}")
            return EXISTING
        except ApiError as error:
            if error.status != 404:
                raise
        self.wait_for_session_type(api)
        return _created_or_existing(lambda: api.post(f"/communities/{self.community_id}/sessions", self.body(now)),
                                    "SESSION_EXISTS")

    def wait_for_session_type(self, api: ApiClient) -> None:
        deadline = time.monotonic() + SESSION_TYPE_WAIT_SECONDS
        while True:
            offered = {t["key"] for t in api.get("/session-types", community_id=self.community_id)["items"]}
            if self.session_type in offered:
                return
            if time.monotonic() > deadline:
                raise SeedError(f"community {self.community_id!r} offers no session type {self.session_type!r} "
                                f"after {SESSION_TYPE_WAIT_SECONDS:.0f} s (is its plugin switched on?)")
            time.sleep(0.25)


@dataclass(frozen=True)
class AssessmentData:
    """A synthetic assessment file (made-up students, never real ones) imported for a county office
    through the data sets API, then waited for until it is READY. The file is the same bytes
    every time (a seeded generator), so loading again finds it already imported."""

    importer: str
    organization_id: str
    file_name: str
    # (binary stream) -> rows written.
    write: Callable[[io.BytesIO], int] = field(hash=False, compare=False)

    @property
    def id(self) -> str:
        return f"{self.organization_id}:{self.file_name}"

    def load(self, api: ApiClient, now: dt.datetime) -> str:
        content = io.BytesIO()
        self.write(content)
        size = content.tell()
        content.seek(0)
        query = {"importer": self.importer, "organization_id": self.organization_id, "file_name": self.file_name}
        data_set = self._upload(api, content, size, query)
        if data_set.get("already_imported"):
            return EXISTING
        deadline, pause = time.monotonic() + IMPORT_WAIT_SECONDS, IMPORT_FIRST_POLL_SECONDS
        while data_set["status"] == "importing":
            if time.monotonic() > deadline:
                raise SeedError(f"{self.file_name} is still importing after {IMPORT_WAIT_SECONDS:.0f} s")
            time.sleep(pause)
            pause = min(pause * 2, IMPORT_POLL_SECONDS)
            data_set = api.get(f"/data-sets/{data_set['id']}")
        if data_set["status"] != "ready":
            raise SeedError(f"{self.file_name} did not import: {data_set.get('failure') or data_set['status']}")
        if data_set.get("rows_rejected"):
            raise SeedError(f"{self.file_name}: {data_set['rows_rejected']} rows rejected (copnet data errors "
                            f"{data_set['id']})")
        return CREATED

    @staticmethod
    def _upload(api: ApiClient, content: io.BytesIO, size: int, query: dict) -> dict:
        """The upload, again while the region's import slots are all busy (the previous item's
        import may still be finishing)."""
        deadline = time.monotonic() + IMPORT_WAIT_SECONDS
        while True:
            try:
                return api.upload("/data-sets", content, size, "text/csv", query=query)
            except ApiError as error:
                if error.reason != "IMPORTS_BUSY" or time.monotonic() > deadline:
                    raise
            content.seek(0)
            time.sleep(IMPORT_POLL_SECONDS)


IMPORT_WAIT_SECONDS = 120.0
IMPORT_FIRST_POLL_SECONDS = 0.01
IMPORT_POLL_SECONDS = 0.2

Item = (Org | Person | Grant | Program | ProposalCall | Community | Opening | Signup | TeamSignup | PluginSetup
        | Milestone | Session | AssessmentData)

# -- the demo's school year -----------------------------------------------------------------------
# Sign-up closes and the communities start this long after loading, unless that is too late in
# the school year (below).
SIGNUP_LEAD = dt.timedelta(days=28)
# The program's communities run at least this long between kick-off and the final product: their
# first monthly meetings and the equity workshop (six weeks in) come before it is due.
MIN_RUN = dt.timedelta(weeks=8)
EQUITY_WORKSHOP_WEEKS = 6
FRIDAY = 4


def local(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    """A wall-clock time on `day` where the demo network is."""
    return dt.datetime(day.year, day.month, day.day, hour, minute, tzinfo=DEMO_TIME_ZONE)


def school_year_of(moment: dt.datetime) -> int:
    """The calendar year in which the school year (July 1 to June 30, local) holding `moment` begins."""
    day = moment.astimezone(DEMO_TIME_ZONE).date()
    return day.year if day.month >= 7 else day.year - 1


@dataclass(frozen=True)
class DemoYear:
    """The demo program's school year (it begins on July 1 of `first`) and its kick-off."""

    first: int
    kick_off: dt.datetime

    @property
    def label(self) -> str:
        return f"{self.first}-{(self.first + 1) % 100:02d}"

    @property
    def start(self) -> dt.datetime:
        return local(dt.date(self.first, 7, 1), 0)

    @property
    def end(self) -> dt.datetime:
        return local(dt.date(self.first + 1, 7, 1), 0)

    @property
    def final_product_due(self) -> dt.datetime:
        return final_product_due(self.first)


def final_product_due(first: int) -> dt.datetime:
    """The last Friday of May, 17:00, in the school year that begins in `first`."""
    may_31 = dt.date(first + 1, 5, 31)
    return local(may_31 - dt.timedelta(days=(may_31.weekday() - FRIDAY) % 7), 17)


def demo_year(now: dt.datetime) -> DemoYear:
    """The school year of the kick-off `SIGNUP_LEAD` after `now`, when it leaves the communities
    `MIN_RUN` before the final product; otherwise (from about March on) the next school year, with
    sign-up open from now until its first morning. Either way the program's sessions and
    milestones from kick-off on fall inside its year."""
    kick_off_now = now + SIGNUP_LEAD
    first = school_year_of(kick_off_now)
    if kick_off_now + MIN_RUN <= final_product_due(first):
        return DemoYear(first, kick_off_now)
    return DemoYear(first + 1, local(dt.date(first + 1, 7, 1), 9))


def kick_off(now: dt.datetime) -> dt.datetime:
    """When sign-up closes and the communities start."""
    return demo_year(now).kick_off


# -- the demo network -----------------------------------------------------------------------------
# A state, two regions, three county offices (codes are California county codes), a district
# under each county office, a few schools. Districts and schools carry made-up 14-digit CDS codes
# (county + district + school), the codes assessment files name them by.
DEMO_ORGANIZATIONS: tuple[Org, ...] = (
    Org("ca", "California", "state", code="CA", time_zone="America/Los_Angeles"),
    Org("ca-bay-area", "Bay Area Region", "region", parent_id="ca"),
    Org("ca-southern", "Southern California Region", "region", parent_id="ca"),
    Org("alameda-coe", "Alameda County Office of Education", "county_office", parent_id="ca-bay-area", code="01"),
    Org("santa-clara-coe", "Santa Clara County Office of Education", "county_office", parent_id="ca-bay-area",
        code="43"),
    Org("san-diego-coe", "San Diego County Office of Education", "county_office", parent_id="ca-southern",
        code="37"),
    Org("eastbay-usd", "East Bay Unified School District", "district", parent_id="alameda-coe",
        code="01612340000000"),
    Org("valley-usd", "Valley Unified School District", "district", parent_id="santa-clara-coe",
        code="43694270000000"),
    Org("harbor-usd", "Harbor Unified School District", "district", parent_id="san-diego-coe",
        code="37683380000000"),
    Org("lakeview-ms", "Lakeview Middle School", "school", parent_id="eastbay-usd", code="01612346000011"),
    Org("bayside-es", "Bayside Elementary School", "school", parent_id="eastbay-usd", code="01612346000029"),
    Org("orchard-hs", "Orchard High School", "school", parent_id="valley-usd", code="43694274330001"),
    Org("mesa-ms", "Mesa Middle School", "school", parent_id="harbor-usd", code="37683386000045"),
)

# Bayside Elementary has what a school math team needs: a math specialist, their site
# administrator and another K-5 teacher. The coach facilitates; the regional lead runs the program.
DEMO_PEOPLE: tuple[Person, ...] = (
    Person("maria-lopez", "Maria Lopez", "maria.lopez@bayside.example.org", (("bayside-es", "specialist"),),
           ("K-2", "3-5")),
    Person("james-carter", "James Carter", "james.carter@bayside.example.org", (("bayside-es", "site_admin"),)),
    Person("aisha-johnson", "Aisha Johnson", "aisha.johnson@bayside.example.org", (("bayside-es", "teacher"),),
           ("3-5",)),
    Person("daniel-kim", "Daniel Kim", "daniel.kim@lakeview.example.org", (("lakeview-ms", "teacher"),), ("6-8",)),
    Person("sofia-garcia", "Sofia Garcia", "sofia.garcia@lakeview.example.org", (("lakeview-ms", "teacher"),),
           ("6-8",)),
    Person("priya-patel", "Priya Patel", "priya.patel@orchard.example.org", (("orchard-hs", "teacher"),),
           ("9-12",)),
    Person("grace-okafor", "Grace Okafor", "grace.okafor@mesa.example.org", (("mesa-ms", "teacher"),), ("6-8",)),
    Person("robert-nguyen", "Robert Nguyen", "robert.nguyen@eastbay.example.org", (("eastbay-usd", "coach"),),
           ("3-5", "6-8")),
    Person("elena-torres", "Elena Torres", "elena.torres@alameda-coe.example.org",
           (("alameda-coe", "county_leader"),)),
)

DEMO_GRANTS: tuple[Grant, ...] = (
    Grant("elena-torres", "regional_lead", "ca-bay-area"),
    Grant("robert-nguyen", "facilitator", "eastbay-usd"),
)

DEMO_PROGRAM = Program("bay-area-math-cop", "{year} Bay Area Math CoP", "ca-bay-area",
                       lambda now: demo_year(now).label,
                       "The Bay Area region's communities of practice for the {year} school year.")
DEMO_PROPOSAL_CALL = ProposalCall(DEMO_PROGRAM.id, due_in=dt.timedelta(days=21))

# Standing communities, outside any program (drafts: no seats or window yet).
DEMO_STANDING_COMMUNITIES: tuple[Community, ...] = (
    Community("lakeview-grade6-plc", "Lakeview Grade 6 Math PLC", "plc", "lakeview-ms",
              "Grade 6 teachers planning ratio and proportion units together."),
    Community("eastbay-math-team", "East Bay District Math Team", "math_team", "eastbay-usd",
              "Math coaches and teacher leaders of East Bay Unified."),
    Community("bay-algebra-readiness", "Bay Area Algebra Readiness Team", "cross_district_team", "ca-bay-area",
              "Teachers from several districts working on the grade 8 to algebra transition."),
    Community("san-diego-equity-cohort", "San Diego Math Equity Cohort", "equity_cohort", "san-diego-coe",
              "Looking at access to advanced math courses by student group."),
    Community("santa-clara-lesson-study", "Santa Clara Lesson Study", "lesson_study", "santa-clara-coe",
              "Research lessons on fraction reasoning in grades 4-5."),
    Community("ca-math-leads", "California Math Leadership Network", "leadership", "ca",
              "Regional and county math leads across the state."),
)

# Sign-ups opened a week ago and close at the kick-off (usually in four weeks); the soft deadline
# (no more waiting list) is two weeks before it.
OPEN_NOW = Window(opened_ago=dt.timedelta(days=7), soft_deadline_before_close=dt.timedelta(days=14),
                  closes=kick_off)

# The program's communities, opened for sign-up.
DEMO_PROGRAM_COMMUNITIES: tuple[Community, ...] = (
    Community("bay-ratios-plc", "Bay Area Grade 6-8 Ratios PLC", "plc", "eastbay-usd",
              "Middle school teachers building a shared ratio and proportion unit, meeting monthly.",
              program_id=DEMO_PROGRAM.id, focus="Ratio and proportional reasoning", grade_bands=("6-8",),
              facilitator_ids=("robert-nguyen",), capacity=24, signup_window=OPEN_NOW,
              eligible_positions=("teacher", "specialist", "coach"), eligible_organization_ids=("ca-bay-area",)),
    Community("eastbay-elementary-math-teams", "East Bay Elementary School Math Teams", "math_team",
              "eastbay-usd",
              "School teams (a math specialist, their site administrator and a K-5 teacher) leading math at "
              "their school.",
              program_id=DEMO_PROGRAM.id, focus="Number sense and fractions, K-5", grade_bands=("K-2", "3-5"),
              facilitator_ids=("robert-nguyen",), capacity=12, signup_window=OPEN_NOW,
              eligible_positions=("teacher", "specialist", "site_admin"), eligible_organization_ids=("eastbay-usd",)),
)

DEMO_COMMUNITIES: tuple[Community, ...] = (*DEMO_STANDING_COMMUNITIES, *DEMO_PROGRAM_COMMUNITIES)

DEMO_REGISTRATIONS: tuple[Signup | TeamSignup, ...] = (
    Signup("bay-ratios-plc", "daniel-kim"),
    Signup("bay-ratios-plc", "sofia-garcia"),
    TeamSignup("eastbay-elementary-math-teams", "bayside-math-team", "Bayside Elementary Math Team",
               "bayside-es", (("maria-lopez", "lead"), ("james-carter", "administrator"),
                              ("aisha-johnson", "member"))),
)


# The Bay Area region offers the equity workshops (a regional lead would do this with
# `copnet plugins configure ca-bay-area equity-sessions --enable`).
DEMO_PLUGINS: tuple[PluginSetup, ...] = (PluginSetup("ca-bay-area", "equity-sessions"),)




# -- the program's timeline and its communities' sessions -----------------------------------------
def monthly_from(after: dt.datetime, weekday: int, n: int, hour: int, minute: int = 0) -> dt.datetime:
    """The first `n`-th `weekday` (Monday 0) of a month at `hour`:`minute`, local, not before `after`."""
    month = after.astimezone(DEMO_TIME_ZONE).date().replace(day=1)
    while True:
        candidate = local(month + dt.timedelta(days=(weekday - month.weekday()) % 7 + 7 * (n - 1)), hour, minute)
        if candidate >= after:
            return candidate
        month = (month + dt.timedelta(days=32)).replace(day=1)


def weekday_from(start: dt.datetime, weekday: int, weeks_after: int) -> dt.date:
    """The first `weekday` at least `weeks_after` weeks after `start`'s local day."""
    day = start.astimezone(DEMO_TIME_ZONE).date() + dt.timedelta(weeks=weeks_after)
    return day + dt.timedelta(days=(weekday - day.weekday()) % 7)


TUESDAY, WEDNESDAY, SATURDAY = 1, 2, 5


def equity_workshop_start(now: dt.datetime) -> dt.datetime:
    return local(weekday_from(kick_off(now), SATURDAY, weeks_after=EQUITY_WORKSHOP_WEEKS), 9)


# The linked sign-up milestones carry exactly the instants of OPEN_NOW, the window the program's
# communities were created with, so membership applying them changes nothing. The proposal call's
# milestones (call opens, proposals due) are taken over by scheduling from the call itself.
DEMO_MILESTONES: tuple[Milestone, ...] = (
    Milestone(DEMO_PROGRAM.id, "signup_opens", OPEN_NOW.opens),
    Milestone(DEMO_PROGRAM.id, "soft_deadline", OPEN_NOW.soft_deadline,
              description="After it, sign-ups continue only while seats remain."),
    Milestone(DEMO_PROGRAM.id, "signup_closes", kick_off),
    Milestone(DEMO_PROGRAM.id, "kick_off", kick_off, description="Sign-up closes and the communities begin."),
    Milestone(DEMO_PROGRAM.id, "in_person_session", equity_workshop_start, title="Equity workshop: culturally "
              "responsive math tasks", description="In person at the Alameda County Office of Education."),
    Milestone(DEMO_PROGRAM.id, "final_product_due", lambda now: demo_year(now).final_product_due,
              description="Each community shares its unit, lesson study or toolkit with the network."),
)

DEMO_SESSIONS: tuple[Session, ...] = (
    Session("bay-ratios-plc-monthly", "bay-ratios-plc", "regular_convening", "Ratios PLC monthly convening",
            lambda now: monthly_from(kick_off(now), TUESDAY, 2, 15, 30), 120,
            agenda="Share student work from the last unit, plan the next lesson together, set a classroom try.",
            recurrence="FREQ=MONTHLY;BYDAY=2TU", meeting_url="https://meet.example.org/bay-ratios-plc"),
    Session("eastbay-math-teams-monthly", "eastbay-elementary-math-teams", "regular_convening",
            "School math teams monthly convening",
            lambda now: monthly_from(kick_off(now), WEDNESDAY, 3, 15, 45), 90,
            agenda="Each school team brings its number-sense routine data and one question for the network.",
            recurrence="FREQ=MONTHLY;BYDAY=3WE", modality="hybrid",
            venue=("East Bay USD Professional Learning Center, Room 2", "1200 Bayview Ave, Oakland, CA 94601"),
            meeting_url="https://meet.example.org/eastbay-math-teams"),
    Session("bay-ratios-equity-workshop", "bay-ratios-plc", "equity_culturally_responsive_tasks",
            "Culturally responsive ratio tasks", equity_workshop_start, 150, modality="in_person",
            venue=("Alameda County Office of Education", "313 W. Winton Ave, Hayward, CA 94544"),
            fields={"task_to_bring": "A ratio or rate task from your next unit, with three samples of student work.",
                    "grade_bands": ["6-8"], "standards": ["6.RP.A.3", "7.RP.A.2"],
                    "focus_student_groups": ["english_learners"]}),
)


# -- synthetic assessment data ------------------------------------------------------------------
# Made-up students of the demo schools (copnet.reflection.synthetic: realistic group shares and
# gaps, never real students): three school years of the state summative (CAASPP) and of a
# benchmark given in fall, winter and spring, one file per county office and year (a year's file
# never changes, so a later school year's loading adds only its own), and the research file of
# the same students as the state baseline. The program's teachers have their classes, and the
# participants' students do a little better than comparable ones (what effect sizes should find).
DEMO_ASSESSMENT_SEED = 2026
DEMO_STUDENTS_PER_GRADE = 90
DEMO_TEACHER_EFFECT = 0.2
DEMO_ASSESSMENT_YEARS = 3


@dataclass(frozen=True)
class DemoSchool:
    organization_id: str
    county_office_id: str
    grades: tuple[str, ...]
    # grade -> the demo people teaching it.
    teachers: tuple[tuple[str, tuple[str, ...]], ...] = ()


DEMO_ASSESSMENT_SCHOOLS: tuple[DemoSchool, ...] = (
    DemoSchool("bayside-es", "alameda-coe", ("K", "1", "2", "3", "4", "5"),
               (("3", ("aisha-johnson",)), ("4", ("maria-lopez",)))),
    DemoSchool("lakeview-ms", "alameda-coe", ("6", "7", "8"), (("6", ("daniel-kim",)), ("7", ("sofia-garcia",)))),
    DemoSchool("orchard-hs", "santa-clara-coe", ("9", "10", "11"), (("11", ("priya-patel",)),)),
    DemoSchool("mesa-ms", "san-diego-coe", ("6", "7", "8"), (("6", ("grace-okafor",)),)),
)


def demo_assessment_years(now: dt.datetime) -> tuple[int, ...]:
    """The spring years of the last DEMO_ASSESSMENT_YEARS school years whose spring has passed."""
    local_now = now.astimezone(DEMO_TIME_ZONE)
    last = local_now.year if local_now.month >= 7 else local_now.year - 1
    return tuple(range(last - DEMO_ASSESSMENT_YEARS + 1, last + 1))


def demo_assessment_plan(county_office_id: str | None, spring: int):
    """The demo schools of a county office (None: all of them, with the state's other schools the
    research file's baseline adds) in the school year ending in `spring`."""
    from copnet.reflection.synthetic import Plan, SyntheticSchool

    codes = {org.id: org.code for org in DEMO_ORGANIZATIONS}
    participants = {person for registration in DEMO_REGISTRATIONS
                    for person in ((registration.person_id,) if isinstance(registration, Signup)
                                   else tuple(p for p, _ in registration.members))}
    schools = tuple(SyntheticSchool(codes[school.organization_id], school.grades, DEMO_STUDENTS_PER_GRADE,
                                    dict(school.teachers),
                                    {t: DEMO_TEACHER_EFFECT for _, ts in school.teachers for t in ts if t in participants})
                    for school in DEMO_ASSESSMENT_SCHOOLS if county_office_id in (None, school.county_office_id))
    if county_office_id is None:
        schools += tuple(SyntheticSchool(f"{county}{90000 + n:05d}{6000000 + n:07d}", ("3", "4", "5", "6", "7", "8", "11"),
                                         DEMO_STUDENTS_PER_GRADE)
                         for n, county in enumerate(DEMO_BASELINE_COUNTIES * 4))
    return Plan(schools, (spring,), seed=DEMO_ASSESSMENT_SEED)


# Counties of the other (made-up) schools of the state baseline: Alameda, Los Angeles, Sacramento,
# San Diego, Santa Clara.
DEMO_BASELINE_COUNTIES = ("01", "19", "34", "37", "43")


def demo_assessments(now: dt.datetime) -> list[AssessmentData]:
    from copnet.reflection import synthetic

    years = demo_assessment_years(now)
    items = []
    for county in dict.fromkeys(school.county_office_id for school in DEMO_ASSESSMENT_SCHOOLS):
        for spring in years:
            plan = demo_assessment_plan(county, spring)
            year = synthetic.school_year(spring)
            items += [
                AssessmentData("caaspp-student-scores", county, f"demo-caaspp-math-{year}.csv",
                               lambda out, plan=plan: synthetic.write_caaspp_scores(out, plan)),
                AssessmentData("benchmark-csv", county, f"demo-benchmark-math-{year}.csv",
                               lambda out, plan=plan: synthetic.write_benchmark(out, plan)),
            ]
    baseline = demo_assessment_plan(None, years[-1])
    items.append(AssessmentData("caaspp-research-file", "alameda-coe",
                                f"demo-caaspp-research-{synthetic.school_year(years[-1])}.txt",
                                lambda out: synthetic.write_research_file(out, baseline)))
    return items


def demo_items(now: dt.datetime | None = None) -> list[Item]:
    return [*DEMO_ORGANIZATIONS, *DEMO_PEOPLE, *DEMO_GRANTS, DEMO_PROGRAM, DEMO_PROPOSAL_CALL, *DEMO_COMMUNITIES,
            *(Opening(c.id) for c in DEMO_PROGRAM_COMMUNITIES), *DEMO_REGISTRATIONS, *DEMO_PLUGINS, *DEMO_MILESTONES,
            *DEMO_SESSIONS, *demo_assessments(now or dt.datetime.now(dt.UTC))]


# -- loading --------------------------------------------------------------------------------------
@dataclass
class SeedReport:
    created: list[str]
    existing: list[str]

    def summary(self) -> str:
        return f"{len(self.created)} created, {len(self.existing)} already there"


def load(gateway_url: str, token: str, items: list[Item],
         on_item: Callable[[Item, str], None] | None = None, now: dt.datetime | None = None) -> SeedReport:
    """Load each item in order; `on_item(item, "created" | "existing")` after each one."""
    api = ApiClient(gateway_url, token)
    now = now or dt.datetime.now(dt.UTC)
    report = SeedReport([], [])
    for item in items:
        what = f"{type(item).__name__.lower()} {item.id!r}"
        try:
            outcome = item.load(api, now)
        except ApiError as error:
            raise SeedError(f"{error} (loading {what})") from None
        except GatewayUnreachable as error:
            raise SeedError(str(error)) from None
        (report.created if outcome == CREATED else report.existing).append(item.id)
        if on_item is not None:
            on_item(item, outcome)
    return report


def load_demo(gateway_url: str, token: str, on_item: Callable[[Item, str], None] | None = None) -> SeedReport:
    return load(gateway_url, token, demo_items(), on_item)


# -- the demo network split between regional instances (the federation demo) ----------------------
# `copnet federation-demo` runs a statewide hub and one regional instance per region organization
# of the demo: each instance holds the state, its own region organization and everything under it
# (people, programs, communities, sign-ups, sessions, plugins, assessment data). Nothing of one
# region is loaded into the other. What hangs at the state itself (a state-hosted community) is
# loaded once, into the first region.
DEMO_STATE_ID = "ca"
# Region name (COPNET_REGION of the instance) -> the region organization whose subtree it holds.
DEMO_REGION_ORGANIZATIONS: dict[str, str] = {"bay-area": "ca-bay-area", "southern": "ca-southern"}
DEMO_STATE_HOME = "bay-area"

# The southern region's program-less PLC, open for sign-up (the single-instance demo's southern
# part has only a draft), so the statewide catalog lists an open community of each region.
DEMO_SOUTHERN_OPEN_COMMUNITY = Community(
    "harbor-fractions-plc", "Harbor Grade 6-8 Fractions PLC", "plc", "harbor-usd",
    "Middle school teachers of Harbor Unified working on fraction and rational number reasoning.",
    focus="Fractions and rational numbers", grade_bands=("6-8",), capacity=20, signup_window=OPEN_NOW,
    eligible_positions=("teacher", "specialist", "coach"), eligible_organization_ids=("ca-southern",))
DEMO_SOUTHERN_ITEMS: tuple[Item, ...] = (
    DEMO_SOUTHERN_OPEN_COMMUNITY, Opening(DEMO_SOUTHERN_OPEN_COMMUNITY.id),
    Signup(DEMO_SOUTHERN_OPEN_COMMUNITY.id, "grace-okafor"),
)


class RegionSplitError(ValueError):
    """An item of the demo belongs to no region, or to several (a person affiliated across regions)."""


def demo_region_of_organization(organization_id: str) -> str | None:
    """The federation demo region holding `organization_id`: the one whose region organization is
    the organization or above it; None for the state itself (every region holds it)."""
    parents = {org.id: org.parent_id for org in DEMO_ORGANIZATIONS}
    regions = {org_id: region for region, org_id in DEMO_REGION_ORGANIZATIONS.items()}
    if organization_id not in parents:
        raise RegionSplitError(f"no demo organization {organization_id!r}")
    current: str | None = organization_id
    while current is not None:
        if current in regions:
            return regions[current]
        current = parents[current]
    return None


def item_organizations(item: Item, communities: dict[str, Community]) -> set[str]:
    """The organizations an item hangs on (where it is created, or who it is about)."""
    programs = {DEMO_PROGRAM.id: DEMO_PROGRAM}
    match item:
        case Org():
            return {item.id}
        case Person():
            return {org for org, _ in item.affiliations}
        case Grant():
            return {item.organization_id}
        case Program():
            return {item.owner_organization_id}
        case ProposalCall() | Milestone():
            return {programs[item.program_id].owner_organization_id}
        case Community():
            return {item.host_organization_id}
        case Opening() | Signup() | TeamSignup() | Session():
            return {communities[item.community_id].host_organization_id}
        case PluginSetup():
            return {item.region_id}
        case AssessmentData():
            return {item.organization_id}
    raise RegionSplitError(f"no rule places a {type(item).__name__} in a region")


def demo_item_region(item: Item, communities: dict[str, Community] | None = None) -> str | None:
    """The federation demo region an item is loaded into; None for the state organization (all)."""
    if communities is None:
        communities = {c.id: c for c in (*DEMO_COMMUNITIES, DEMO_SOUTHERN_OPEN_COMMUNITY)}
    if isinstance(item, Org) and item.id == DEMO_STATE_ID:
        return None
    regions = {demo_region_of_organization(org) or DEMO_STATE_HOME
               for org in item_organizations(item, communities)}
    if len(regions) != 1:
        raise RegionSplitError(f"{type(item).__name__.lower()} {item.id!r} spans regions {sorted(regions)}")
    return regions.pop()


def demo_research_file(region: str, now: dt.datetime) -> AssessmentData:
    """The region's copy of the demo's state research file (public aggregates by school: every
    region compares itself with the same state baseline), uploaded by its first county office."""
    from copnet.reflection import synthetic

    springs = demo_assessment_years(now)
    baseline = demo_assessment_plan(None, springs[-1])
    county_office = next(org.id for org in DEMO_ORGANIZATIONS
                         if org.kind == "county_office" and demo_region_of_organization(org.id) == region)
    return AssessmentData("caaspp-research-file", county_office,
                          f"demo-caaspp-research-{synthetic.school_year(springs[-1])}.txt",
                          lambda out: synthetic.write_research_file(out, baseline))


def demo_region_items(region: str, now: dt.datetime | None = None) -> list[Item]:
    """What the federation demo loads into regional instance `region`, in loading order: the
    state organization, then the region's own part of `demo_items` (plus the southern open
    community, before the slow assessment imports), each region with the state research file."""
    if region not in DEMO_REGION_ORGANIZATIONS:
        raise RegionSplitError(f"no demo region {region!r} (one of {', '.join(DEMO_REGION_ORGANIZATIONS)})")
    now = now or dt.datetime.now(dt.UTC)
    everything = demo_items(now)
    first_import = next(i for i, item in enumerate(everything) if isinstance(item, AssessmentData))
    everything[first_import:first_import] = DEMO_SOUTHERN_ITEMS
    chosen = [item for item in everything
              if demo_item_region(item) in (None, region)
              and not (isinstance(item, AssessmentData) and item.importer == "caaspp-research-file")]
    return [*chosen, demo_research_file(region, now)]
