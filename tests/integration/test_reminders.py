"""Session reminders on the real stack: one `session.reminder` per occurrence and expected attendee,
whatever the audience, none for a cancelled occurrence, exactly once across a killed and restarted
scheduling process, and delivered through webhook-notify to a real HTTP receiver. Ids start with `rm`.

The shared stack's own reminder job scans as of the real now every minute; the tests that call
RunReminders scan "as of" a moment years ahead, each on its own day, so neither that job nor
another test's scan reminds what a test counts.
"""

from __future__ import annotations

import collections
import dataclasses
import datetime as dt
import http.server
import json
import os
import signal
import threading

import grpc
import pytest
from copnet.kernel.events import CloudEvent
from copnet.kernel.timestamps import timestamp
from copnet.membership.v1 import membership_pb2
from copnet.scheduling.v1 import scheduling_pb2

from tests.integration.http import request
from tests.integration.jetstream_events import published
from tests.integration.scheduling_world import SchedulingWorld, current_program_year
from tests.integration.signup_world import rpc_error

pytestmark = pytest.mark.integration

REMINDER = "copnet.scheduling.session.reminder"
LEAD = dt.timedelta(minutes=1440)   # the stack's default COPNET_REMINDER_LEADS_MINUTES


def quiet_day(n: int) -> dt.datetime:
    """A 4:00 PM PST start years ahead, a different day for each `n`: nothing else is due then."""
    first = int(current_program_year()[:4]) + 6
    return dt.datetime(first + 1, 1, 6, 0, tzinfo=dt.UTC) + dt.timedelta(days=3 * n)


class Reminders:
    """A program community (a facilitator and three members) in the program year of `start`."""

    def __init__(self, services, prefix: str, start: dt.datetime, *, members=3, site_admins=0):
        self.services = services
        self.world = SchedulingWorld(services, prefix)
        self.program = self.world.program(program_year=current_program_year(start))
        self.facilitator = self.world.person("fac")
        self.members = [*self.world.people(members, "m"),
                        *(self.world.person(f"admin{n}", (self.world.school, "site_admin")) for n in range(site_admins))]
        self.community = self.world.program_community("algebra", self.program, members=self.members,
                                                      facilitators=[self.facilitator])
        self.db = self.world._mongo[services.settings.database_name("scheduling")]

    @property
    def everyone(self) -> set[str]:
        return {self.facilitator, *self.members}

    def session(self, start: dt.datetime, **fields) -> scheduling_pb2.Session:
        fields.setdefault("title", "Algebra PLC")
        return self.world.session(self.community, start, **fields).session

    def occurrences(self, session_id: str) -> list[scheduling_pb2.Occurrence]:
        return list(self.world.scheduling(self.world.admin).ListOccurrences(scheduling_pb2.ListOccurrencesRequest(
            session_id=session_id, include_cancelled=True, page_size=100)).occurrences)

    def run(self, now: dt.datetime | None = None, token: str | None = None) -> int:
        request_ = scheduling_pb2.RunRemindersRequest(now=timestamp(now)) if now else scheduling_pb2.RunRemindersRequest()
        return self.world.scheduling(token or self.world.admin).RunReminders(request_).emitted

    def published(self, occurrence_ids: set[str]) -> list[CloudEvent]:
        """The reminder events about these occurrences once every one committed is on the stream
        (none left in scheduling's outbox), so a duplicate could not still be on its way."""
        self.services.wait_for(lambda: self.db.outbox.count_documents(
            {"event.type": REMINDER, "event.subject": {"$in": sorted(occurrence_ids)}}) == 0, 30,
            "reminders published")
        return [event for event in published(self.services, "scheduling.session.reminder")
                if event.subject in occurrence_ids]

    def reminded(self, occurrence_ids: set[str]) -> collections.Counter:
        """(occurrence, person) -> how many reminder events the stream holds."""
        return collections.Counter((event.subject, event.data["person_id"])
                                   for event in self.published(occurrence_ids))

    def close(self):
        self.world.close()


