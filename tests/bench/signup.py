"""The sign-up burst: many people register at once for one community with few seats.

Set-up (untimed): an organization tree, `attempts` people (teachers at one school) created through
membership's gRPC API in parallel, and an open community of `seats` seats. Timed: every person
registers themself once, with their own bearer token, `clients` at a time, through the gateway;
beside it the same requests against the baseline's one conditional update. Then the outcome is
checked through the API: the roster (read with a manager's token) and the community's seat counts.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from itertools import pairwise

import pymongo

from copnet.api_client import ApiClient
from copnet.membership.v1 import membership_pb2
from tests.bench.baseline_app import SEATS_COLLECTION
from tests.bench.load import HEADER, Answer, Call, LoadResult, burst, post_burst
from tests.support.stack import RunningStack

REGION, COUNTY, DISTRICT, SCHOOL = "bench-region", "bench-county", "bench-district", "bench-school"
COMMUNITY = "bench-signup"
MANAGER = "bench-manager"
# One admin makes everybody: within one caller's allowance of calls in flight (8 by default).
SETUP_WORKERS = 8


@dataclass
class Check:
    what: str
    ok: bool
    detail: str = ""

    def line(self) -> str:
        return f"  [{'ok' if self.ok else 'FAIL'}] {self.what}" + (f": {self.detail}" if self.detail else "")


def person_id(n: int) -> str:
    return f"bench-p{n:05d}"


def create_organizations(stack: RunningStack) -> None:
    """State, region and county (shared with the community-create bench), then a district and a school."""
    admin = {"Authorization": f"Bearer {stack.token('platform_admin')}"}
    for body in ({"id": "bench-state", "name": "State", "kind": "state", "time_zone": "America/Los_Angeles"},
                 {"id": REGION, "name": "Region", "kind": "region", "parent_id": "bench-state"},
                 {"id": COUNTY, "name": "County", "kind": "county_office", "parent_id": REGION},
                 {"id": DISTRICT, "name": "District", "kind": "district", "parent_id": COUNTY},
                 {"id": SCHOOL, "name": "School", "kind": "school", "parent_id": DISTRICT}):
        result = post_burst("setup", stack.gateway_url, "/api/v1/orgs", [body], 1, admin)
        if set(result.statuses) - {201, 409}:
            raise SystemExit(f"could not create {body['id']}: {result.statuses}")


def create_people(stack: RunningStack, count: int) -> None:
    """`count` teachers at the school, through membership's gRPC API, SETUP_WORKERS at a time."""
    token = stack.token("platform_admin")

    def create(n: int) -> None:
        stack.membership(token).CreatePerson(membership_pb2.CreatePersonRequest(
            person_id=person_id(n), name=f"Teacher {n}", email=f"{person_id(n)}@bench.example",
            grade_bands=[membership_pb2.GRADE_BAND_6_8],
            affiliations=[membership_pb2.Affiliation(organization_id=SCHOOL, position=membership_pb2.POSITION_TEACHER)]))

    with ThreadPoolExecutor(SETUP_WORKERS) as pool:
        list(pool.map(create, range(count)))


def open_community(manager: ApiClient, seats: int) -> None:
    """A community of `seats` seats for teachers in the region, its sign-up window open now, opened."""
    now = dt.datetime.now(dt.UTC)
    manager.post("/communities", {
        "id": COMMUNITY, "name": "Sign-up burst", "kind": "plc", "host_organization_id": COUNTY,
        "focus": "Ratio and proportion", "grade_bands": ["6-8"], "capacity": seats,
        "signup_window": {"opens_at": rfc3339(now - dt.timedelta(hours=1)),
                          "closes_at": rfc3339(now + dt.timedelta(days=1))},
        "eligibility": {"positions": ["teacher"], "organization_ids": [REGION]}})
    manager.post(f"/communities/{COMMUNITY}/status", {"status": "open"})


