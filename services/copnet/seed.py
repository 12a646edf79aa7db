"""The demo network, loaded through the gateway's REST API (so it goes the way real data goes).

Every item has a fixed, readable id, so loading twice is harmless: the second time each POST
answers 409 Conflict, which here means "already there". Parents come before their children.
Only the standard library talks HTTP here: the CLI needs nothing the gateway does not.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import asdict, dataclass, field

API = "/api/v1"
# Who the loader says it is in the platform_admin token it signs.
SEED_PERSON_ID = "copnet-seed"
REQUEST_TIMEOUT_SECONDS = 30.0


@dataclass(frozen=True)
class Org:
    id: str
    name: str
    kind: str
    parent_id: str | None = None
    code: str | None = None
    time_zone: str | None = None

    path = f"{API}/orgs"


@dataclass(frozen=True)
class Community:
    id: str
    name: str
    kind: str
    host_organization_id: str
    description: str = ""

    path = f"{API}/communities"


Item = Org | Community

# A state, two regions, three county offices (codes are California county codes), a district
# under each county office, a few schools.
DEMO_ORGANIZATIONS: tuple[Org, ...] = (
    Org("ca", "California", "state", code="CA", time_zone="America/Los_Angeles"),
    Org("ca-bay-area", "Bay Area Region", "region", parent_id="ca"),
    Org("ca-southern", "Southern California Region", "region", parent_id="ca"),
    Org("alameda-coe", "Alameda County Office of Education", "county_office", parent_id="ca-bay-area", code="01"),
    Org("santa-clara-coe", "Santa Clara County Office of Education", "county_office", parent_id="ca-bay-area",
        code="43"),
    Org("san-diego-coe", "San Diego County Office of Education", "county_office", parent_id="ca-southern",
        code="37"),
    Org("eastbay-usd", "East Bay Unified School District", "district", parent_id="alameda-coe"),
    Org("valley-usd", "Valley Unified School District", "district", parent_id="santa-clara-coe"),
    Org("harbor-usd", "Harbor Unified School District", "district", parent_id="san-diego-coe"),
    Org("lakeview-ms", "Lakeview Middle School", "school", parent_id="eastbay-usd"),
    Org("bayside-es", "Bayside Elementary School", "school", parent_id="eastbay-usd"),
    Org("orchard-hs", "Orchard High School", "school", parent_id="valley-usd"),
    Org("mesa-ms", "Mesa Middle School", "school", parent_id="harbor-usd"),
)

DEMO_COMMUNITIES: tuple[Community, ...] = (
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


def demo_items() -> list[Item]:
    return [*DEMO_ORGANIZATIONS, *DEMO_COMMUNITIES]


class SeedError(Exception):
    """The gateway refused an item or could not be reached; the message says which and why."""


@dataclass
class SeedReport:
    created: list[str] = field(default_factory=list)
    existing: list[str] = field(default_factory=list)

    def summary(self) -> str:
        return f"{len(self.created)} created, {len(self.existing)} already there"


def body_of(item: Item) -> dict:
    """The REST request body: optional fields left out when empty."""
    return {key: value for key, value in asdict(item).items() if value not in (None, "")}


def load(gateway_url: str, token: str, items: list[Item],
         on_item: Callable[[Item, str], None] | None = None) -> SeedReport:
    """POST each item in order; `on_item(item, "created" | "existing")` after each one."""
    report = SeedReport()
    base = gateway_url.rstrip("/")
    for item in items:
        outcome = _post(base, item, token)
        (report.created if outcome == "created" else report.existing).append(item.id)
        if on_item is not None:
            on_item(item, outcome)
    return report


def load_demo(gateway_url: str, token: str, on_item: Callable[[Item, str], None] | None = None) -> SeedReport:
    return load(gateway_url, token, demo_items(), on_item)


def _post(base: str, item: Item, token: str) -> str:
    url = base + item.path
    request = urllib.request.Request(url, data=json.dumps(body_of(item)).encode(), method="POST", headers={
        "Content-Type": "application/json", "Accept": "application/json, application/problem+json",
        "Authorization": f"Bearer {token}"})
    what = f"{type(item).__name__.lower()} {item.id!r}"
    try:
        with urllib.request.urlopen(request, timeout=REQUEST_TIMEOUT_SECONDS) as response:
            if response.status in (200, 201):
                return "created"
            raise SeedError(f"POST {url} for {what}: unexpected status {response.status}")
    except urllib.error.HTTPError as error:
        if error.code == 409:
            return "existing"
        raise SeedError(f"POST {url} for {what}: {error.code} {_problem(error)}") from None
    except (urllib.error.URLError, OSError) as error:
        reason = getattr(error, "reason", error)
        raise SeedError(f"cannot reach the gateway at {base} ({reason}): is `copnet up` running?") from None


def _problem(error: urllib.error.HTTPError) -> str:
    """The problem+json title and detail, or the raw body when it is not JSON."""
    try:
        raw = error.read().decode("utf-8", "replace")
    except OSError:
        return error.reason or ""
    try:
        problem = json.loads(raw)
    except ValueError:
        return raw.strip()[:500] or str(error.reason)
    if not isinstance(problem, dict):
        return raw.strip()[:500]
    parts = [str(problem[key]) for key in ("title", "detail") if problem.get(key)]
    return ": ".join(parts) or raw.strip()[:500]