@pytest.fixture
def made(services):
    worlds = []

    def make(prefix, start, **kwargs):
        worlds.append(Reminders(services, prefix, start, **kwargs))
        return worlds[-1]

    yield make
    for world in worlds:
        world.close()


def test_each_expected_attendee_is_reminded_once_and_a_second_scan_emits_nothing(made):
    start = quiet_day(0)
    plc = made("rma", start)
    session = plc.session(start)
    [occurrence] = plc.occurrences(session.id)
    assert plc.run(start - dt.timedelta(hours=2)) == 4
    assert plc.run(start - dt.timedelta(hours=1)) == 0
    assert plc.reminded({occurrence.id}) == {(occurrence.id, person): 1 for person in plc.everyone}
    event = plc.published({occurrence.id})[0]
    reminder = event.data
    assert reminder["community_name"] == "algebra" and reminder["lead_minutes"] == 1440
    assert reminder["occurrence"]["id"] == occurrence.id
    assert reminder["occurrence"]["start_time"] == f"{start:%Y-%m-%dT%H:%M:%S}Z"
    assert plc.world.region in event.scope and plc.world.district in event.scope
    # The ledger agrees, row for row.
    assert sorted(row["_id"] for row in plc.db.reminders_sent.find({"occurrence_id": occurrence.id})) == \
        sorted(f"{occurrence.id}|{person}|1440" for person in plc.everyone)


def test_not_yet_due_then_due_at_the_lead(made):
    start = quiet_day(1)
    plc = made("rmb", start, members=1)
    [occurrence] = plc.occurrences(plc.session(start).id)
    assert plc.run(start - LEAD - dt.timedelta(minutes=1)) == 0
    assert plc.run(start - LEAD) == 2
    assert plc.reminded({occurrence.id}) == {(occurrence.id, plc.facilitator): 1, (occurrence.id, plc.members[0]): 1}


def test_a_team_or_leaders_only_session_reminds_only_those_people(made, services):
    start = quiet_day(2)
    plc = made("rmc", start, members=3, site_admins=1)
    # A site administrator is a leader by position; a team lead by role.
    lead, teammate, outsider, principal = plc.members
    plc.world.membership(plc.world.admin).CreateTeam(membership_pb2.CreateTeamRequest(
        community_id=plc.community, team_id=f"{plc.world.prefix}-team", kind=membership_pb2.TEAM_KIND_CROSS_DISTRICT,
        name="Bridges", members=[membership_pb2.TeamMemberSpec(person_id=lead, role=membership_pb2.TEAM_ROLE_LEAD),
                                                     membership_pb2.TeamMemberSpec(person_id=teammate, role=membership_pb2.TEAM_ROLE_MEMBER)]))
    team_session = plc.session(start, audience=scheduling_pb2.AUDIENCE_TEAM, team_id=f"{plc.world.prefix}-team")
    leaders_session = plc.session(start + dt.timedelta(hours=4), minutes=60, audience=scheduling_pb2.AUDIENCE_LEADERS_ONLY)
    [team_occurrence] = plc.occurrences(team_session.id)
    [leaders_occurrence] = plc.occurrences(leaders_session.id)
    assert plc.run(start - dt.timedelta(hours=1)) == 3 + 3
    reminded = plc.reminded({team_occurrence.id, leaders_occurrence.id})
    assert reminded == {**{(team_occurrence.id, p): 1 for p in (plc.facilitator, lead, teammate)},
                        **{(leaders_occurrence.id, p): 1 for p in (plc.facilitator, lead, principal)}}
    assert outsider not in {person for _, person in reminded}


def test_a_cancelled_occurrence_gets_no_reminder(made):
    start = quiet_day(3)
    plc = made("rmd", start, members=1)
    series = plc.session(start, minutes=60, recurrence="FREQ=DAILY;COUNT=2")
    cancelled, kept = plc.occurrences(series.id)
    plc.world.scheduling(plc.world.admin).CancelOccurrence(scheduling_pb2.CancelOccurrenceRequest(id=cancelled.id, reason="snow day"))
    assert plc.run(start - dt.timedelta(hours=1)) == 0
    assert plc.run(start + dt.timedelta(hours=23)) == 2
    assert plc.reminded({kept.id, cancelled.id}) == {(kept.id, plc.facilitator): 1, (kept.id, plc.members[0]): 1}


