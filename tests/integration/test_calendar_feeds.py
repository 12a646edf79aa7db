"""Calendar feeds over gRPC on the real stack: feed tokens (issued, rotated, only hashed), a
community's feed for its members only, a person's feed across their communities and audiences,
exceptions and cancellations as a calendar client reads them (vobject), and unknown formats.
Ids start with `cf`."""

from __future__ import annotations

import datetime as dt
import hashlib
import zoneinfo

import grpc
import pytest
import vobject
from copnet.kernel.timestamps import timestamp
from copnet.membership.v1 import membership_pb2
from copnet.scheduling.v1 import scheduling_pb2

from tests.integration.http import request
from tests.integration.scheduling_world import SchedulingWorld, current_program_year
from tests.integration.signup_world import rpc_error

pytestmark = pytest.mark.integration

LA = zoneinfo.ZoneInfo("America/Los_Angeles")
UTC = dt.UTC


def local(year: int, month: int, day: int, hour: int) -> dt.datetime:
    return dt.datetime(year, month, day, hour, tzinfo=LA).astimezone(UTC)


class Setup:
    """Two communities of one program: algebra (Ada, Ben on the Lincoln team, Cy) and geometry
    (Ada), both facilitated by Fay; Sol belongs to neither."""

    def __init__(self, services, prefix: str):
        self.world = world = SchedulingWorld(services, prefix)
        self.region = services.settings.region
        self.year = int(current_program_year()[:4])
        self.db = world._mongo[services.settings.database_name("scheduling")]
        program = world.program()
        self.fay, self.ada, self.ben, self.cy, self.sol = (world.person(n) for n in ("fay", "ada", "ben", "cy", "sol"))
        self.algebra = world.program_community("algebra", program, members=[self.ada, self.ben, self.cy],
                                               facilitators=[self.fay])
        self.geometry = world.program_community("geometry", program, members=[self.ada], facilitators=[self.fay])
        self.team = world.membership(world.admin).CreateTeam(membership_pb2.CreateTeamRequest(
            community_id=self.algebra, team_id=f"{prefix}-lincoln", kind=membership_pb2.TEAM_KIND_SCHOOL, name="Lincoln",
            school_id=world.school, members=[membership_pb2.TeamMemberSpec(person_id=self.ben, role=membership_pb2.TEAM_ROLE_MEMBER)])).team

    def token_for(self, person_id: str, bearer: str | None = None) -> str:
        reply = self.world.scheduling(bearer or self.world.token_of(person_id)).IssueFeedToken(scheduling_pb2.IssueFeedTokenRequest(person_id=person_id))
        assert reply.person_id == person_id
        return reply.token

    def community_feed(self, community_id: str, token: str, fmt: str = "") -> scheduling_pb2.ExportCalendarResponse:
        # No bearer token: a calendar client has only the URL.
        return self.world.scheduling().ExportCommunityCalendar(scheduling_pb2.ExportCommunityCalendarRequest(
            community_id=community_id, token=token, format=fmt))

    def person_feed(self, person_id: str, token: str, fmt: str = "") -> scheduling_pb2.ExportCalendarResponse:
        return self.world.scheduling().ExportPersonCalendar(scheduling_pb2.ExportPersonCalendarRequest(
            person_id=person_id, token=token, format=fmt))

    def session(self, community_id: str, start: dt.datetime, **fields) -> scheduling_pb2.Session:
        return self.world.session(community_id, start, **fields).session

    def occurrences(self, session_id: str) -> list[scheduling_pb2.Occurrence]:
        return list(self.world.scheduling(self.world.admin).ListOccurrences(scheduling_pb2.ListOccurrencesRequest(
            session_id=session_id, include_cancelled=True, page_size=1000)).occurrences)

    def uid(self, session: scheduling_pb2.Session) -> str:
        return f"{session.id}@{self.region}.copnet"


@pytest.fixture
def setup(services, request):
    made = Setup(services, f"cf{abs(hash(request.node.name)) % 10**6}")
    yield made
    made.world.close()


def calendar_of(reply: scheduling_pb2.ExportCalendarResponse):
    assert reply.media_type == "text/calendar; charset=utf-8"
    return vobject.readOne(reply.content.decode("utf-8"))


def masters(calendar) -> dict[str, object]:
    return {e.uid.value: e for e in calendar.contents.get("vevent", []) if not hasattr(e, "recurrence_id")}


