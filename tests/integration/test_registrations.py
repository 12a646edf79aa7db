"""Sign-ups over real gRPC: every rule's reason, the waiting list, cancellation and promotion,
commitments, onboarding, and who may do each."""

from __future__ import annotations

import datetime as dt

import grpc
import pytest
from copnet.membership.v1 import membership_pb2

from tests.integration.http import request
from tests.integration.signup_world import (
    World,
    check_ledger,
    registration_event,
    rpc_error,
)

pytestmark = pytest.mark.integration

DAY = dt.timedelta(days=1)


@pytest.fixture(scope="module")
def world(services):
    made = World(services, "rg")
    yield made
    made.close()


def test_seats_then_the_waiting_list_in_arrival_order(world):
    community = world.community("order", capacity=2)
    people = world.people(4, "order")
    replies = [world.register(community, p) for p in people]
    assert [r.status for r in replies] == [membership_pb2.REGISTRATION_STATUS_CONFIRMED] * 2 + [membership_pb2.REGISTRATION_STATUS_WAITLISTED] * 2
    assert [r.sequence for r in replies] == [1, 2, 3, 4]
    assert [r.waitlist_position for r in replies] == [0, 0, 1, 2]
    assert all(r.registered_by == p for r, p in zip(replies, people))
    assert check_ledger(world, community) == {"confirmed_count": 2, "waitlisted_count": 2, "waitlist_entries": 2}


def test_cancelling_a_seat_promotes_the_head_of_the_list_once_and_moves_the_rest_up(world):
    community = world.community("promote", capacity=1)
    first, second, third = world.people(3, "promote")
    seat, head, behind = (world.register(community, p) for p in (first, second, third))
    reply = world.cancel(seat.id, world.token_of(first))
    assert reply.registration.status == membership_pb2.REGISTRATION_STATUS_CANCELLED
    assert reply.registration.cancelled_by == first and reply.registration.HasField("cancel_time")
    assert [(p.id, p.status) for p in reply.promoted] == [(head.id, membership_pb2.REGISTRATION_STATUS_CONFIRMED)]
    assert reply.promoted[0].HasField("promote_time")
    moved_up = world.membership(world.token_of(third)).GetRegistration(membership_pb2.GetRegistrationRequest(id=behind.id))
    assert moved_up.registration.waitlist_position == 1
    event = registration_event(world.services, "copnet.membership.registration.promoted", head.id)
    assert (event.registration.status, event.changed_by) == (membership_pb2.REGISTRATION_STATUS_CONFIRMED, first)
    cancelled = registration_event(world.services, "copnet.membership.registration.cancelled", seat.id)
    assert cancelled.registration.status == membership_pb2.REGISTRATION_STATUS_CANCELLED
    check_ledger(world, community)


def test_leaving_the_waiting_list_promotes_nobody_and_cancelling_twice_is_refused(world):
    community = world.community("leave", capacity=1)
    holder, waiting, behind = world.people(3, "leave")
    world.register(community, holder)
    queued = world.register(community, waiting)
    last = world.register(community, behind)
    reply = world.cancel(queued.id, world.token_of(waiting))
    assert list(reply.promoted) == []
    again = rpc_error(world.cancel, queued.id, world.token_of(waiting))
    assert (again.code, again.reason) == (grpc.StatusCode.FAILED_PRECONDITION, "ALREADY_CANCELLED")
    assert world.membership(world.token_of(behind)).GetRegistration(membership_pb2.GetRegistrationRequest(id=last.id)).registration.waitlist_position == 1
    assert check_ledger(world, community) == {"confirmed_count": 1, "waitlisted_count": 1, "waitlist_entries": 1}


def test_a_cancelled_person_may_register_again_but_nobody_twice_at_once(world):
    community = world.community("again", capacity=3)
    person = world.person("again")
    first = world.register(community, person)
    duplicate = rpc_error(world.register, community, person)
    assert (duplicate.code, duplicate.reason) == (grpc.StatusCode.ALREADY_EXISTS, "ALREADY_REGISTERED")
    world.cancel(first.id, world.token_of(person))
    second = world.register(community, person)
    assert second.id != first.id and second.sequence == 2
    check_ledger(world, community)