def test_only_a_platform_admin_or_the_service_runs_reminders(made, services):
    plc = made("rme", quiet_day(4), members=1)
    member = plc.world.token_of(plc.members[0])
    lead = services.token("regional_lead", plc.world.region, person="rme-lead")
    for token in (member, lead, plc.world.facilitator_token(plc.facilitator)):
        assert rpc_error(plc.world.scheduling(token).RunReminders, scheduling_pb2.RunRemindersRequest()).code == grpc.StatusCode.PERMISSION_DENIED
    with pytest.raises(grpc.RpcError) as raised:
        plc.world.scheduling().RunReminders(scheduling_pb2.RunRemindersRequest())
    assert raised.value.code() == grpc.StatusCode.UNAUTHENTICATED


# -- delivery through webhook-notify -------------------------------------------------------------
class Receiver:
    """A real local webhook receiver keeping every request."""

    def __init__(self):
        self.requests: list[tuple[dict, dict]] = []
        self.lock = threading.Lock()
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))))
                with receiver.lock:
                    receiver.requests.append((dict(self.headers), body))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/reminders"
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()

    def about(self, occurrence_id: str) -> list[tuple[dict, dict]]:
        with self.lock:
            return [(h, b) for h, b in self.requests if b["data"]["occurrence"]["id"] == occurrence_id]

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    made_ = Receiver()
    yield made_
    made_.close()


def test_each_persons_reminder_reaches_the_regions_webhook(stack, made, receiver):
    start = quiet_day(5)
    plc = made("rmf", start)
    region_lead = stack.token("regional_lead", plc.world.region, person="rmf-lead")
    reply = request("PUT", f"{stack.gateway_url}/api/v1/regions/{plc.world.region}/plugins/webhook-notify",
                    json_body={"enabled": True, "settings": {"url": receiver.url, "events": [REMINDER]}},
                    token=region_lead)
    assert reply.status == 200, reply.text
    # The configuration reaches scheduling by event: schedule a fresh session (each on its own
    # day) until one's reminders are posted, then check that one's.
    tried: list[scheduling_pb2.Occurrence] = []

    def posted() -> bool:
        day = start + dt.timedelta(days=len(tried))
        [occurrence] = plc.occurrences(plc.session(day, meeting_url="https://meet.example.org/algebra").id)
        tried.append(occurrence)
        assert plc.run(day - dt.timedelta(hours=2)) == 4
        try:
            stack.wait_for(lambda: receiver.about(occurrence.id), 2, "a reminder posted")
        except TimeoutError:
            return False
        return True

    stack.wait_for(posted, 40, "a reminder posted to the region's webhook")
    occurrence = tried[-1]
    stack.wait_for(lambda: len(receiver.about(occurrence.id)) == 4, 20, "every person's reminder posted")
    events = {event.data["person_id"]: event for event in plc.published({occurrence.id})}
    posts = {body["person"]["id"]: (headers, body) for headers, body in receiver.about(occurrence.id)}
    assert set(posts) == plc.everyone
    for person_id, (headers, body) in posts.items():
        assert body["kind"] == "session.reminder" and body["type"] == REMINDER
        assert body["id"] == events[person_id].id == headers["X-Copnet-Event-Id"]
        assert body["person"] == {"id": person_id, "name": person_id.removeprefix("rmf-"),
                                  "email": f"{person_id}@example.org"}
        local = occurrence.start_time.ToDatetime(tzinfo=dt.UTC).astimezone(dt.timezone(-dt.timedelta(hours=8)))
        assert body["subject"] == f"Reminder: Algebra PLC — {local:%a %b} {local.day}, 4:00 PM PST"
        assert "When: " in body["body"] and "Join: https://meet.example.org/algebra" in body["body"]
        assert body["link"] == "https://meet.example.org/algebra"
        assert body["data"]["person_id"] == person_id and body["data"]["lead_minutes"] == 1440
    request("PUT", f"{stack.gateway_url}/api/v1/regions/{plc.world.region}/plugins/webhook-notify",
            json_body={"enabled": False}, token=region_lead)