def client_view(calendar, uid: str) -> list[tuple[dt.datetime, dt.datetime]]:
    """(start, end) in UTC of every instance of `uid` a calendar client shows as happening."""
    events = [e for e in calendar.vevent_list if e.uid.value == uid]
    [master] = [e for e in events if not hasattr(e, "recurrence_id")]
    if master.status.value == "CANCELLED":
        return []
    overrides = {o.recurrence_id.value.astimezone(UTC): o for o in events if hasattr(o, "recurrence_id")}
    length = master.dtend.value - master.dtstart.value
    shown = []
    for start in (d.astimezone(UTC) for d in master.getrruleset(addRDate=True)):
        override = overrides.get(start)
        if override is None:
            shown.append((start, start + length))
        elif override.status.value != "CANCELLED":
            shown.append((override.dtstart.value.astimezone(UTC), override.dtend.value.astimezone(UTC)))
    return sorted(shown)


def happening(occurrences: list[scheduling_pb2.Occurrence]) -> list[tuple[dt.datetime, dt.datetime]]:
    return sorted((o.start_time.ToDatetime(tzinfo=UTC), o.end_time.ToDatetime(tzinfo=UTC)) for o in occurrences
                  if o.status != scheduling_pb2.OCCURRENCE_STATUS_CANCELLED)


# -- tokens ----------------------------------------------------------------------------------------
def test_a_new_token_ends_the_old_one_and_only_its_hash_is_kept(setup):
    setup.session(setup.algebra, local(setup.year, 10, 13, 16))
    first = setup.token_for(setup.ada)
    assert calendar_of(setup.community_feed(setup.algebra, first))
    second = setup.token_for(setup.ada)
    assert second != first and len(second) >= 40
    refused = rpc_error(setup.community_feed, setup.algebra, first)
    assert (refused.code, refused.reason) == (grpc.StatusCode.UNAUTHENTICATED, "FEED_TOKEN_INVALID")
    assert calendar_of(setup.person_feed(setup.ada, second))
    stored = setup.db.feed_tokens.find_one({"_id": setup.ada})
    assert stored["token_hash"] == hashlib.sha256(second.encode()).hexdigest()
    assert second not in str(list(setup.db.feed_tokens.find()))


def test_the_token_is_the_persons_own_to_issue_not_even_a_managers(setup):
    empty = setup.world.scheduling(setup.world.token_of(setup.cy)).IssueFeedToken(scheduling_pb2.IssueFeedTokenRequest())
    assert empty.person_id == setup.cy and empty.token and empty.issue_time.seconds > 0
    own = setup.token_for(setup.ada)
    for bearer in (setup.world.manager(), setup.world.admin, setup.world.token_of(setup.ben)):
        denied = rpc_error(setup.world.scheduling(bearer).IssueFeedToken, scheduling_pb2.IssueFeedTokenRequest(person_id=setup.ada))
        assert (denied.code, denied.reason) == (grpc.StatusCode.PERMISSION_DENIED, "SELF_ONLY")
    nobody = rpc_error(setup.world.scheduling(setup.world.manager()).IssueFeedToken, scheduling_pb2.IssueFeedTokenRequest(person_id="no-such-person"))
    assert (nobody.code, nobody.reason) == (grpc.StatusCode.PERMISSION_DENIED, "SELF_ONLY")
    assert calendar_of(setup.person_feed(setup.ada, own))  # her subscription still works
    anonymous = rpc_error(setup.world.scheduling().IssueFeedToken, scheduling_pb2.IssueFeedTokenRequest(person_id=setup.ada))
    assert anonymous.code == grpc.StatusCode.UNAUTHENTICATED


# -- a community's feed ------------------------------------------------------------------------------
def test_a_communitys_feed_is_for_its_members_and_facilitators(setup):
    series = setup.session(setup.algebra, local(setup.year, 10, 13, 16), recurrence="FREQ=MONTHLY;BYDAY=2TU",
                           title="Algebra monthly", agenda="Bring a task.", meeting_url="https://meet.example.org/a")
    for person in (setup.ada, setup.fay):
        reply = setup.community_feed(setup.algebra, setup.token_for(person))
        assert reply.filename == "algebra.ics"
        calendar = calendar_of(reply)
        assert calendar.x_wr_calname.value == "algebra" and calendar.x_wr_timezone.value == "America/Los_Angeles"
        event = masters(calendar)[setup.uid(series)]
        assert event.summary.value == "Algebra monthly" and event.url.value == "https://meet.example.org/a"
        assert event.description.value.startswith("Bring a task.") and "Regular convening" in event.description.value
        assert client_view(calendar, setup.uid(series)) == happening(setup.occurrences(series.id))

    outsider = rpc_error(setup.community_feed, setup.algebra, setup.token_for(setup.sol))
    assert (outsider.code, outsider.reason) == (grpc.StatusCode.PERMISSION_DENIED, "NOT_A_MEMBER")
    other = rpc_error(setup.community_feed, setup.algebra, setup.token_for(setup.fay)[:-2] + "xx")
    assert (other.code, other.reason) == (grpc.StatusCode.UNAUTHENTICATED, "FEED_TOKEN_INVALID")
    missing = rpc_error(setup.community_feed, setup.algebra, "")
    assert (missing.code, missing.reason) == (grpc.StatusCode.UNAUTHENTICATED, "FEED_TOKEN_INVALID")