@pytest.mark.parametrize(("fields", "reason", "words"), [
    ({"status": "draft"}, "SIGNUP_NOT_OPEN", "draft"),
    ({"status": "closed"}, "SIGNUP_NOT_OPEN", "closed"),
    ({"opens_in": DAY, "closes_in": 2 * DAY}, "SIGNUP_NOT_YET_OPEN", "not open yet"),
    ({"opens_in": -2 * DAY, "closes_in": -DAY}, "SIGNUP_CLOSED", "closed at"),
    ({"positions": ["coach"]}, "NOT_ELIGIBLE", "coach"),
])
def test_each_sign_up_rule_has_its_reason_and_writes_nothing(world, fields, reason, words):
    community = world.community(f"rule-{reason.lower()}-{fields.get('status', 'x')}".replace("_", "-"), 5, **fields)
    person = world.person(f"rule-{reason.lower()}-{fields.get('status', 'x')}".replace("_", "-"))
    error = rpc_error(world.register, community, person)
    assert (error.code, error.reason) == (grpc.StatusCode.FAILED_PRECONDITION, reason)
    assert words in error.message
    assert world.registrations(community) == []
    assert world.ledger(community) == {"confirmed_count": 0, "waitlisted_count": 0, "waitlist_entries": 0}


def test_eligibility_by_organization_admits_the_subtree_only(world):
    community = world.community("county-only", 5, positions=["teacher"], organization_ids=[world.county])
    inside = world.person("inside")                                     # a teacher at a school in the county
    outside = world.person("outside", (world.other_county, "teacher"))
    assert world.register(community, inside).status == membership_pb2.REGISTRATION_STATUS_CONFIRMED
    error = rpc_error(world.register, community, outside)
    assert error.reason == "NOT_ELIGIBLE" and world.county in error.message


def test_after_the_soft_deadline_seats_remain_open_but_nobody_joins_the_waiting_list(world):
    community = world.community("soft", capacity=1, soft_deadline_in=-dt.timedelta(hours=1))
    first, second = world.people(2, "soft")
    assert world.register(community, first).status == membership_pb2.REGISTRATION_STATUS_CONFIRMED
    error = rpc_error(world.register, community, second)
    assert (error.code, error.reason) == (grpc.StatusCode.FAILED_PRECONDITION, "SIGNUP_FULL")
    assert "only while seats remain" in error.message
    assert check_ledger(world, community) == {"confirmed_count": 1, "waitlisted_count": 0, "waitlist_entries": 0}


def test_an_unknown_person_and_an_unknown_community(world):
    community = world.community("unknown", 5)
    error = rpc_error(world.register, community, "rg-nobody", token=world.manager())
    assert (error.code, error.reason, [f.field for f in error.fields]) == (
        grpc.StatusCode.INVALID_ARGUMENT, "UNKNOWN_PERSON", ["person_id"])
    missing = rpc_error(world.register, "rg-no-such-community", world.person("unknown"))
    assert missing.code == grpc.StatusCode.NOT_FOUND


def test_only_the_person_registers_themself_managers_anyone(world):
    community = world.community("who", 5)
    teacher, colleague, other = world.people(3, "who")
    refused = rpc_error(world.register, community, colleague, token=world.token_of(teacher))
    assert (refused.code, refused.reason) == (grpc.StatusCode.PERMISSION_DENIED, "OUT_OF_SCOPE")
    outsider = world.services.token("county_admin", world.other_county, person="rg-outsider")
    assert rpc_error(world.register, community, colleague, token=outsider).code == grpc.StatusCode.PERMISSION_DENIED
    by_manager = world.register(community, colleague, token=world.manager())
    assert by_manager.registered_by == "rg-manager"
    # The caller is the default person; without a token nobody signs up.
    assert world.register(community, token=world.token_of(other)).person_id == other
    anonymous = rpc_error(world.membership().Register, membership_pb2.RegisterRequest(community_id=community, person_id=teacher))
    assert anonymous.code == grpc.StatusCode.UNAUTHENTICATED
    assert [r["person_id"] for r in world.registrations(community)] == [colleague, other]


