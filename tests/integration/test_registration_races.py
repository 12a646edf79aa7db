"""Bursts of parallel sign-ups and cancellations through the real gateway: capacity is never
exceeded, the waiting list stays contiguous, and every freed seat promotes exactly one person once."""

from __future__ import annotations

from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.integration.http import request
from tests.integration.signup_world import World, check_ledger, times_published

pytestmark = pytest.mark.integration

PARALLEL = 64
# COPNET_GRPC_CALLS_PER_CALLER's default: a caller's calls in flight beyond it are refused (429).
ONE_CALLERS_ALLOWANCE = 8


@pytest.fixture(scope="module")
def world(stack):
    made = World(stack, "race")
    yield made
    made.close()


def in_parallel(calls) -> list:
    with ThreadPoolExecutor(PARALLEL) as pool:
        return list(pool.map(lambda call: call(), calls))


def make_people(world: World, count: int, name: str) -> list[str]:
    # One admin makes them all: no more at once than one caller may have in flight.
    with ThreadPoolExecutor(ONE_CALLERS_ALLOWANCE) as pool:
        return list(pool.map(lambda n: world.person(f"{name}{n}"), range(count)))


def sign_up(world: World, community_id: str, person_id: str):
    return request("POST", f"{world.services.gateway_url}/api/v1/communities/{community_id}/registrations",
                   json_body={}, token=world.token_of(person_id))


def cancel(world: World, registration_id: str, token: str):
    return request("POST", f"{world.services.gateway_url}/api/v1/registrations/{registration_id}/cancel",
                   json_body={}, token=token)


def test_a_burst_of_sign_ups_fills_exactly_the_seats_and_queues_the_rest_in_order(world):
    community = world.community("burst", capacity=8)
    people = make_people(world, 80, "burst")
    replies = in_parallel([lambda p=p: sign_up(world, community, p) for p in people])
    assert [r.status for r in replies] == [201] * len(people)
    created = sorted((r.json() for r in replies), key=lambda r: r["sequence"])
    assert [r["sequence"] for r in created] == list(range(1, 81))
    confirmed = [r for r in created if r["status"] == "confirmed"]
    waiting = [r for r in created if r["status"] == "waitlisted"]
    # Arrival order decides: the first 8 to arrive hold the seats, the rest queue behind them in order.
    assert [r["sequence"] for r in confirmed] == list(range(1, 9))
    assert [r["waitlist_position"] for r in waiting] == list(range(1, 73))
    assert all(r["waitlist_position"] is None for r in confirmed)
    stored = world.registrations(community)
    assert [r["waitlist_ticket"] for r in stored if r["status"] == "waitlisted"] == list(range(1, 73))
    assert sorted(r["person_id"] for r in stored) == sorted(people)
    assert check_ledger(world, community) == {"confirmed_count": 8, "waitlisted_count": 72, "waitlist_entries": 72}


def test_the_same_person_signing_up_many_times_at_once_gets_one_registration(world):
    community = world.community("dupes", capacity=5)
    [person] = make_people(world, 1, "dupe")
    replies = in_parallel([lambda: sign_up(world, community, person)] * 20)
    # One caller sends 20 at once: those over their allowance are refused as too many (429), every
    # other one but the first is ALREADY_REGISTERED.
    outcomes = Counter((r.status, r.json().get("reason")) for r in replies)
    assert outcomes[(201, None)] == 1 and outcomes[(409, "ALREADY_REGISTERED")] >= 1
    assert set(outcomes) <= {(201, None), (409, "ALREADY_REGISTERED"), (429, "TOO_MANY_CONCURRENT_CALLS")}
    assert len(world.registrations(community)) == 1
    assert check_ledger(world, community) == {"confirmed_count": 1, "waitlisted_count": 0, "waitlist_entries": 0}


def test_cancellations_racing_sign_ups_and_each_other_promote_each_freed_seat_once(world):
    capacity = 6
    community = world.community("churn", capacity=capacity)
    people = make_people(world, 36, "churn")
    first, late = people[:24], people[24:]
    holders = [sign_up(world, community, p).json() for p in first]
    seats = [r for r in holders if r["status"] == "confirmed"]
    queued = [r for r in holders if r["status"] == "waitlisted"]
    assert len(seats) == capacity and len(queued) == 18
    # At once: every seat cancelled twice (by the person and by a manager), three people leave the
    # waiting list, and twelve more people sign up.
    leaving = queued[1:7:2]
    calls = [lambda r=r: cancel(world, r["id"], world.token_of(r["person_id"])) for r in seats + leaving]
    calls += [lambda r=r: cancel(world, r["id"], world.manager()) for r in seats]
    calls += [lambda p=p: sign_up(world, community, p) for p in late]
    replies = in_parallel(calls)

    cancellations = Counter()
    for r in replies[:2 * len(seats) + len(leaving)]:
        assert r.status in (200, 409), r.text
        if r.status == 200:
            cancellations[r.json()["registration"]["id"]] += 1
        else:
            assert r.json()["reason"] == "ALREADY_CANCELLED"
    assert set(cancellations.values()) == {1} and len(cancellations) == len(seats) + len(leaving)
    assert all(r.status == 201 for r in replies[2 * len(seats) + len(leaving):])

    stored = world.registrations(community)
    promoted = [r for r in stored if r.get("promoted_at")]
    freed = len(seats) + sum(1 for r in promoted if r["status"] == "cancelled")
    # Every freed seat went to exactly one waiting person, and the seats are full again.
    assert len(promoted) == freed
    assert check_ledger(world, community)["confirmed_count"] == capacity
    # First come first served: everyone promoted arrived before everyone still waiting, and the
    # late sign-ups queued behind the existing list rather than taking a freed seat.
    still_waiting = [r for r in stored if r["status"] == "waitlisted"]
    assert max(r["sequence"] for r in promoted) < min(r["sequence"] for r in still_waiting)
    assert {r["person_id"] for r in stored if r["status"] == "confirmed"}.isdisjoint(late)
    # The promotions the cancellations answered with are exactly those, and each was published once.
    answered = [p["id"] for r in replies[:2 * len(seats) + len(leaving)] if r.status == 200
                for p in r.json()["promoted"]]
    assert sorted(answered) == sorted(r["_id"] for r in promoted)
    promoted_ids = {r["_id"] for r in promoted}
    assert set(times_published(world.services, "copnet.membership.registration.promoted",
                               promoted_ids).values()) == {1}
    assert set(times_published(world.services, "copnet.membership.registration.cancelled",
                               set(cancellations)).values()) == {1}