def test_a_series_across_the_daylight_saving_change_as_a_client_reads_it(setup):
    series = setup.session(setup.algebra, local(setup.year, 10, 13, 16), recurrence="FREQ=MONTHLY;BYDAY=2TU")
    calendar = calendar_of(setup.community_feed(setup.algebra, setup.token_for(setup.cy)))
    shown = client_view(calendar, setup.uid(series))
    # 4 pm in Los Angeles: 23:00Z in daylight time (October), 00:00Z the next day after November 1.
    assert [start.strftime("%m-%dT%H:%MZ") for start, _ in shown[:3]] == [
        local(setup.year, 10, 13, 16).strftime("%m-%dT%H:%MZ"), *(
            local(setup.year, month, day, 16).strftime("%m-%dT%H:%MZ") for month, day in second_tuesdays(setup.year))]
    assert {start.astimezone(LA).hour for start, _ in shown} == {16}
    assert shown == happening(setup.occurrences(series.id))
    parts = {c.name for c in calendar.vtimezone.getChildren() if c.name in ("STANDARD", "DAYLIGHT")}
    assert parts == {"STANDARD", "DAYLIGHT"}


def second_tuesdays(year: int) -> list[tuple[int, int]]:
    """November's and December's second Tuesdays of `year`."""
    days = []
    for month in (11, 12):
        first = dt.date(year, month, 1)
        days.append((month, 1 + (1 - first.weekday()) % 7 + 7))
    return days


def test_a_moved_and_a_cancelled_occurrence_reach_the_client_and_the_uid_stays(setup):
    series = setup.session(setup.algebra, local(setup.year, 10, 13, 16), recurrence="FREQ=MONTHLY;BYDAY=2TU",
                           modality=scheduling_pb2.MODALITY_HYBRID, venue=scheduling_pb2.Venue(name="Lincoln MS library", address="12 Oak Ave"),
                           meeting_url="https://meet.example.org/a")
    token = setup.token_for(setup.ada)
    before = masters(calendar_of(setup.community_feed(setup.algebra, token)))[setup.uid(series)]
    assert before.location.value == "Lincoln MS library, 12 Oak Ave"
    occurrences = setup.occurrences(series.id)
    cancelled, moved = occurrences[2], occurrences[4]
    setup.world.scheduling(setup.world.admin).CancelOccurrence(scheduling_pb2.CancelOccurrenceRequest(id=cancelled.id, reason="Testing week"))
    new_start = moved.start_time.ToDatetime(tzinfo=UTC) + dt.timedelta(days=2)
    setup.world.scheduling(setup.world.admin).MoveOccurrence(scheduling_pb2.MoveOccurrenceRequest(
        id=moved.id, start_time=timestamp(new_start),
        venue=scheduling_pb2.Venue(name="County Office, Room 12", address="1 Main St")))

    calendar = calendar_of(setup.community_feed(setup.algebra, token))
    after = masters(calendar)[setup.uid(series)]
    assert int(after.sequence.value) > int(before.sequence.value)
    excluded = [d.astimezone(UTC) for d in after.getrruleset(addRDate=True)]
    assert cancelled.original_start_time.ToDatetime(tzinfo=UTC) not in excluded
    [override] = [e for e in calendar.vevent_list if hasattr(e, "recurrence_id")
                  and e.recurrence_id.value.astimezone(UTC) == moved.original_start_time.ToDatetime(tzinfo=UTC)]
    assert override.uid.value == setup.uid(series) and override.dtstart.value.astimezone(UTC) == new_start
    assert override.location.value == "County Office, Room 12, 1 Main St"
    assert client_view(calendar, setup.uid(series)) == happening(setup.occurrences(series.id))