def test_commitment_is_the_persons_own_act_and_idempotent(world):
    community = world.community("commit", 5)
    person = world.person("commit")
    acknowledged = world.register(community, person, acknowledge_commitment=True)
    assert acknowledged.HasField("commitment_acknowledge_time")
    refused = rpc_error(world.register, community, world.person("commit2"), token=world.manager(),
                        acknowledge_commitment=True)
    assert (refused.code, [f.field for f in refused.fields]) == (grpc.StatusCode.INVALID_ARGUMENT,
                                                                 ["acknowledge_commitment"])
    later = world.register(community, world.person("commit3"))
    assert not later.HasField("commitment_acknowledge_time")
    by_manager = rpc_error(world.membership(world.manager()).AcknowledgeCommitment, membership_pb2.AcknowledgeCommitmentRequest(id=later.id))
    assert by_manager.code == grpc.StatusCode.PERMISSION_DENIED
    token = world.token_of(later.person_id)
    first = world.membership(token).AcknowledgeCommitment(membership_pb2.AcknowledgeCommitmentRequest(id=later.id))
    second = world.membership(token).AcknowledgeCommitment(membership_pb2.AcknowledgeCommitmentRequest(id=later.id))
    assert first.registration.commitment_acknowledge_time == second.registration.commitment_acknowledge_time
    event = registration_event(world.services, "copnet.membership.registration.commitment_acknowledged", later.id)
    assert event.registration.HasField("commitment_acknowledge_time")


def test_onboarding_is_recorded_by_facilitators_and_managers_once(world):
    facilitator = world.person("onb-facilitator")
    community = world.community("onboard", 5, facilitators=[facilitator])
    person = world.person("onboard")
    registration = world.register(community, person)
    refused = rpc_error(world.membership(world.token_of(person)).RecordOnboarding, membership_pb2.RecordOnboardingRequest(id=registration.id))
    assert refused.code == grpc.StatusCode.PERMISSION_DENIED
    done = world.membership(world.token_of(facilitator)).RecordOnboarding(membership_pb2.RecordOnboardingRequest(id=registration.id))
    again = world.membership(world.manager()).RecordOnboarding(membership_pb2.RecordOnboardingRequest(id=registration.id))
    assert done.registration.onboarding_complete_time == again.registration.onboarding_complete_time
    event = registration_event(world.services, "copnet.membership.registration.onboarding_completed", registration.id)
    assert event.changed_by == facilitator


def test_rosters_for_facilitators_and_managers_own_lists_for_the_person(world):
    facilitator = world.person("roster-facilitator")
    community = world.community("roster", 2, facilitators=[facilitator])
    people = world.people(5, "roster")
    for person in people:
        world.register(community, person)
    pages, token = [], ""
    while True:
        page = world.membership(world.token_of(facilitator)).ListRegistrations(membership_pb2.ListRegistrationsRequest(community_id=community, page_size=2,
                                                                                                                       page_token=token))
        pages.append([(r.person_id, r.waitlist_position) for r in page.registrations])
        token = page.next_page_token
        if not token:
            break
    assert pages == [[(people[0], 0), (people[1], 0)], [(people[2], 1), (people[3], 2)], [(people[4], 3)]]
    waiting = world.membership(world.manager()).ListRegistrations(membership_pb2.ListRegistrationsRequest(
        community_id=community, status=membership_pb2.REGISTRATION_STATUS_WAITLISTED))
    assert [r.person_id for r in waiting.registrations] == people[2:]
    for token in (world.token_of(people[0]), world.services.token("county_admin", world.other_county, person="x")):
        error = rpc_error(world.membership(token).ListRegistrations, membership_pb2.ListRegistrationsRequest(community_id=community))
        assert error.code == grpc.StatusCode.PERMISSION_DENIED
    own = world.membership(world.token_of(people[3])).ListRegistrations(membership_pb2.ListRegistrationsRequest(person_id=people[3]))
    assert [(r.community_id, r.waitlist_position) for r in own.registrations] == [(community, 2)]
    assert rpc_error(world.membership(world.token_of(people[0])).ListRegistrations, membership_pb2.ListRegistrationsRequest(person_id=people[3])).code == grpc.StatusCode.PERMISSION_DENIED
    neither = rpc_error(world.membership(world.manager()).ListRegistrations, membership_pb2.ListRegistrationsRequest())
    assert neither.code == grpc.StatusCode.INVALID_ARGUMENT


