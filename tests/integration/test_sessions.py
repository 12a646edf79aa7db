"""Sessions and occurrences over gRPC on the real stack: single sessions and series, exceptions,
bad input with nothing written, room double-booking (also raced), overlap warnings, and a plugin's
session type with its own fields. Ids start with `ss`."""

from __future__ import annotations

import datetime as dt
import threading
import zoneinfo

import grpc
import pytest
from copnet.kernel.timestamps import timestamp
from copnet.scheduling.v1 import scheduling_pb2 as s

from tests.integration.http import request
from tests.integration.scheduling_world import SchedulingWorld, current_program_year
from tests.integration.signup_world import rpc_error, wait_for_events

pytestmark = pytest.mark.integration

LA = zoneinfo.ZoneInfo("America/Los_Angeles")


def year_start(program_year: str | None = None) -> int:
    return int((program_year or current_program_year())[:4])


def local(year: int, month: int, day: int, hour: int, minute: int = 0) -> dt.datetime:
    """A wall-clock time in the world's zone, as a UTC instant."""
    return dt.datetime(year, month, day, hour, minute, tzinfo=LA).astimezone(dt.UTC)


class Setup:
    """One program with a community (two facilitators, three members) per test prefix."""

    def __init__(self, services, prefix: str):
        self.world = SchedulingWorld(services, prefix)
        self.program = self.world.program()
        self.year = year_start()
        self.facilitator, self.cofacilitator = self.world.person("fac"), self.world.person("cofac")
        self.members = self.world.people(3, "m")
        self.community = self.world.program_community("plc", self.program, members=self.members,
                                                      facilitators=[self.facilitator, self.cofacilitator])
        self.scheduling = self.world.scheduling
        self.sdb = self.world._mongo[services.settings.database_name("scheduling")]

    def occurrences(self, session_id: str, include_cancelled: bool = True) -> list[s.Occurrence]:
        return list(self.scheduling("ListOccurrences", s.ListOccurrencesRequest(
            session_id=session_id, include_cancelled=include_cancelled, page_size=1000),
            token=self.world.admin).occurrences)

    def close(self):
        self.world.close()


@pytest.fixture
def setup(services, request):
    made = Setup(services, f"ss{abs(hash(request.node.name)) % 10**6}")
    yield made
    made.close()


def test_a_single_session_has_one_occurrence_and_defaults_from_its_type_and_community(setup, services):
    start = local(setup.year, 10, 13, 16)
    reply = setup.scheduling("CreateSession", s.CreateSessionRequest(
        community_id=setup.community, session_type="regular_convening", start_time=timestamp(start)),
        token=setup.world.admin)
    session = reply.session
    assert session.title == "Regular convening"
    assert session.end_time.ToDatetime(tzinfo=dt.UTC) - start == dt.timedelta(minutes=180)
    assert session.time_zone == "America/Los_Angeles"
    assert session.modality == s.MODALITY_VIRTUAL and session.audience == s.AUDIENCE_ALL_MEMBERS
    assert sorted(session.facilitator_ids) == sorted([setup.facilitator, setup.cofacilitator])
    assert session.occurrence_count == 1 and session.sequence == 0 and session.program_id == setup.program
    [occurrence] = setup.occurrences(session.id)
    assert occurrence.id == f"{session.id}:{start:%Y%m%dT%H%M%SZ}"
    assert occurrence.status == s.OCCURRENCE_STATUS_SCHEDULED and occurrence.title == "Regular convening"
    assert setup.scheduling("GetOccurrence", s.GetOccurrenceRequest(id=occurrence.id),
                            token=setup.world.admin).occurrence == occurrence
    listed = setup.scheduling("ListSessions", s.ListSessionsRequest(community_id=setup.community),
                              token=setup.world.admin).sessions
    assert [x.id for x in listed] == [session.id]
    wait_for_events(services, "copnet.scheduling.session.created", {session.id})


def test_a_monthly_series_stays_at_four_pm_local_across_the_daylight_saving_change(setup):
    start = local(setup.year, 9, 8, 16)   # the second Tuesday of September is on or after the 8th
    start = start + dt.timedelta(days=(1 - start.astimezone(LA).weekday()) % 7)
    reply = setup.world.session(setup.community, start, minutes=120, recurrence="FREQ=MONTHLY;BYDAY=2TU;COUNT=5")
    occurrences = setup.occurrences(reply.session.id)
    assert reply.session.occurrence_count == 5 == len(occurrences)
    for occurrence in occurrences:
        begins = occurrence.start_time.ToDatetime(tzinfo=dt.UTC).astimezone(LA)
        assert (begins.hour, begins.weekday(), (begins.day - 1) // 7) == (16, 1, 1)
    hours = [o.start_time.ToDatetime(tzinfo=dt.UTC).hour for o in occurrences]
    assert hours[:2] == [23, 23] and hours[2:] == [0, 0, 0]   # November: Pacific standard time