# -- exactly once across a killed scheduling process --------------------------------------------
def kill(services, name: str) -> None:
    """SIGKILL: no shutdown of any kind, whatever the process was doing."""
    process = services.processes[name]
    if process.popen.poll() is None:
        os.killpg(process.popen.pid, signal.SIGKILL)
        process.popen.wait(10)


def start(services, name: str, env: dict[str, str] | None = None) -> None:
    """Start it again (with `env` if given) and wait until every service is ready."""
    process = services.processes[name]
    if env is not None:
        process.spec = dataclasses.replace(process.spec, env=env)
    process.start()
    services.wait_until_healthy()
    # The gateway's own channels reconnect too: later tests reach scheduling through it.
    services.wait_for(lambda: gateway_reaches_every_service(services), 30, "the gateway ready again")


def gateway_reaches_every_service(services) -> bool:
    """Several readiness answers in a row, so that every gateway worker's channels are back."""
    return all(request("GET", f"{services.gateway_url}/readyz").status == 200 for _ in range(8))


def settled(services, plc: Reminders, occurrence_ids: set[str]) -> bool:
    """Every reminder of these occurrences recorded and published: scheduling holds nothing of
    theirs in flight (no open transaction, no leased outbox entry)."""
    expected = len(occurrence_ids) * len(plc.everyone)
    return (plc.db.reminders_sent.count_documents({"occurrence_id": {"$in": sorted(occurrence_ids)}}) == expected
            and not plc.db.outbox.count_documents({"event.type": REMINDER,
                                                   "event.subject": {"$in": sorted(occurrence_ids)}}))


def test_reminders_go_out_exactly_once_across_a_killed_and_restarted_scheduling(services, made):
    """Sessions are scheduled, scheduling is killed (SIGKILL) and started, and its reminder job
    reminds them; more are scheduled; killed and started again, the job reminds only the new
    ones; killed and started once more, nothing again: one event per (occurrence, person)."""
    first = (dt.datetime.now(dt.UTC) + dt.timedelta(hours=2)).replace(minute=0, second=0, microsecond=0)
    plc = made("rmg", first, members=3)
    original = services.processes["scheduling"].spec.env
    # The job scans once at start and then not again during the test: nothing of this test's is
    # in flight when scheduling is killed, so no write of theirs waits for the database to give
    # up an abandoned transaction (60 s).
    once = {**original, "COPNET_REMINDER_INTERVAL_SECONDS": "3600"}

    def schedule(hours: range) -> set[str]:
        sessions = [plc.session(first + dt.timedelta(hours=hour), minutes=50) for hour in hours]
        return {occurrence.id for session in sessions for occurrence in plc.occurrences(session.id)}

    try:
        kill(services, "scheduling")
        start(services, "scheduling", once)
        before = schedule(range(0, 6, 2))
        kill(services, "scheduling")
        start(services, "scheduling")
        services.wait_for(lambda: settled(services, plc, before), 30, "the first reminders")

        after = schedule(range(6, 12, 2))
        kill(services, "scheduling")
        start(services, "scheduling")
        services.wait_for(lambda: settled(services, plc, before | after), 30, "the reminders after a restart")

        kill(services, "scheduling")
        start(services, "scheduling", original)
        plc.run()   # the restarted job's first scan is done or running: this one competes with it
    finally:
        if services.processes["scheduling"].spec.env is not original:
            kill(services, "scheduling")
            start(services, "scheduling", original)
    reminded = plc.reminded(before | after)
    assert reminded == {(occurrence_id, person): 1 for occurrence_id in before | after for person in plc.everyone}