def test_a_registration_is_read_by_the_person_facilitators_and_managers_only(world):
    facilitator = world.person("read-facilitator")
    community = world.community("read", 5, facilitators=[facilitator])
    person, colleague = world.people(2, "read")
    registration = world.register(community, person)
    request = membership_pb2.GetRegistrationRequest(id=registration.id)
    for token in (world.token_of(person), world.token_of(facilitator), world.manager()):
        assert world.membership(token).GetRegistration(request).registration.id == registration.id
    assert rpc_error(world.membership(world.token_of(colleague)).GetRegistration, request).code == grpc.StatusCode.PERMISSION_DENIED
    assert rpc_error(world.membership().GetRegistration, request).code == grpc.StatusCode.UNAUTHENTICATED
    assert rpc_error(world.membership(world.manager()).GetRegistration, membership_pb2.GetRegistrationRequest(id="nope")).code == grpc.StatusCode.NOT_FOUND
    # Cancelling is for the person and managers, not a colleague (nor a facilitator).
    for token in (world.token_of(colleague), world.token_of(facilitator)):
        assert rpc_error(world.cancel, registration.id, token).code == grpc.StatusCode.PERMISSION_DENIED
    assert world.cancel(registration.id, world.manager()).registration.cancelled_by == "rg-manager"


def test_nobody_is_promoted_in_a_completed_community(world):
    community = world.community("done", 1)
    holder, waiting = world.people(2, "done")
    seat = world.register(community, holder)
    world.register(community, waiting)
    world.change_status(community, "active", "completed")
    assert list(world.cancel(seat.id, world.token_of(holder)).promoted) == []
    assert check_ledger(world, community) == {"confirmed_count": 0, "waitlisted_count": 1, "waitlist_entries": 1}


def test_the_rest_routes_answer_as_documented(stack, world):
    facilitator = world.person("http-facilitator")
    community = world.community("http", 1, facilitators=[facilitator])
    person, other = world.people(2, "http")
    api = f"{stack.gateway_url}/api/v1"
    created = request("POST", f"{api}/communities/{community}/registrations",
                      json_body={"acknowledge_commitment": True}, token=world.token_of(person))
    assert created.status == 201, created.text
    body = created.json()
    assert created.headers["location"] == f"/api/v1/registrations/{body['id']}"
    assert (body["person_id"], body["status"], body["waitlist_position"], body["team_id"]) == (
        person, "confirmed", None, None)
    assert body["commitment_acknowledged_at"] and body["promoted_at"] is None
    waiting = request("POST", f"{api}/communities/{community}/registrations", json_body={},
                      token=world.token_of(other)).json()
    assert (waiting["status"], waiting["waitlist_position"]) == ("waitlisted", 1)

    # Reads need a token: 401 without one, 403 for someone else, the roster for the facilitator.
    assert request("GET", f"{api}/registrations/{body['id']}").status == 401
    assert request("GET", f"{api}/communities/{community}/registrations").status == 401
    assert request("GET", f"{api}/registrations/{body['id']}", token=world.token_of(other)).status == 403
    roster = request("GET", f"{api}/communities/{community}/registrations?status=waitlisted",
                     token=world.token_of(facilitator))
    assert [r["id"] for r in roster.json()["items"]] == [waiting["id"]]
    assert request("GET", f"{api}/communities/{community}/registrations", token=world.token_of(other)).status == 403
    own = request("GET", f"{api}/people/{other}/registrations", token=world.token_of(other)).json()
    assert [(r["id"], r["waitlist_position"]) for r in own["items"]] == [(waiting["id"], 1)]

    onboarded = request("POST", f"{api}/registrations/{body['id']}/onboarding", json_body={},
                        token=world.token_of(facilitator))
    assert onboarded.status == 200 and onboarded.json()["onboarding_completed_at"]
    committed = request("POST", f"{api}/registrations/{waiting['id']}/commitment", json_body={},
                        token=world.token_of(other))
    assert committed.status == 200 and committed.json()["commitment_acknowledged_at"]
    cancelled = request("POST", f"{api}/registrations/{body['id']}/cancel", json_body={}, token=world.token_of(person))
    assert cancelled.status == 200
    assert [(p["id"], p["status"]) for p in cancelled.json()["promoted"]] == [(waiting["id"], "confirmed")]
    again = request("POST", f"{api}/registrations/{body['id']}/cancel", json_body={}, token=world.token_of(person))
    assert (again.status, again.json()["reason"]) == (409, "ALREADY_CANCELLED")
    closed = world.community("http-closed", 1, status="closed")
    refused = request("POST", f"{api}/communities/{closed}/registrations", json_body={}, token=world.token_of(person))
    assert (refused.status, refused.json()["reason"]) == (409, "SIGNUP_NOT_OPEN")
    assert request("POST", f"{api}/communities/{community}/registrations", json_body={}).status == 401


