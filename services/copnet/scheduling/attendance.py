"""Attendance per occurrence (recorded in bulk), participation rates and professional-learning hours.

Attendance is recorded by a community's facilitators and managers once an occurrence has started.
A request is checked whole before anything is written, so one bad row refuses the batch; the
write is one transaction with an `attendance.recorded` event per record that is new or changed,
so sending the same sheet twice changes nothing and tells no one twice.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from copnet.events.v1 import events_pb2
from copnet.kernel import db
from copnet.kernel.enums import from_label
from copnet.kernel.errors import FailedPrecondition, InvalidArgument, NotFound
from copnet.kernel.inputs import optional_text, required_label
from copnet.kernel.pagination import page_of
from copnet.kernel.service import ServiceContext
from copnet.kernel.timestamps import timestamp
from copnet.scheduling import access
from copnet.scheduling.directory import (
    Audiences,
    CommunityFacts,
    Directory,
    PersonFacts,
)
from copnet.scheduling.models import AttendanceRecord, Occurrence
from copnet.scheduling.participation import (
    HeldOccurrence,
    Mark,
    Tally,
    community_participation,
    hours,
    is_held,
    occurrence_minutes,
    summed,
)
from copnet.scheduling.sessions import find_occurrence
from copnet.scheduling.v1 import scheduling_pb2

MAX_ENTRIES = 500
MAX_NOTE_LENGTH = 2000
# Bad rows named in one error: the details travel in gRPC trailers, which clients cap at 8 KiB.
MAX_REPORTED_ENTRIES = 20
RECORDED = "copnet.scheduling.attendance.recorded"
LIST_FILTERS = ("occurrence_id", "community_id", "person_id")


@dataclass(frozen=True)
class Entry:
    """One checked row of an attendance sheet."""

    person_id: str
    status: str
    attended_minutes: int
    note: str


# -- checking a sheet (pure) -----------------------------------------------------------------------
def check_recordable(occurrence: Occurrence, now: dt.datetime) -> None:
    if occurrence.status == "cancelled":
        raise FailedPrecondition(f"occurrence {occurrence.id!r} was cancelled: there is no attendance to record",
                                 reason="OCCURRENCE_CANCELLED")
    if occurrence.start_at > now:
        raise FailedPrecondition(f"occurrence {occurrence.id!r} has not started yet: attendance is recorded once it "
                                 "has", reason="OCCURRENCE_NOT_STARTED")


def checked_entries(entries: Sequence[scheduling_pb2.AttendanceEntry], *, length: int, community_id: str,
                    people: set[str]) -> list[Entry]:
    """Every entry checked against the occurrence's `length` (minutes) and the `people` in the
    community. Bad entries are reported together, up to MAX_REPORTED_ENTRIES (a sheet is fixed in
    one go); the error's reason is the first one's."""
    if not entries:
        raise InvalidArgument.for_field("entries", "needs at least one entry")
    if len(entries) > MAX_ENTRIES:
        raise InvalidArgument.for_field("entries", f"at most {MAX_ENTRIES} entries per request",
                                        reason="TOO_MANY_ENTRIES")
    checked: list[Entry] = []
    refused: list[InvalidArgument] = []
    seen: set[str] = set()
    for index, entry in enumerate(entries):
        try:
            checked.append(checked_entry(entry, f"entries[{index}]", length=length, community_id=community_id,
                                         people=people, seen=seen))
        except InvalidArgument as error:
            refused.append(error)
        seen.add(entry.person_id)
    if len(refused) == 1:
        raise refused[0]
    if refused:
        first = refused[0]
        listed = refused[:MAX_REPORTED_ENTRIES]
        raise InvalidArgument(f"{len(refused)} of {len(entries)} entries were refused (the first {len(listed)} "
                              f"are listed), first {first.message}",
                              reason=first.reason, fields=[field for error in listed for field in error.fields])
    return checked


def checked_entry(entry: scheduling_pb2.AttendanceEntry, field: str, *, length: int, community_id: str,
                  people: set[str],
                  seen: set[str]) -> Entry:
    person_id = entry.person_id.strip()
    if not person_id:
        raise InvalidArgument.for_field(f"{field}.person_id", "is required")
    if person_id in seen:
        raise InvalidArgument.for_field(f"{field}.person_id", f"{person_id!r} appears more than once",
                                        reason="DUPLICATE_PERSON")
    status = required_label(scheduling_pb2.AttendanceStatus, entry.status, f"{field}.status")
    if person_id not in people:
        raise InvalidArgument.for_field(f"{field}.person_id", f"{person_id!r} is not a member or facilitator of "
                                        f"community {community_id!r}", reason="NOT_A_MEMBER")
    given = entry.attended_minutes if entry.HasField("attended_minutes") else None
    minutes = attended_minutes(status, given, length, f"{field}.attended_minutes")
    note = optional_text(entry.note, f"{field}.note", MAX_NOTE_LENGTH)
    return Entry(person_id=person_id, status=status, attended_minutes=minutes, note=note)


def attended_minutes(status: str, given: int | None, length: int, field: str) -> int:
    """Present: the whole occurrence unless less is given; late: what is given (required); absent
    and excused: none."""
    if status in ("absent", "excused"):
        if given:
            raise InvalidArgument.for_field(field, f"must be 0 or left out when {status}", reason="MINUTES_NOT_ALLOWED")
        return 0
    if given is None:
        if status == "late":
            raise InvalidArgument.for_field(field, "is required when late (the minutes actually attended)",
                                            reason="MINUTES_REQUIRED")
        return length
    if given < 0:
        raise InvalidArgument.for_field(field, "must not be negative")
    if given > length:
        raise InvalidArgument.for_field(field, f"{given} is more than the occurrence's {length} minutes",
                                        reason="MINUTES_EXCEED_OCCURRENCE")
    return given


# -- messages ----------------------------------------------------------------------------------------
def record_message(record: AttendanceRecord) -> scheduling_pb2.AttendanceRecord:
    return scheduling_pb2.AttendanceRecord(
        occurrence_id=record.occurrence_id, session_id=record.session_id, community_id=record.community_id,
        program_id=record.program_id, person_id=record.person_id,
        status=from_label(scheduling_pb2.AttendanceStatus, record.status), attended_minutes=record.attended_minutes,
        note=record.note, recorded_by=record.recorded_by, record_time=timestamp(record.recorded_at))


def participation_message(tally: Tally) -> scheduling_pb2.Participation:
    return scheduling_pb2.Participation(person_id=tally.person_id, community_id=tally.community_id,
                                        expected=tally.expected,
                            attended=tally.attended, late=tally.late, absent=tally.absent, excused=tally.excused,
                            unrecorded=tally.unrecorded, rate=tally.rate, attended_minutes=tally.attended_minutes)


def record_id(occurrence_id: str, person_id: str) -> str:
    return f"{occurrence_id}|{person_id}"


def existing_records(uow: db.UnitOfWork, ids: list[str]) -> dict[str, AttendanceRecord]:
    """The records with these ids as this transaction sees them (one query, not one per row)."""
    return {record.id: record for record in uow.find_all(AttendanceRecord, {"_id": {"$in": ids}})}


def unchanged(record: AttendanceRecord, entry: Entry) -> bool:
    return (record.status, record.attended_minutes, record.note) == (entry.status, entry.attended_minutes, entry.note)


def held_occurrence(occurrence: Occurrence) -> HeldOccurrence:
    return HeldOccurrence(id=occurrence.id, start_at=occurrence.start_at, end_at=occurrence.end_at,
                          audience=occurrence.audience, team_id=occurrence.team_id,
                          facilitator_ids=tuple(occurrence.facilitator_ids))


def mark_of(record: AttendanceRecord) -> Mark:
    return Mark(occurrence_id=record.occurrence_id, person_id=record.person_id, status=record.status,
                attended_minutes=record.attended_minutes)


class AttendanceApi:
    ctx: ServiceContext
    directory: Directory

    # -- recording -------------------------------------------------------------------------------------
    def RecordAttendance(self, request: scheduling_pb2.RecordAttendanceRequest,
                         _context) -> scheduling_pb2.RecordAttendanceResponse:
        access.caller("recording attendance")
        occurrence = self._occurrence(request.occurrence_id)
        community = self.directory.community(occurrence.community_id, field=None)
        identity = access.require_community_manager(community, "recording attendance")
        check_recordable(occurrence, db.utcnow())
        members = self.directory.members(community.id) | set(community.facilitator_ids)

        def checked(current: Occurrence) -> list[Entry]:
            return checked_entries(request.entries, length=occurrence_minutes(current.start_at, current.end_at),
                                   community_id=community.id, people=members | set(current.facilitator_ids))

        checked(occurrence)

        def work(uow: db.UnitOfWork) -> list[AttendanceRecord]:
            # Checked again on the occurrence as this transaction sees it: it may have been moved or
            # cancelled since, which changes its length or whether it can have attendance at all.
            now = db.utcnow()
            current = find_occurrence(occurrence.id, uow)
            check_recordable(current, now)
            entries = checked(current)
            before = existing_records(uow, [record_id(current.id, entry.person_id) for entry in entries])
            records = []
            for entry in entries:
                previous = before.get(record_id(current.id, entry.person_id))
                if previous is not None and unchanged(previous, entry):
                    records.append(previous)
                    continue
                record = AttendanceRecord(
                    id=record_id(current.id, entry.person_id), occurrence_id=current.id,
                    session_id=current.session_id, community_id=current.community_id, program_id=current.program_id,
                    person_id=entry.person_id, status=entry.status, attended_minutes=entry.attended_minutes,
                    note=entry.note, recorded_by=identity.person_id, recorded_at=now)
                if previous is None:
                    uow.insert(record)
                else:
                    uow.update_one(AttendanceRecord, {"_id": record.id}, {"$set": {
                        "status": record.status, "attended_minutes": record.attended_minutes, "note": record.note,
                        "recorded_by": record.recorded_by, "recorded_at": record.recorded_at}})
                payload = events_pb2.AttendanceRecorded(
                    record=record_message(record),
                    previous_status=from_label(scheduling_pb2.AttendanceStatus, previous.status) if previous else 0)
                uow.emit(self.ctx.event(RECORDED, record.id, payload, scope=community.scope))
                records.append(record)
            return records

        return scheduling_pb2.RecordAttendanceResponse(records=[record_message(r) for r in self.ctx.transaction(work)])

    def ListAttendance(self, request: scheduling_pb2.ListAttendanceRequest,
                       _context) -> scheduling_pb2.ListAttendanceResponse:
        access.caller("listing attendance")
        given = {name: getattr(request, name) for name in LIST_FILTERS if getattr(request, name)}
        if len(given) != 1:
            # Named like ListOccurrences does: the second filter given, or the first one possible.
            raise InvalidArgument.for_field(list(given)[1] if given else LIST_FILTERS[0],
                                            "give exactly one of occurrence_id, community_id and person_id")
        if request.occurrence_id:
            occurrence = self._occurrence(request.occurrence_id)
            access.require_community_manager(self.directory.community(occurrence.community_id, field=None),
                                             "listing an occurrence's attendance")
        elif request.community_id:
            access.require_community_manager(self.directory.community(request.community_id),
                                             "listing a community's attendance")
        else:
            self._require_self_or_manager(request.person_id, "listing a person's attendance")
        found, token = page_of(AttendanceRecord, given, request.page_size, request.page_token)
        return scheduling_pb2.ListAttendanceResponse(records=[record_message(r) for r in found], next_page_token=token)

    # -- participation ---------------------------------------------------------------------------------
    def GetCommunityParticipation(self, request: scheduling_pb2.GetCommunityParticipationRequest,
                                  _context) -> scheduling_pb2.GetCommunityParticipationResponse:
        access.caller("reading a community's participation")
        community = self.directory.community(request.community_id)
        access.require_community_manager(community, "reading a community's participation")
        people, total, held = self._participation(community)
        return scheduling_pb2.GetCommunityParticipationResponse(
            community_id=community.id, people=[participation_message(p) for p in people],
            total=participation_message(total), occurrences_held=held)

    def GetPersonParticipation(self, request: scheduling_pb2.GetPersonParticipationRequest,
                               _context) -> scheduling_pb2.GetPersonParticipationResponse:
        person_id = self._require_self_or_manager(request.person_id, "reading a person's participation")
        parts = []
        for community_id in sorted(self.directory.communities_of(person_id)):
            try:
                community = self.directory.community(community_id, field=None)
            except NotFound:
                continue
            [part], _, _ = self._participation(community, person_id)
            parts.append(part)
        return scheduling_pb2.GetPersonParticipationResponse(person_id=person_id,
                                                 communities=[participation_message(p) for p in parts],
                                                 total=participation_message(summed(parts, person_id=person_id)))

    def _participation(self, community: CommunityFacts, person_id: str | None = None) -> tuple[list[Tally], Tally, int]:
        """Tallies over the community's held occurrences: for everyone in it, or for one person."""
        now = db.utcnow()
        held = [held_occurrence(o) for o in Occurrence.objects(community_id=community.id, start_at__lte=now)
                if is_held(o.status, o.start_at, now)]
        audiences = Audiences(self.directory)
        audience_of = {o.id: audiences.at(community, o) for o in held}
        if person_id is None:
            # Everyone the community's convenings are for: confirmed members and its facilitators.
            people = audiences.of(community, "all_members", "")
            records = AttendanceRecord.objects(community_id=community.id)
        else:
            people = {person_id}
            records = AttendanceRecord.objects(community_id=community.id, person_id=person_id)
        tallies, total = community_participation(community.id, people, held, audience_of, map(mark_of, records))
        return tallies, total, len(held)

    # -- professional-learning hours -------------------------------------------------------------------
    def GetLearningHours(self, request: scheduling_pb2.GetLearningHoursRequest,
                         _context) -> scheduling_pb2.GetLearningHoursResponse:
        # The certificate needs the person too: asked of membership once for both.
        person_facts = functools.cache(lambda: self.directory.person(request.person_id))
        self._require_self_or_manager(request.person_id, "reading a person's learning hours", person_facts)
        person = person_facts()
        program = self.directory.program(request.program_id)
        records = [r for r in AttendanceRecord.objects(person_id=person.id, program_id=program.id)
                   if r.attended_minutes > 0]
        occurrences = {o.id: o for o in Occurrence.objects(id__in=[r.occurrence_id for r in records])}
        names: dict[str, str] = {}
        lines = []
        for record in records:
            occurrence = occurrences.get(record.occurrence_id)
            # Cancelled occurrences never count, as in participation (sessions also refuse to cancel
            # one that has attendance, so this only guards the rule).
            if occurrence is None or occurrence.status == "cancelled":
                continue
            if occurrence.community_id not in names:
                names[occurrence.community_id] = self._community_name(occurrence.community_id)
            lines.append(scheduling_pb2.LearningHoursLine(
                occurrence_id=occurrence.id, session_id=occurrence.session_id, community_id=occurrence.community_id,
                community_name=names[occurrence.community_id], title=occurrence.title,
                session_type=occurrence.session_type, start_time=timestamp(occurrence.start_at),
                end_time=timestamp(occurrence.end_at), time_zone=occurrence.time_zone,
                status=from_label(scheduling_pb2.AttendanceStatus,
                                  record.status), attended_minutes=record.attended_minutes))
        lines.sort(key=lambda line: (line.start_time.ToDatetime(), line.occurrence_id))
        total = sum(line.attended_minutes for line in lines)
        return scheduling_pb2.GetLearningHoursResponse(
            person_id=person.id, person_name=person.name, program_id=program.id, program_name=program.name,
            program_year=program.program_year, issuer_name=program.owner_name, total_minutes=total,
            total_hours=hours(total), lines=lines, issue_time=timestamp(db.utcnow()))

    # -- lookups ---------------------------------------------------------------------------------------
    def _occurrence(self, occurrence_id: str) -> Occurrence:
        if not occurrence_id:
            raise InvalidArgument.for_field("occurrence_id", "is required")
        return find_occurrence(occurrence_id)

    def _require_self_or_manager(self, person_id: str, action: str,
                                 person: Callable[[], PersonFacts] | None = None) -> str:
        """The person themself or a manager over them; `person` gives the person's facts (asked of
        membership only when the caller is someone else)."""
        access.caller(action)
        if not person_id:
            raise InvalidArgument.for_field("person_id", "is required")
        person = person or (lambda: self.directory.person(person_id))
        access.require_self_or_manager(person_id, lambda: self.directory.person_scope(person()), action)
        return person_id

    def _community_name(self, community_id: str) -> str:
        try:
            return self.directory.community(community_id, field=None).name
        except NotFound:
            return ""
