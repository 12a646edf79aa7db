"""What the scheduling routes send to scheduling and how they shape replies and errors (fakes)."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime

import pytest
from google.protobuf import timestamp_pb2

from copnet.gateway.schemas.attendance import AttendanceStatus
from copnet.gateway.schemas.milestones import MilestoneKind
from copnet.gateway.schemas.sessions import Audience, ConflictKind, Modality, OccurrenceStatus, SessionStatus
from copnet.kernel.errors import FailedPrecondition, InvalidArgument
from copnet.scheduling.v1 import scheduling_pb2
from tests.unit.gateway_fakes import FakeRpcError, assert_problem, bearer

LA = "America/Los_Angeles"
# Tuesday 8 December 2026, 15:30 in Los Angeles (PST, UTC-8).
START = datetime(2026, 12, 8, 23, 30, tzinfo=UTC)
END = datetime(2026, 12, 9, 1, 30, tzinfo=UTC)
CREATED = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)


def timestamp(moment: datetime) -> timestamp_pb2.Timestamp:
    result = timestamp_pb2.Timestamp()
    result.FromDatetime(moment)
    return result


def session(**fields) -> scheduling_pb2.Session:
    return scheduling_pb2.Session(**{
        "id": "s1", "community_id": "c1", "session_type": "regular_convening", "title": "Monthly convening",
        "facilitator_ids": ["f1"], "start_time": timestamp(START), "end_time": timestamp(END), "time_zone": LA,
        "recurrence": "FREQ=MONTHLY;BYDAY=2TU", "modality": scheduling_pb2.MODALITY_VIRTUAL, "audience": scheduling_pb2.AUDIENCE_ALL_MEMBERS,
        "status": scheduling_pb2.SESSION_STATUS_SCHEDULED, "occurrence_count": 7, "created_by": "f1",
        "create_time": timestamp(CREATED), **fields})


def occurrence(**fields) -> scheduling_pb2.Occurrence:
    return scheduling_pb2.Occurrence(**{
        "id": "s1:20261208T233000Z", "session_id": "s1", "community_id": "c1",
        "original_start_time": timestamp(START), "start_time": timestamp(START), "end_time": timestamp(END),
        "status": scheduling_pb2.OCCURRENCE_STATUS_SCHEDULED, "title": "Monthly convening", "session_type": "regular_convening",
        "modality": scheduling_pb2.MODALITY_VIRTUAL, "audience": scheduling_pb2.AUDIENCE_ALL_MEMBERS, "time_zone": LA, **fields})


def overlap() -> scheduling_pb2.ConflictWarning:
    return scheduling_pb2.ConflictWarning(
        kind=scheduling_pb2.ConflictWarning.KIND_FACILITATOR_OVERLAP, person_id="f1", occurrence_id="s1:20261208T233000Z",
        other_occurrence_id="s9:20261208T230000Z", other_session_id="s9", other_community_id="c9",
        other_start_time=timestamp(START), other_end_time=timestamp(END), message="f1 is facilitating c9 then")


def sent(clients, method: str):
    calls = [call for call in clients["scheduling"].calls if call.method == method]
    assert len(calls) == 1, [call.method for call in clients["scheduling"].calls]
    return calls[0].request


# -- enums ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("model, proto_enum, prefix", [
    (MilestoneKind, scheduling_pb2.MilestoneKind, "MILESTONE_KIND_"),
    (Modality, scheduling_pb2.Modality, "MODALITY_"),
    (Audience, scheduling_pb2.Audience, "AUDIENCE_"),
    (SessionStatus, scheduling_pb2.SessionStatus, "SESSION_STATUS_"),
    (OccurrenceStatus, scheduling_pb2.OccurrenceStatus, "OCCURRENCE_STATUS_"),
    (AttendanceStatus, scheduling_pb2.AttendanceStatus, "ATTENDANCE_STATUS_"),
    (ConflictKind, scheduling_pb2.ConflictWarning.Kind, "KIND_"),
])
def test_enums_match_the_proto(model, proto_enum, prefix):
    proto_values = {name.removeprefix(prefix).lower() for name in proto_enum.keys() if not name.endswith("UNSPECIFIED")}
    assert {member.value for member in model} == proto_values


# -- sessions -------------------------------------------------------------------------------------
def test_create_session_sends_the_body_and_answers_201_with_location_local_times_and_warnings(client, clients):
    clients["scheduling"].replies["CreateSession"] = scheduling_pb2.CreateSessionResponse(
        session=session(fields_json='{"protocol": "data dive"}', modality=scheduling_pb2.MODALITY_HYBRID,
                        venue=scheduling_pb2.Venue(name="Room 4", address="1 Main St"), meeting_url="https://meet.example/x"),
        warnings=[overlap()])
    response = client.post("/api/v1/communities/c1/sessions", headers=bearer(), json={
        "id": "s1", "session_type": "equity_data_dive", "start_time": "2026-12-08T15:30:00-08:00",
        "end_time": "2026-12-08T17:30:00-08:00", "recurrence": "FREQ=MONTHLY;BYDAY=2TU", "modality": "hybrid",
        "venue": {"name": "Room 4", "address": "1 Main St"}, "meeting_url": "https://meet.example/x",
        "audience": "team", "team_id": "t1", "capacity": 20, "fields": {"protocol": "data dive"}})
    assert response.status_code == 201, response.get_json()
    assert response.headers["Location"].endswith("/api/v1/sessions/s1")
    request = sent(clients, "CreateSession")
    assert (request.session_id, request.community_id, request.session_type) == ("s1", "c1", "equity_data_dive")
    assert request.start_time.ToDatetime(tzinfo=UTC) == START and request.end_time.ToDatetime(tzinfo=UTC) == END
    assert (request.modality, request.audience, request.team_id, request.capacity) == (
        scheduling_pb2.MODALITY_HYBRID, scheduling_pb2.AUDIENCE_TEAM, "t1", 20)
    assert request.venue == scheduling_pb2.Venue(name="Room 4", address="1 Main St")
    assert json.loads(request.fields_json) == {"protocol": "data dive"}
    body = response.get_json()
    assert body["start_time"] == "2026-12-08T23:30:00Z"
    assert body["local_start"] == "2026-12-08T15:30:00-08:00" and body["local_end"] == "2026-12-08T17:30:00-08:00"
    assert body["fields"] == {"protocol": "data dive"}
    assert body["venue"] == {"name": "Room 4", "address": "1 Main St"}
    assert (body["modality"], body["audience"], body["status"]) == ("hybrid", "all_members", "scheduled")
    assert (body["program_id"], body["team_id"], body["cancel_reason"], body["updated_at"]) == (None, None, None, None)
    assert body["warnings"] == [{
        "kind": "facilitator_overlap", "person_id": "f1", "occurrence_id": "s1:20261208T233000Z",
        "other_occurrence_id": "s9:20261208T230000Z", "other_session_id": "s9", "other_community_id": "c9",
        "other_start_time": "2026-12-08T23:30:00Z", "other_end_time": "2026-12-09T01:30:00Z",
        "message": "f1 is facilitating c9 then"}]


def test_a_minimal_session_leaves_the_defaults_to_the_service(client, clients):
    clients["scheduling"].replies["CreateSession"] = scheduling_pb2.CreateSessionResponse(session=session(recurrence=""))
    response = client.post("/api/v1/communities/c1/sessions", headers=bearer(),
                           json={"session_type": "regular_convening", "start_time": "2026-12-08T23:30:00Z"})
    assert response.status_code == 201
    request = sent(clients, "CreateSession")
    assert not request.HasField("end_time") and not request.HasField("venue")
    assert (request.session_id, request.fields_json, list(request.facilitator_ids)) == ("", "", [])
    assert (request.modality, request.audience) == (scheduling_pb2.MODALITY_VIRTUAL, scheduling_pb2.AUDIENCE_ALL_MEMBERS)
    body = response.get_json()
    assert (body["recurrence"], body["venue"], body["meeting_url"], body["warnings"]) == (None, None, None, [])


@pytest.mark.parametrize("body, field", [
    ({"session_type": "x", "start_time": "2026-12-08T15:30:00"}, "start_time"),  # no offset
    ({"session_type": "x", "start_time": "2026-12-08T23:30:00Z", "audience": "team"}, "team_id"),
    ({"session_type": "x", "start_time": "2026-12-08T23:30:00Z", "modality": "online"}, "modality"),
    ({"session_type": "x", "start_time": "2026-12-08T23:30:00Z", "fields_json": "{}"}, "fields_json"),
    ({"session_type": "x", "start_time": "2026-12-08T23:30:00Z", "capacity": -1}, "capacity"),
])
def test_bad_session_bodies_are_refused_before_any_call(client, clients, body, field):
    problem = assert_problem(client.post("/api/v1/communities/c1/sessions", headers=bearer(), json=body),
                             422, "VALIDATION_FAILED")
    assert field in {error["field"] for error in problem["errors"]}
    assert clients.all_calls() == []


def test_patch_sends_what_was_sent_and_null_clears(client, clients):
    clients["scheduling"].replies["UpdateSession"] = scheduling_pb2.UpdateSessionResponse(session=session())
    response = client.patch("/api/v1/sessions/s1", headers=bearer(), json={
        "title": "New title", "venue": None, "meeting_url": None, "facilitator_ids": ["f2"],
        "start_time": "2026-12-08T16:00:00-08:00", "fields": {}})
    assert response.status_code == 200, response.get_json()
    request = sent(clients, "UpdateSession")
    assert request.id == "s1" and request.title == "New title"
    assert request.clear_venue and not request.HasField("venue")
    assert request.HasField("meeting_url") and request.meeting_url == ""
    assert request.set_facilitator_ids and list(request.facilitator_ids) == ["f2"]
    assert request.start_time.ToDatetime(tzinfo=UTC) == datetime(2026, 12, 9, 0, 0, tzinfo=UTC)
    assert request.HasField("fields_json") and request.fields_json == "{}"
    for untouched in ("agenda", "recurrence", "team_id", "capacity"):
        assert not request.HasField(untouched), untouched
    assert not request.HasField("end_time") and request.modality == scheduling_pb2.MODALITY_UNSPECIFIED
    assert response.get_json()["warnings"] == []


def test_patch_with_an_empty_body_changes_nothing(client, clients):
    clients["scheduling"].replies["UpdateSession"] = scheduling_pb2.UpdateSessionResponse(session=session())
    assert client.patch("/api/v1/sessions/s1", headers=bearer(), json={}).status_code == 200
    assert sent(clients, "UpdateSession") == scheduling_pb2.UpdateSessionRequest(id="s1")


def test_cancel_session_sends_the_reason(client, clients):
    clients["scheduling"].replies["CancelSession"] = scheduling_pb2.CancelSessionResponse(
        session=session(status=scheduling_pb2.SESSION_STATUS_CANCELLED, cancel_reason="Snow"))
    body = client.post("/api/v1/sessions/s1/cancel", headers=bearer(), json={"reason": "Snow"}).get_json()
    assert sent(clients, "CancelSession") == scheduling_pb2.CancelSessionRequest(id="s1", reason="Snow")
    assert (body["status"], body["cancel_reason"]) == ("cancelled", "Snow")


def test_list_sessions_pages_and_filters(client, clients):
    clients["scheduling"].replies["ListSessions"] = scheduling_pb2.ListSessionsResponse(sessions=[session()], next_page_token="n")
    body = client.get("/api/v1/communities/c1/sessions?page_size=5&page_token=p&include_cancelled=true",
                      headers=bearer()).get_json()
    assert sent(clients, "ListSessions") == scheduling_pb2.ListSessionsRequest(community_id="c1", page_size=5, page_token="p",
                                                                               include_cancelled=True)
    assert body["next_page_token"] == "n" and [s["id"] for s in body["items"]] == ["s1"]


# -- occurrences ----------------------------------------------------------------------------------
@pytest.mark.parametrize("path, owner", [
    ("/api/v1/communities/c1/occurrences", {"community_id": "c1"}),
    ("/api/v1/sessions/s1/occurrences", {"session_id": "s1"}),
    ("/api/v1/people/p1/occurrences", {"person_id": "p1"}),
])
def test_occurrence_lists_send_their_owner_and_the_window(client, clients, path, owner):
    clients["scheduling"].replies["ListOccurrences"] = scheduling_pb2.ListOccurrencesResponse(occurrences=[occurrence()])
    response = client.get(f"{path}?start=2026-12-01T00:00:00-08:00&end=2027-01-01T00:00:00Z&include_cancelled=true",
                          headers=bearer())
    assert response.status_code == 200, response.get_json()
    expected = scheduling_pb2.ListOccurrencesRequest(include_cancelled=True, **owner)
    expected.start_time.FromDatetime(datetime(2026, 12, 1, 8, tzinfo=UTC))
    expected.end_time.FromDatetime(datetime(2027, 1, 1, tzinfo=UTC))
    assert sent(clients, "ListOccurrences") == expected
    item = response.get_json()["items"][0]
    assert (item["id"], item["original_start_time"], item["local_start"]) == (
        "s1:20261208T233000Z", "2026-12-08T23:30:00Z", "2026-12-08T15:30:00-08:00")


def test_an_occurrence_window_that_ends_before_it_starts_is_refused(client, clients):
    response = client.get("/api/v1/communities/c1/occurrences?start=2027-01-01T00:00:00Z&end=2026-12-01T00:00:00Z",
                          headers=bearer())
    problem = assert_problem(response, 422, "VALIDATION_FAILED")
    assert [error["field"] for error in problem["errors"]] == ["end"]
    assert clients.all_calls() == []


def test_move_sends_the_new_time_and_room_and_answers_the_occurrence_with_warnings(client, clients):
    moved = occurrence(status=scheduling_pb2.OCCURRENCE_STATUS_MOVED,
                       start_time=timestamp(datetime(2026, 12, 15, 23, 30, tzinfo=UTC)),
                       end_time=timestamp(datetime(2026, 12, 16, 1, 30, tzinfo=UTC)))
    clients["scheduling"].replies["MoveOccurrence"] = scheduling_pb2.MoveOccurrenceResponse(occurrence=moved, warnings=[overlap()])
    response = client.post("/api/v1/occurrences/s1:20261208T233000Z/move", headers=bearer(),
                           json={"start_time": "2026-12-15T15:30:00-08:00", "venue": {"name": "Library"}})
    assert response.status_code == 200, response.get_json()
    request = sent(clients, "MoveOccurrence")
    assert request.id == "s1:20261208T233000Z"
    assert request.start_time.ToDatetime(tzinfo=UTC) == datetime(2026, 12, 15, 23, 30, tzinfo=UTC)
    assert not request.HasField("end_time") and request.venue == scheduling_pb2.Venue(name="Library")
    body = response.get_json()
    assert (body["status"], body["original_start_time"], body["start_time"]) == (
        "moved", "2026-12-08T23:30:00Z", "2026-12-15T23:30:00Z")
    assert [w["kind"] for w in body["warnings"]] == ["facilitator_overlap"]


def test_cancel_and_restore_one_occurrence(client, clients):
    clients["scheduling"].replies["CancelOccurrence"] = scheduling_pb2.CancelOccurrenceResponse(
        occurrence=occurrence(status=scheduling_pb2.OCCURRENCE_STATUS_CANCELLED, cancel_reason="Holiday"))
    clients["scheduling"].replies["RestoreOccurrence"] = scheduling_pb2.RestoreOccurrenceResponse(occurrence=occurrence())
    cancelled = client.post("/api/v1/occurrences/s1:20261208T233000Z/cancel", headers=bearer(),
                            json={"reason": "Holiday"}).get_json()
    assert (cancelled["status"], cancelled["cancel_reason"]) == ("cancelled", "Holiday")
    assert "warnings" not in cancelled
    restored = client.post("/api/v1/occurrences/s1:20261208T233000Z/restore", headers=bearer(), json={}).get_json()
    assert (restored["status"], restored["warnings"]) == ("scheduled", [])
    assert sent(clients, "RestoreOccurrence") == scheduling_pb2.RestoreOccurrenceRequest(id="s1:20261208T233000Z")


def test_a_room_double_booking_is_a_409_problem(client, clients):
    clients["scheduling"].replies["MoveOccurrence"] = FakeRpcError.of(
        FailedPrecondition("Room 4 is booked then", reason="ROOM_DOUBLE_BOOKED"))
    response = client.post("/api/v1/occurrences/s1:20261208T233000Z/move", headers=bearer(),
                           json={"start_time": "2026-12-15T23:30:00Z"})
    assert_problem(response, 409, "ROOM_DOUBLE_BOOKED")


# -- field names in the service's errors ----------------------------------------------------------
@pytest.mark.parametrize("service_field, json_name", [
    ("session_id", "id"), ("fields_json", "fields"), ("fields.protocol", "fields.protocol"),
    ("venue.name", "venue.name"), ("end_time", "end_time"), ("team_id", "team_id"),
])
def test_a_service_field_error_names_the_json_field(client, clients, service_field, json_name):
    clients["scheduling"].replies["CreateSession"] = FakeRpcError.of(
        InvalidArgument.for_field(service_field, "is wrong", reason="SOME_REASON"))
    response = client.post("/api/v1/communities/c1/sessions", headers=bearer(), json={
        "id": "s1", "session_type": "x", "start_time": "2026-12-08T23:30:00Z", "team_id": "t1", "audience": "team"})
    problem = assert_problem(response, 422, "SOME_REASON")
    assert [error["field"] for error in problem["errors"]] == [json_name]


def test_an_attendance_entry_error_keeps_its_index(client, clients):
    clients["scheduling"].replies["RecordAttendance"] = FakeRpcError.of(
        InvalidArgument.for_field("entries[1].person_id", "is not in the community", reason="NOT_IN_COMMUNITY"))
    response = client.put("/api/v1/occurrences/o1/attendance", headers=bearer(), json={"entries": [
        {"person_id": "a", "status": "present"}, {"person_id": "z", "status": "absent"}]})
    problem = assert_problem(response, 422, "NOT_IN_COMMUNITY")
    assert problem["errors"] == [{"field": "entries[1].person_id", "message": "is not in the community"}]


def test_writes_without_a_token_never_reach_scheduling(client, clients):
    for method, path in (("post", "/api/v1/communities/c1/sessions"), ("put", "/api/v1/occurrences/o1/attendance"),
                         ("post", "/api/v1/programs/p1/milestones"), ("post", "/api/v1/reminders/run")):
        assert_problem(getattr(client, method)(path, json={}), 401, "TOKEN_REQUIRED")
    assert clients.all_calls() == []


# -- attendance, participation, hours -------------------------------------------------------------
def record(person_id: str, status: int, minutes: int) -> scheduling_pb2.AttendanceRecord:
    return scheduling_pb2.AttendanceRecord(occurrence_id="o1", session_id="s1", community_id="c1", program_id="p1",
                                           person_id=person_id, status=status, attended_minutes=minutes, recorded_by="f1",
                                           record_time=timestamp(END))


def test_attendance_is_put_in_bulk_with_minutes_only_where_given(client, clients):
    clients["scheduling"].replies["RecordAttendance"] = scheduling_pb2.RecordAttendanceResponse(records=[
        record("a", scheduling_pb2.ATTENDANCE_STATUS_PRESENT, 120), record("b", scheduling_pb2.ATTENDANCE_STATUS_LATE, 90)])
    response = client.put("/api/v1/occurrences/o1/attendance", headers=bearer(), json={"entries": [
        {"person_id": "a", "status": "present"}, {"person_id": "b", "status": "late", "attended_minutes": 90},
        {"person_id": "c", "status": "excused", "note": "sick"}]})
    assert response.status_code == 200, response.get_json()
    request = sent(clients, "RecordAttendance")
    assert request.occurrence_id == "o1"
    assert [(e.person_id, e.status, e.HasField("attended_minutes"), e.note) for e in request.entries] == [
        ("a", scheduling_pb2.ATTENDANCE_STATUS_PRESENT, False, ""), ("b", scheduling_pb2.ATTENDANCE_STATUS_LATE, True, ""),
        ("c", scheduling_pb2.ATTENDANCE_STATUS_EXCUSED, False, "sick")]
    assert request.entries[1].attended_minutes == 90
    assert response.get_json()["items"][1] == {
        "occurrence_id": "o1", "session_id": "s1", "community_id": "c1", "program_id": "p1", "person_id": "b",
        "status": "late", "attended_minutes": 90, "note": "", "recorded_by": "f1",
        "recorded_at": "2026-12-09T01:30:00Z"}


@pytest.mark.parametrize("body", [{"entries": []}, {"entries": [{"person_id": "a", "status": "tardy"}]},
                                  {"entries": [{"person_id": "a", "status": "late", "attended_minutes": -5}]}, {}])
def test_bad_attendance_sheets_are_refused_before_any_call(client, clients, body):
    assert_problem(client.put("/api/v1/occurrences/o1/attendance", headers=bearer(), json=body), 422,
                   "VALIDATION_FAILED")
    assert clients.all_calls() == []


@pytest.mark.parametrize("path, owner", [
    ("/api/v1/occurrences/o1/attendance", {"occurrence_id": "o1"}),
    ("/api/v1/communities/c1/attendance", {"community_id": "c1"}),
    ("/api/v1/people/p1/attendance", {"person_id": "p1"}),
])
def test_attendance_lists_send_their_owner(client, clients, path, owner):
    clients["scheduling"].replies["ListAttendance"] = scheduling_pb2.ListAttendanceResponse(
        records=[record("a", scheduling_pb2.ATTENDANCE_STATUS_ABSENT, 0)], next_page_token="n")
    body = client.get(f"{path}?page_size=10", headers=bearer()).get_json()
    assert sent(clients, "ListAttendance") == scheduling_pb2.ListAttendanceRequest(page_size=10, **owner)
    assert body["next_page_token"] == "n" and body["items"][0]["status"] == "absent"


def test_participation_of_a_community_and_of_a_person(client, clients):
    person = scheduling_pb2.Participation(person_id="a", community_id="c1", expected=4, attended=3, late=1, absent=1,
                                          rate=0.75, attended_minutes=450)
    total = scheduling_pb2.Participation(community_id="c1", expected=4, attended=3, late=1, absent=1, rate=0.75,
                                         attended_minutes=450)
    clients["scheduling"].replies["GetCommunityParticipation"] = scheduling_pb2.GetCommunityParticipationResponse(
        community_id="c1", people=[person], total=total, occurrences_held=4)
    clients["scheduling"].replies["GetPersonParticipation"] = scheduling_pb2.GetPersonParticipationResponse(
        person_id="a", communities=[person], total=scheduling_pb2.Participation(person_id="a", expected=4, attended=3))
    community = client.get("/api/v1/communities/c1/participation", headers=bearer()).get_json()
    assert community["occurrences_held"] == 4 and community["total"]["person_id"] is None
    assert community["people"][0] == {"person_id": "a", "community_id": "c1", "expected": 4, "attended": 3, "late": 1,
                                      "absent": 1, "excused": 0, "unrecorded": 0, "rate": 0.75, "attended_minutes": 450}
    mine = client.get("/api/v1/people/a/participation", headers=bearer()).get_json()
    assert mine["total"]["community_id"] is None and mine["communities"][0]["community_id"] == "c1"


def hours_reply() -> scheduling_pb2.GetLearningHoursResponse:
    return scheduling_pb2.GetLearningHoursResponse(
        person_id="a", person_name="Ana <b>Ruiz</b>", program_id="p1", program_name="Math CoP & friends",
        program_year="2026-27", issuer_name="Bay Area Region", total_minutes=270, total_hours=4.5,
        issue_time=timestamp(datetime(2027, 6, 1, 18, tzinfo=UTC)), lines=[
            scheduling_pb2.LearningHoursLine(occurrence_id="s1:20261208T233000Z", session_id="s1", community_id="c1",
                                             community_name="Ratios <PLC>", title="Monthly convening",
                                             session_type="regular_convening", start_time=timestamp(START),
                                             end_time=timestamp(END), time_zone=LA, status=scheduling_pb2.ATTENDANCE_STATUS_PRESENT,
                                             attended_minutes=120),
            # After the switch to daylight time: the certificate prints PDT.
            scheduling_pb2.LearningHoursLine(occurrence_id="s1:20270413T223000Z", session_id="s1", community_id="c1",
                                             community_name="Ratios <PLC>", title="Monthly convening",
                                             session_type="regular_convening",
                                             start_time=timestamp(datetime(2027, 4, 13, 22, 30, tzinfo=UTC)),
                                             end_time=timestamp(datetime(2027, 4, 14, 0, 30, tzinfo=UTC)), time_zone=LA,
                                             status=scheduling_pb2.ATTENDANCE_STATUS_LATE, attended_minutes=150)])


def test_learning_hours_as_json(client, clients):
    clients["scheduling"].replies["GetLearningHours"] = hours_reply()
    body = client.get("/api/v1/people/a/programs/p1/hours", headers=bearer()).get_json()
    assert sent(clients, "GetLearningHours") == scheduling_pb2.GetLearningHoursRequest(person_id="a", program_id="p1")
    assert (body["total_minutes"], body["total_hours"], body["issued_at"]) == (270, 4.5, "2027-06-01T18:00:00Z")
    assert [line["local_start"] for line in body["lines"]] == ["2026-12-08T15:30:00-08:00",
                                                                 "2027-04-13T15:30:00-07:00"]


def test_the_certificate_is_printable_html_with_local_times_and_everything_escaped(client, clients):
    clients["scheduling"].replies["GetLearningHours"] = hours_reply()
    response = client.get("/api/v1/people/a/programs/p1/certificate", headers={**bearer(), "Accept": "text/html"})
    assert response.status_code == 200 and response.mimetype == "text/html"
    html = response.get_data(as_text=True)
    assert "Ana &lt;b&gt;Ruiz&lt;/b&gt;" in html and "<b>Ruiz" not in html
    assert "Math CoP &amp; friends (2026-27)" in html and "Ratios &lt;PLC&gt;" in html
    assert "Tue, December 8, 2026" in html and "3:30 PM–5:30 PM PST" in html
    assert "Tue, April 13, 2027" in html and "3:30 PM–5:30 PM PDT" in html
    assert "4.50 hours" in html and "270 minutes" in html and "Bay Area Region" in html
    assert "@media print" in html


def test_the_certificate_answers_its_data_when_json_is_asked_for(client, clients):
    clients["scheduling"].replies["GetLearningHours"] = hours_reply()
    response = client.get("/api/v1/people/a/programs/p1/certificate",
                          headers={**bearer(), "Accept": "application/json"})
    assert response.mimetype == "application/json" and response.get_json()["total_hours"] == 4.5


# -- milestones -----------------------------------------------------------------------------------
def milestone(**fields) -> scheduling_pb2.Milestone:
    return scheduling_pb2.Milestone(**{"id": "m1", "program_id": "p1", "kind": scheduling_pb2.MILESTONE_KIND_SIGNUP_CLOSES,
                                       "title": "Sign-up closes", "time": timestamp(START), "time_zone": LA, "linked": True,
                                       "timeline_revision": 3, "create_time": timestamp(CREATED), **fields})


def test_create_milestone_answers_201_with_location(client, clients):
    clients["scheduling"].replies["CreateMilestone"] = scheduling_pb2.CreateMilestoneResponse(milestone=milestone())
    response = client.post("/api/v1/programs/p1/milestones", headers=bearer(), json={
        "kind": "signup_closes", "time": "2026-12-08T15:30:00-08:00"})
    assert response.status_code == 201, response.get_json()
    assert response.headers["Location"].endswith("/api/v1/milestones/m1")
    request = sent(clients, "CreateMilestone")
    assert (request.program_id, request.kind, request.time.ToDatetime(tzinfo=UTC)) == (
        "p1", scheduling_pb2.MILESTONE_KIND_SIGNUP_CLOSES, START)
    body = response.get_json()
    assert (body["kind"], body["linked"], body["local_time"], body["updated_by"]) == (
        "signup_closes", True, "2026-12-08T15:30:00-08:00", None)


def test_milestones_list_patch_and_delete(client, clients):
    clients["scheduling"].replies["ListMilestones"] = scheduling_pb2.ListMilestonesResponse(milestones=[milestone()],
                                                                                            timeline_revision=3)
    clients["scheduling"].replies["UpdateMilestone"] = scheduling_pb2.UpdateMilestoneResponse(milestone=milestone())
    clients["scheduling"].replies["DeleteMilestone"] = scheduling_pb2.DeleteMilestoneResponse()
    listed = client.get("/api/v1/programs/p1/milestones", headers=bearer()).get_json()
    assert listed["timeline_revision"] == 3 and listed["items"][0]["id"] == "m1"
    client.patch("/api/v1/milestones/m1", headers=bearer(), json={"time": "2026-12-09T00:00:00Z"})
    request = sent(clients, "UpdateMilestone")
    assert request.HasField("time") and not request.HasField("title") and not request.HasField("time_zone")
    assert client.delete("/api/v1/milestones/m1", headers=bearer()).get_json() == {"id": "m1", "deleted": True}
    assert sent(clients, "DeleteMilestone") == scheduling_pb2.DeleteMilestoneRequest(id="m1")


def test_a_linked_milestone_cannot_be_deleted(client, clients):
    clients["scheduling"].replies["DeleteMilestone"] = FakeRpcError.of(
        FailedPrecondition("membership relies on it", reason="MILESTONE_LINKED"))
    assert_problem(client.delete("/api/v1/milestones/m1", headers=bearer()), 409, "MILESTONE_LINKED")


# -- feeds, tokens, reminders ---------------------------------------------------------------------
ICS = b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nEND:VCALENDAR\r\n"


def test_a_feed_needs_no_bearer_token_and_answers_the_exporter_bytes(client, clients):
    clients["scheduling"].replies["ExportPersonCalendar"] = scheduling_pb2.ExportCalendarResponse(
        media_type="text/calendar", content=ICS, filename="ana-ruiz.ics")
    response = client.get("/api/v1/calendars/people/a.ics?token=secret&format=ics")
    assert response.status_code == 200
    assert response.mimetype == "text/calendar" and response.get_data() == ICS
    assert response.headers["Content-Disposition"] == "attachment; filename=ana-ruiz.ics"
    assert "private" in response.headers["Cache-Control"]
    call = clients["scheduling"].calls[0]
    assert call.request == scheduling_pb2.ExportPersonCalendarRequest(person_id="a", token="secret", format="ics")
    assert call.token is None
    again = client.get("/api/v1/calendars/people/a.ics?token=secret",
                       headers={"If-None-Match": response.headers["ETag"]})
    assert again.status_code == 304


def test_a_community_feed_as_json_carries_the_bytes_in_base64(client, clients):
    clients["scheduling"].replies["ExportCommunityCalendar"] = scheduling_pb2.ExportCalendarResponse(
        media_type="text/calendar", content=ICS, filename="ratios.ics")
    response = client.get("/api/v1/calendars/communities/c1.ics?token=secret", headers={"Accept": "application/json"})
    assert sent(clients, "ExportCommunityCalendar") == scheduling_pb2.ExportCommunityCalendarRequest(community_id="c1",
                                                                                                     token="secret")
    body = response.get_json()
    assert (body["media_type"], body["filename"], base64.b64decode(body["content"])) == (
        "text/calendar", "ratios.ics", ICS)


def test_a_feed_without_its_token_is_refused_before_any_call(client, clients):
    problem = assert_problem(client.get("/api/v1/calendars/people/a.ics"), 422, "VALIDATION_FAILED")
    assert [error["field"] for error in problem["errors"]] == ["token"]
    assert clients.all_calls() == []


def test_a_calendar_token_comes_with_absolute_feed_urls(client, clients):
    clients["scheduling"].replies["IssueFeedToken"] = scheduling_pb2.IssueFeedTokenResponse(
        person_id="a", token="t0k-3n", issue_time=timestamp(CREATED))
    body = client.post("/api/v1/people/a/calendar-token", headers=bearer(), json={},
                       base_url="https://copnet.example.org").get_json()
    assert sent(clients, "IssueFeedToken") == scheduling_pb2.IssueFeedTokenRequest(person_id="a")
    assert body == {
        "person_id": "a", "token": "t0k-3n", "issued_at": "2026-11-01T12:00:00Z",
        "person_feed_url": "https://copnet.example.org/api/v1/calendars/people/a.ics?token=t0k-3n",
        "community_feed_url_template":
            "https://copnet.example.org/api/v1/calendars/communities/{community_id}.ics?token=t0k-3n"}


def test_my_calendar_token_is_the_callers(client, clients):
    clients["scheduling"].replies["IssueFeedToken"] = scheduling_pb2.IssueFeedTokenResponse(
        person_id="tester", token="x", issue_time=timestamp(CREATED))
    body = client.post("/api/v1/me/calendar-token", headers=bearer(), json={}).get_json()
    assert sent(clients, "IssueFeedToken") == scheduling_pb2.IssueFeedTokenRequest()
    assert body["person_feed_url"] == "http://localhost/api/v1/calendars/people/tester.ics?token=x"


def test_reminders_run_passes_the_instant_to_look_at(client, clients):
    clients["scheduling"].replies["RunReminders"] = scheduling_pb2.RunRemindersResponse(emitted=3)
    body = client.post("/api/v1/reminders/run", headers=bearer(), json={"now": "2026-12-07T23:30:00Z"}).get_json()
    assert body == {"emitted": 3}
    assert sent(clients, "RunReminders").now.ToDatetime(tzinfo=UTC) == datetime(2026, 12, 7, 23, 30, tzinfo=UTC)


def test_the_document_offers_the_certificate_as_html_and_the_feeds_as_calendars(client):
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    certificate = paths["/api/v1/people/{id}/programs/{program_id}/certificate"]["get"]["responses"]["200"]
    assert set(certificate["content"]) == {"text/html", "application/json"}
    for feed in ("/api/v1/calendars/people/{id}.ics", "/api/v1/calendars/communities/{id}.ics"):
        operation = paths[feed]["get"]
        assert set(operation["responses"]["200"]["content"]) == {"text/calendar", "application/json"}
        assert "security" not in operation
        assert [p["name"] for p in operation["parameters"] if p["in"] == "query" and p["required"]] == ["token"]