def test_a_roster_page_and_the_waiting_list_it_is_ranked_against_are_one_snapshot(world, monkeypatch):
    """A promotion that lands between reading a roster page and reading the waiting list never lists
    the promoted person still waiting (two entries at place 1): the roster is what one moment saw."""
    from types import SimpleNamespace

    from copnet.kernel import auth, db
    from copnet.membership import seats
    from copnet.membership.servicer import MembershipServicer

    community = world.community("snapshot", capacity=1)
    first, second, third = world.people(3, "snapshot")
    seat, head, behind = (world.register(community, p) for p in (first, second, third))
    cancelled = []

    def waiting_tickets_after_a_promotion(*args):
        if not cancelled:  # the page is read: now the seat is given back and the head promoted
            cancelled.append(world.cancel(seat.id, world.token_of(first)))
        return original(*args)

    original = seats.waiting_tickets
    monkeypatch.setattr(seats, "waiting_tickets", waiting_tickets_after_a_promotion)
    db.connect(world.services.mongodb_uri, world.services.settings.database_name("membership"))
    identity = auth.set_identity(auth.Identity("snapshot-reader", (auth.Grant(auth.Role.PLATFORM_ADMIN, ""),)))
    try:
        servicer = MembershipServicer(SimpleNamespace(transaction=lambda work: db.run_in_transaction(work, "test")))
        roster = servicer.ListRegistrations(membership_pb2.ListRegistrationsRequest(community_id=community), None)
    finally:
        auth.reset_identity(identity)
        db.mongoengine.disconnect()
    assert [p.id for p in cancelled[0].promoted] == [head.id]
    # The moment before the cancellation, whole: one seat taken, two waiting at places 1 and 2.
    assert [(r.id, r.status, r.waitlist_position) for r in roster.registrations] == [
        (seat.id, membership_pb2.REGISTRATION_STATUS_CONFIRMED, 0), (head.id, membership_pb2.REGISTRATION_STATUS_WAITLISTED, 1),
        (behind.id, membership_pb2.REGISTRATION_STATUS_WAITLISTED, 2)]
    after = world.membership(world.manager()).ListRegistrations(membership_pb2.ListRegistrationsRequest(community_id=community))
    assert [(r.id, r.status, r.waitlist_position) for r in after.registrations] == [
        (seat.id, membership_pb2.REGISTRATION_STATUS_CANCELLED, 0), (head.id, membership_pb2.REGISTRATION_STATUS_CONFIRMED, 0),
        (behind.id, membership_pb2.REGISTRATION_STATUS_WAITLISTED, 1)]