def test_a_cancelled_session_stays_in_the_feed_as_cancelled(setup):
    single = setup.session(setup.algebra, local(setup.year + 1, 5, 18, 9), minutes=60, title="Spring kick-off")
    token = setup.token_for(setup.ben)
    assert masters(calendar_of(setup.person_feed(setup.ben, token)))[setup.uid(single)].status.value == "CONFIRMED"
    setup.world.scheduling(setup.world.admin).CancelSession(scheduling_pb2.CancelSessionRequest(id=single.id, reason="Snow day"))
    event = masters(calendar_of(setup.person_feed(setup.ben, token)))[setup.uid(single)]
    assert event.status.value == "CANCELLED" and int(event.sequence.value) >= 1


# -- a person's feed -----------------------------------------------------------------------------------
def test_a_persons_feed_spans_their_communities_and_only_their_audiences(setup):
    algebra = setup.session(setup.algebra, local(setup.year + 1, 1, 12, 16), title="Algebra")
    geometry = setup.session(setup.geometry, local(setup.year + 1, 1, 14, 16), title="Geometry")
    lincoln = setup.session(setup.algebra, local(setup.year + 1, 1, 19, 16), title="Lincoln team",
                            audience=scheduling_pb2.AUDIENCE_TEAM, team_id=setup.team.id)

    ada = setup.person_feed(setup.ada, setup.token_for(setup.ada))
    assert ada.filename == "ada.ics"
    assert set(masters(calendar_of(ada))) == {setup.uid(algebra), setup.uid(geometry)}
    ben = calendar_of(setup.person_feed(setup.ben, setup.token_for(setup.ben)))
    assert set(masters(ben)) == {setup.uid(algebra), setup.uid(lincoln)}
    fay = calendar_of(setup.person_feed(setup.fay, setup.token_for(setup.fay)))
    assert set(masters(fay)) == {setup.uid(algebra), setup.uid(geometry), setup.uid(lincoln)}
    sol = calendar_of(setup.person_feed(setup.sol, setup.token_for(setup.sol)))
    assert masters(sol) == {} and sol.x_wr_timezone.value == "UTC"

    someone_else = rpc_error(setup.person_feed, setup.ada, setup.token_for(setup.ben))
    assert (someone_else.code, someone_else.reason) == (grpc.StatusCode.UNAUTHENTICATED, "FEED_TOKEN_INVALID")


# -- formats -------------------------------------------------------------------------------------------
def test_an_unknown_format_is_refused_naming_the_available_ones(setup):
    token = setup.token_for(setup.ada)
    for call, target in ((setup.community_feed, setup.algebra), (setup.person_feed, setup.ada)):
        refused = rpc_error(call, target, token, "pdf")
        assert (refused.code, refused.reason) == (grpc.StatusCode.INVALID_ARGUMENT, "UNKNOWN_FORMAT")
        assert [f.field for f in refused.fields] == ["format"] and "ics" in refused.message
    assert calendar_of(setup.community_feed(setup.algebra, token, "ics"))


def test_an_equity_sessions_fields_and_what_to_prepare_are_in_its_description(stack, setup):
    lead = stack.token("regional_lead", setup.world.region, person=f"{setup.world.prefix}-lead")
    reply = request("PUT", f"{stack.gateway_url}/api/v1/regions/{setup.world.region}/plugins/equity-sessions",
                    json_body={"enabled": True, "settings": {}}, token=lead)
    assert reply.status == 200, reply.text

    def offered() -> bool:
        types = setup.world.scheduling(setup.world.admin).ListSessionTypes(scheduling_pb2.ListSessionTypesRequest(
            community_id=setup.algebra)).session_types
        return "equity_culturally_responsive_tasks" in {t.key for t in types}

    stack.wait_for(offered, 30, "the equity session types in the world's region")
    session = setup.session(setup.algebra, local(setup.year, 10, 17, 9),
                            session_type="equity_culturally_responsive_tasks",
                            modality=scheduling_pb2.MODALITY_IN_PERSON, venue=scheduling_pb2.Venue(name="County office", address="1 Main St"),
                            fields_json='{"task_to_bring": "A fractions task", "grade_bands": ["3-5", "6-8"]}')
    calendar = calendar_of(setup.community_feed(setup.algebra, setup.token_for(setup.ada)))
    description = masters(calendar)[setup.uid(session)].description.value
    assert "Grade bands: 3-5, 6-8\nTask to bring: A fractions task\n" in description   # the schema's order
    assert "To prepare: Choose a task from a unit you will teach in the next month" in description
    assert "Session type: Culturally responsive math tasks" in description