def rfc3339(moment: dt.datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def registration_calls(stack: RunningStack, path: str, attempts: int) -> list[Call]:
    """One per person: the same body, each with the person's own token."""
    return [Call(path, {"acknowledge_commitment": True},
                 {"Authorization": f"Bearer {stack.token('member', SCHOOL, person=person_id(n))}"})
            for n in range(attempts)]


def prepare_baseline(stack: RunningStack, seat_ids: list[str], seats: int) -> pymongo.collection.Collection:
    collection = pymongo.MongoClient(stack.mongodb_uri)["baseline"][SEATS_COLLECTION]
    for seat_id in seat_ids:
        collection.replace_one({"_id": seat_id}, {"capacity": seats, "confirmed": 0, "waiting": 0}, upsert=True)
    return collection


def bench_signup_burst(stack: RunningStack, baseline_url: str, attempts: int, clients: int, seats: int) -> bool:
    """Runs the burst on both, prints the figures and the checks; True when every check passed."""
    print(f"\n== sign-up burst: {attempts} people register for one community of {seats} seats, "
          f"{clients} clients at once")
    manager = ApiClient(stack.gateway_url, stack.token("county_admin", COUNTY, person=MANAGER))
    create_organizations(stack)
    started = dt.datetime.now(dt.UTC)
    create_people(stack, attempts)
    setup_seconds = (dt.datetime.now(dt.UTC) - started).total_seconds()
    print(f"set-up: {attempts} people created through gRPC in {setup_seconds:.1f} s "
          f"({attempts / setup_seconds:.0f}/s, untimed below)")
    open_community(manager, seats)
    seat_ledger = prepare_baseline(stack, ["warm-up", COMMUNITY], seats)

    calls = registration_calls(stack, f"/api/v1/communities/{COMMUNITY}/registrations", attempts)
    baseline_calls = [Call(f"/communities/{COMMUNITY}/registrations", c.body, c.headers) for c in calls]
    # Warm both up (connections, worker threads) with requests that take no seat.
    burst("warm-up", baseline_url, [Call("/communities/warm-up/registrations", {})] * 20, 4)
    for _ in range(20):
        manager.get(f"/communities/{COMMUNITY}")

    baseline = burst("baseline: flask+pymongo $inc", baseline_url, baseline_calls, clients)
    copnet = burst("copnet: POST .../registrations", stack.gateway_url, calls, clients, keep_answers=True)

    print(HEADER)
    print(baseline.row())
    print(copnet.row())
    print(f"ratio copnet/baseline throughput: {copnet.throughput / baseline.throughput:.2f}  "
          f"p50 latency: {copnet.percentile(50) / baseline.percentile(50):.2f}x  "
          f"p99 latency: {copnet.percentile(99) / baseline.percentile(99):.2f}x")

    community = manager.get(f"/communities/{COMMUNITY}")
    roster = list(manager.pages(f"/communities/{COMMUNITY}/registrations", page_size=1000))
    ledger = seat_ledger.find_one({"_id": COMMUNITY})
    print(f"final counts: copnet seats {community['seats']}, roster of {len(roster)} "
          f"({dict(Counter(r['status'] for r in roster))}); baseline confirmed {ledger['confirmed']}, "
          f"waiting {ledger['waiting']}")
    checks = [*check_signups(copnet, roster, community, seats),
              Check(f"baseline: {seats} confirmed, {attempts - seats} waiting",
                    ledger["confirmed"] == seats and ledger["waiting"] == attempts - seats,
                    f"{ledger['confirmed']} confirmed, {ledger['waiting']} waiting")]
    print(unanswered(copnet, roster, attempts))
    print("correctness:")
    for check in checks:
        print(check.line())
    return all(check.ok for check in checks)


def check_signups(result: LoadResult, roster: list[dict], community: dict, seats: int) -> list[Check]:
    """Every rule the outcome must keep, each as a Check (the roster is the community's, read afterwards).

    These are about the state left behind. A request that got no answer in time (a 504: the
    gateway's deadline passed while the service was still at it) is reported beside them, with
    whether that person ended up registered: it may have, as the transaction could still commit.
    """
    answers = [answer for answer in result.answers if answer is not None]
    created = [answer for answer in answers if answer.status == 201]
    by_status: dict[str, list[dict]] = defaultdict(list)
    for registration in roster:
        by_status[registration["status"]].append(registration)
    confirmed = sorted(by_status["confirmed"], key=lambda r: r["sequence"])
    waitlisted = sorted(by_status["waitlisted"], key=lambda r: r["sequence"])
    people = Counter(r["person_id"] for r in roster)
    sequences = sorted(r["sequence"] for r in roster)
    positions = [r["waitlist_position"] for r in waitlisted]
    by_id = {r["id"]: r for r in roster}
    disagreeing = [a for a in created if not agrees(a.json(), by_id.get(a.json()["id"]))]
    out_of_order = clients_out_of_order(created)
    return [
        Check(f"exactly {seats} confirmed (roster and seat counts)",
              len(confirmed) == seats and community["seats"]["confirmed"] == seats,
              f"roster {len(confirmed)}, seats {community['seats']}"),
        Check("everyone else waitlisted (roster and seat counts)",
              set(by_status) <= {"confirmed", "waitlisted"}
              and len(waitlisted) == len(roster) - seats == community["seats"]["waitlisted"],
              f"roster {len(waitlisted)} waitlisted, statuses {sorted(by_status)}"),
        Check("no person registered twice", max(people.values(), default=0) == 1,
              f"{len(roster)} registrations of {len(people)} people"),
        Check(f"sequences unique and contiguous 1..{len(roster)}", sequences == list(range(1, len(roster) + 1)),
              f"{sequences[:1]}..{sequences[-1:]}" if sequences else "none"),
        Check(f"the confirmed are the first {seats} arrivals",
              [r["sequence"] for r in confirmed] == list(range(1, seats + 1))),
        Check("waitlist positions unique, contiguous from 1 and in arrival order",
              positions == list(range(1, len(waitlisted) + 1)),
              f"first {positions[:3]}, last {positions[-1:]}"),
        Check("each 201 answer is on the roster as told (status, sequence, waitlist position)", not disagreeing,
              f"{len(disagreeing)} disagree" if disagreeing else ""),
        Check("each client's registrations arrived in the order it sent them", not out_of_order,
              f"{len(out_of_order)} clients out of order" if out_of_order else ""),
    ]


def unanswered(result: LoadResult, roster: list[dict], attempts: int) -> str:
    """Attempts without a 201, and how many of those people are registered anyway."""
    on_roster = {r["person_id"] for r in roster}
    failed = [n for n, answer in zip(range(attempts), result.answers) if answer is None or answer.status != 201]
    registered = sum(1 for n in failed if person_id(n) in on_roster)
    statuses = " ".join(f"{code}x{n}" for code, n in sorted(result.statuses.items()))
    return (f"answers: {statuses}; {len(failed)} without a 201, {registered} of them registered anyway "
            f"(everyone on the roster: {len(on_roster)} of {attempts} people)")


def agrees(answer: dict, registration: dict | None) -> bool:
    """Nobody cancels during the burst, so what a person was told is what the roster says after."""
    return (registration is not None and answer["person_id"] == registration["person_id"]
            and answer["status"] == registration["status"]
            and answer["waitlist_position"] == registration["waitlist_position"]
            and answer["sequence"] == registration["sequence"])


def clients_out_of_order(answers: list[Answer]) -> list[int]:
    """Clients whose later request got a lower sequence than an earlier one (each waits for its answer)."""
    turns: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for answer in answers:
        turns[answer.client].append((answer.turn, answer.json()["sequence"]))
    out = []
    for client, sequence in turns.items():
        ordered = [s for _, s in sorted(sequence)]
        if any(later <= earlier for earlier, later in pairwise(ordered)):
            out.append(client)
    return out

