"""Sessions (a single convening or a recurring series) and their occurrences.

A series is expanded once, when written: every occurrence is a document with a stable id
("<session id>:<original start>"), so conflicts, feeds, reminders and attendance read indexed
ranges instead of re-expanding rules. A write checks everything first (session_plan), computes the
soft conflicts (warnings), then runs one transaction: the room locks, the room re-check, the
documents and the event.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from typing import TypeVar

from pymongo.errors import DuplicateKeyError

from copnet.events.v1 import events_pb2
from copnet.kernel import db
from copnet.kernel.enums import from_label
from copnet.kernel.errors import (
    AlreadyExists,
    FailedPrecondition,
    InvalidArgument,
    NotFound,
)
from copnet.kernel.inputs import chosen_or_new_id, instant, optional_label, optional_text
from copnet.kernel.pagination import decode_token, encode_token, page_of, page_size
from copnet.kernel.service import ServiceContext
from copnet.kernel.timestamps import timestamp
from copnet.scheduling import access, conflicts, recurrence, visibility
from copnet.scheduling.conflicts import Booking
from copnet.scheduling.directory import Audiences, CommunityFacts, Directory
from copnet.scheduling.models import AttendanceRecord, Occurrence, Session, Venue
from copnet.scheduling.session_plan import Draft, Plan, check_times, check_venue, plan
from copnet.scheduling.v1 import scheduling_pb2

D = TypeVar("D", Session, Occurrence)

SESSION_EVENT = "copnet.scheduling.session.{}"
OCCURRENCE_EVENT = "copnet.scheduling.occurrence.{}"
REASON_MAX = 2000


# -- messages (other areas import these) -----------------------------------------------------------
def venue_message(venue: Venue | None) -> scheduling_pb2.Venue | None:
    return scheduling_pb2.Venue(name=venue.name, address=venue.address) if venue is not None and venue.name else None


def session_message(session: Session) -> scheduling_pb2.Session:
    return scheduling_pb2.Session(
        id=session.id, community_id=session.community_id, program_id=session.program_id,
        session_type=session.session_type, title=session.title, agenda=session.agenda,
        facilitator_ids=session.facilitator_ids, start_time=timestamp(session.start_at),
        end_time=timestamp(session.end_at), time_zone=session.time_zone, recurrence=session.recurrence,
        modality=from_label(scheduling_pb2.Modality, session.modality), venue=venue_message(session.venue),
        meeting_url=session.meeting_url, audience=from_label(scheduling_pb2.Audience, session.audience),
        team_id=session.team_id, capacity=session.capacity,
        fields_json=json.dumps(session.fields, sort_keys=True) if session.fields else "",
        status=from_label(scheduling_pb2.SessionStatus, session.status), sequence=session.sequence,
        occurrence_count=session.occurrence_count, created_by=session.created_by,
        create_time=timestamp(session.created_at),
        update_time=timestamp(session.updated_at) if session.updated_at else None,
        cancel_reason=session.cancel_reason)


def occurrence_message(occurrence: Occurrence) -> scheduling_pb2.Occurrence:
    return scheduling_pb2.Occurrence(
        id=occurrence.id, session_id=occurrence.session_id, community_id=occurrence.community_id,
        original_start_time=timestamp(occurrence.original_start), start_time=timestamp(occurrence.start_at),
        end_time=timestamp(occurrence.end_at), status=from_label(scheduling_pb2.OccurrenceStatus, occurrence.status),
        title=occurrence.title, session_type=occurrence.session_type,
        modality=from_label(scheduling_pb2.Modality, occurrence.modality), venue=venue_message(occurrence.venue),
        meeting_url=occurrence.meeting_url, facilitator_ids=occurrence.facilitator_ids,
        audience=from_label(scheduling_pb2.Audience, occurrence.audience), team_id=occurrence.team_id,
        time_zone=occurrence.time_zone, cancel_reason=occurrence.cancel_reason, sequence=occurrence.sequence)


def occurrence_id(session_id: str, original_start: dt.datetime) -> str:
    return f"{session_id}:{original_start.astimezone(dt.UTC):%Y%m%dT%H%M%SZ}"


# -- lookups -----------------------------------------------------------------------------------------
def find_session(session_id: str, uow: db.UnitOfWork | None = None) -> Session:
    return _found(Session, session_id, uow, reason="SESSION_NOT_FOUND")


def find_occurrence(identifier: str, uow: db.UnitOfWork | None = None) -> Occurrence:
    return _found(Occurrence, identifier, uow, reason="OCCURRENCE_NOT_FOUND")


def _found(document_class: type[D], document_id: str, uow: db.UnitOfWork | None, *, reason: str) -> D:
    """The document with this id, as the transaction `uow` sees it when given; NotFound
    ("no session 'x'") when there is none or no id."""
    found = (uow.find_one(document_class, {"_id": document_id}) if uow is not None
             else document_class.objects(id=document_id).first()) if document_id else None
    if found is None:
        raise NotFound(f"no {document_class.__name__.lower()} {document_id!r}", reason=reason)
    return found


def with_attendance(occurrence_ids: Sequence[str]) -> list[str]:
    """The ones among `occurrence_ids` that have attendance recorded."""
    if not occurrence_ids:
        return []
    return sorted(set(AttendanceRecord.objects(occurrence_id__in=list(occurrence_ids)).distinct("occurrence_id")))


def refuse_if_attended(occurrence_ids: Sequence[str], what: str) -> None:
    attended = with_attendance(occurrence_ids)
    if attended:
        raise FailedPrecondition(f"{what}: occurrence {attended[0]!r} has attendance recorded",
                                 reason="OCCURRENCE_HAS_ATTENDANCE", metadata={"occurrence_id": attended[0]})


def refuse_if_completed(community: CommunityFacts) -> None:
    if community.status == "completed":
        raise FailedPrecondition(f"community {community.id!r} is completed: its sessions can no longer change",
                                 reason="COMMUNITY_COMPLETED")


def refuse_if_cancelled(session: Session) -> None:
    if session.status == "cancelled":
        raise FailedPrecondition(f"session {session.id!r} is cancelled", reason="SESSION_CANCELLED")


def venue_of(plan_: Plan) -> Venue | None:
    draft = plan_.draft
    return Venue(name=draft.venue_name, address=draft.venue_address) if draft.venue_name else None


def copied_fields(plan_: Plan) -> dict:
    """What every occurrence copies from its session (so reads need no join)."""
    draft = plan_.draft
    return {"title": draft.title, "session_type": draft.session_type, "modality": draft.modality,
            "venue": venue_of(plan_), "venue_key": plan_.venue_key, "meeting_url": draft.meeting_url,
            "facilitator_ids": list(draft.facilitator_ids), "audience": draft.audience, "team_id": draft.team_id,
            "time_zone": plan_.time_zone}


def new_occurrences(session_id: str, community_id: str, plan_: Plan, slots: Sequence[recurrence.Slot],
                    sequence: int) -> list[Occurrence]:
    copied = copied_fields(plan_)
    return [Occurrence(id=occurrence_id(session_id, slot.original_start), session_id=session_id,
                       community_id=community_id, program_id=plan_.program_id, original_start=slot.original_start,
                       start_at=slot.start, end_at=slot.end, status="scheduled", sequence=sequence, **copied)
            for slot in slots]


def bookings_of(occurrences: Sequence[Occurrence]) -> list[Booking]:
    return [Booking(o.id, o.start_at, o.end_at, o.venue_key) for o in occurrences if o.status != "cancelled"]


class SessionsApi:
    ctx: ServiceContext
    directory: Directory

    # -- warnings ------------------------------------------------------------------------------
    def conflict_warnings(self, community: CommunityFacts, session_id: str, bookings: Sequence[Booking],
                          facilitator_ids: Sequence[str], audience: str,
                          team_id: str) -> list[scheduling_pb2.ConflictWarning]:
        if not bookings:
            return []
        audiences = Audiences(self.directory)
        expected = audiences.of(community, audience, team_id) | set(facilitator_ids)

        def people_at(other: Occurrence) -> set[str]:
            return set(other.facilitator_ids) | audiences.members(other.community_id)

        return conflicts.warnings_for(bookings, facilitator_ids, expected, own_session_id=session_id,
                                      people_at=people_at)

    def emit_session(self, uow: db.UnitOfWork, verb: str, session: Session, changed_by: str) -> None:
        uow.emit(self.ctx.event(SESSION_EVENT.format(verb), session.id,
                                events_pb2.SessionChanged(session=session_message(session), changed_by=changed_by),
                                scope=session.scope))

    def emit_occurrence(self, uow: db.UnitOfWork, verb: str, occurrence: Occurrence, scope: Sequence[str],
                        changed_by: str) -> None:
        uow.emit(self.ctx.event(OCCURRENCE_EVENT.format(verb), occurrence.id,
                                events_pb2.OccurrenceChanged(occurrence=occurrence_message(occurrence),
                                                             changed_by=changed_by), scope=scope))

    # -- sessions ------------------------------------------------------------------------------
    def CreateSession(self, request: scheduling_pb2.CreateSessionRequest,
                      _context) -> scheduling_pb2.CreateSessionResponse:
        access.caller("scheduling a session")
        community = self.directory.community(request.community_id)
        identity = access.require_community_manager(community, "scheduling a session")
        refuse_if_completed(community)
        session_id = chosen_or_new_id(request.session_id, "session_id")
        draft = Draft(
            session_type=request.session_type.strip(), start=instant(request, "start_time"),
            end=instant(request, "end_time"), title=request.title, agenda=request.agenda,
            facilitator_ids=[p.strip() for p in request.facilitator_ids], recurrence=request.recurrence,
            modality=optional_label(scheduling_pb2.Modality, request.modality, "modality", "virtual"),
            venue_name=request.venue.name, venue_address=request.venue.address,
            venue_given=request.HasField("venue"), meeting_url=request.meeting_url,
            audience=optional_label(scheduling_pb2.Audience, request.audience, "audience", "all_members"),
            team_id=request.team_id, capacity=request.capacity, fields_json=request.fields_json)
        checked = plan(self.ctx, self.directory, community, draft)
        occurrences = new_occurrences(session_id, community.id, checked, checked.slots, 0)
        warnings = self.conflict_warnings(community, session_id, bookings_of(occurrences),
                                          checked.draft.facilitator_ids, checked.draft.audience, checked.draft.team_id)
        conflicts.prepare_locks([checked.venue_key])

        def work(uow: db.UnitOfWork) -> Session:
            now = db.utcnow()
            conflicts.hold_rooms(uow, bookings_of(occurrences), own_session_id=session_id)
            d = checked.draft
            session = uow.insert(Session(
                id=session_id, community_id=community.id, program_id=community.program_id, scope=list(community.scope),
                session_type=d.session_type, title=d.title, agenda=d.agenda, facilitator_ids=list(d.facilitator_ids),
                start_at=checked.start, end_at=checked.end, time_zone=checked.time_zone, recurrence=d.recurrence,
                modality=d.modality, venue=venue_of(checked), meeting_url=d.meeting_url, audience=d.audience,
                team_id=d.team_id, capacity=d.capacity, fields=checked.fields, status="scheduled", sequence=0,
                occurrence_count=len(occurrences), created_by=identity.person_id, created_at=now, updated_at=now))
            uow.insert_many(occurrences)
            self.emit_session(uow, "created", session, identity.person_id)
            return session

        try:
            session = self.ctx.transaction(work)
        except DuplicateKeyError:
            raise AlreadyExists(f"session {session_id!r} already exists", reason="SESSION_EXISTS") from None
        return scheduling_pb2.CreateSessionResponse(session=session_message(session), warnings=warnings)

    # -- who sees what (visibility) ---------------------------------------------------------------
    def visible(self, identity, found, missing: NotFound):
        """`found` (a session or an occurrence) if the caller may see it; else `missing`, as if
        it did not exist."""
        if found.audience == visibility.OPEN_AUDIENCE:
            return found
        try:
            community = self.directory.community(found.community_id, field=None)
        except NotFound:
            raise missing from None
        if not visibility.sight_of(self.directory, identity, community).sees(
                found.audience, found.team_id, found.facilitator_ids):
            raise missing
        return found

    def visibility_filter(self, identity, document_class, community_id: str) -> dict | None:
        """A filter for what the caller sees of the community's sessions or occurrences; None when
        nothing there is closed to anyone (membership is not asked then)."""
        if document_class.objects(community_id=community_id, audience__ne=visibility.OPEN_AUDIENCE).first() is None:
            return None
        community = self.directory.community(community_id, field=None)
        return visibility.sight_of(self.directory, identity, community).query()

    def GetSession(self, request: scheduling_pb2.GetSessionRequest, _context) -> scheduling_pb2.GetSessionResponse:
        identity = access.caller("reading a session")
        session = find_session(request.id)
        missing = NotFound(f"no session {request.id!r}", reason="SESSION_NOT_FOUND")
        return scheduling_pb2.GetSessionResponse(session=session_message(self.visible(identity, session, missing)))

    def ListSessions(self, request: scheduling_pb2.ListSessionsRequest,
                     _context) -> scheduling_pb2.ListSessionsResponse:
        identity = access.caller("listing sessions")
        if not request.community_id:
            raise InvalidArgument.for_field("community_id", "is required")
        query: dict = {"community_id": request.community_id}
        if not request.include_cancelled:
            query["status"] = "scheduled"
        seen = self.visibility_filter(identity, Session, request.community_id)
        if seen is not None:
            query["__raw__"] = seen
        found, token = page_of(Session, query, request.page_size, request.page_token)
        return scheduling_pb2.ListSessionsResponse(sessions=[session_message(s) for s in found], next_page_token=token)

    # -- occurrences ---------------------------------------------------------------------------
    def ListOccurrences(self, request: scheduling_pb2.ListOccurrencesRequest,
                        _context) -> scheduling_pb2.ListOccurrencesResponse:
        identity = access.caller("listing occurrences")
        chosen = [name for name in ("community_id", "session_id", "person_id") if getattr(request, name)]
        if len(chosen) != 1:
            raise InvalidArgument.for_field(chosen[1] if len(chosen) > 1 else "community_id",
                                            "give exactly one of community_id, session_id and person_id")
        start, end = instant(request, "start_time"), instant(request, "end_time")
        if start is not None and end is not None and end <= start:
            raise InvalidArgument.for_field("end_time", "must be after start_time", reason="END_BEFORE_START")
        if request.community_id:
            where: dict = {"community_id": request.community_id}
            seen = self.visibility_filter(identity, Occurrence, request.community_id)
            if seen is not None:
                where = {"$and": [where, seen]}
        elif request.session_id:
            missing = NotFound(f"no session {request.session_id!r}", reason="SESSION_NOT_FOUND")
            where = {"session_id": self.visible(identity, find_session(request.session_id), missing).id}
        else:
            person_id = request.person_id
            access.require_self_or_manager(
                person_id, lambda: self.directory.person_scope(self.directory.person(person_id)),
                "listing a person's occurrences")
            where = self.person_filter(person_id)
        if start is not None:
            where["end_at"] = {"$gt": start}
        if end is not None:
            where["start_at"] = {"$lt": end}
        if not request.include_cancelled:
            where["status"] = {"$ne": "cancelled"}
        token_query = {"community_id": request.community_id, "session_id": request.session_id,
                       "person_id": request.person_id, "include_cancelled": request.include_cancelled,
                       "start": start.isoformat() if start else "", "end": end.isoformat() if end else ""}
        found, token = occurrences_page(where, request.page_size, request.page_token, token_query)
        return scheduling_pb2.ListOccurrencesResponse(occurrences=[occurrence_message(o) for o in found],
                                                      next_page_token=token)

    def person_filter(self, person_id: str) -> dict:
        """Occurrences of the person's communities whose audience includes them, and any they facilitate."""
        clauses: list[dict] = [{"facilitator_ids": person_id}]
        holds_leading_position = None
        for community_id in sorted(self.directory.communities_of(person_id)):
            community = self.directory.community(community_id, field=None)
            if person_id in community.facilitator_ids:
                clauses.append({"community_id": community_id})
                continue
            teams = self.directory.teams(community_id)
            audiences = ["all_members"]
            if person_id in self.directory.team_leaders(teams):
                audiences.append("leaders_only")
            else:
                if holds_leading_position is None:
                    holds_leading_position = self.directory.holds_leading_position(person_id)
                if holds_leading_position:
                    audiences.append("leaders_only")
            clauses.append({"community_id": community_id, "audience": {"$in": audiences}})
            mine = [team.id for team in teams if any(m.person_id == person_id for m in team.members)]
            if mine:
                clauses.append({"community_id": community_id, "audience": "team", "team_id": {"$in": mine}})
        return {"$or": clauses}

    def GetOccurrence(self, request: scheduling_pb2.GetOccurrenceRequest,
                      _context) -> scheduling_pb2.GetOccurrenceResponse:
        identity = access.caller("reading an occurrence")
        missing = NotFound(f"no occurrence {request.id!r}", reason="OCCURRENCE_NOT_FOUND")
        return scheduling_pb2.GetOccurrenceResponse(occurrence=occurrence_message(
            self.visible(identity, find_occurrence(request.id), missing)))

    def UpdateSession(self, request: scheduling_pb2.UpdateSessionRequest,
                      _context) -> scheduling_pb2.UpdateSessionResponse:
        access.caller("changing a session")
        session = find_session(request.id)
        community = self.directory.community(session.community_id, field=None)
        identity = access.require_community_manager(community, "changing a session")
        refuse_if_completed(community)
        refuse_if_cancelled(session)
        checked = plan(self.ctx, self.directory, community, changed_draft(session, request))
        existing = list(Occurrence.objects(session_id=session.id))
        kept, added, dropped = reshaped_series(session, checked, existing)
        refuse_if_attended([o.id for o in dropped], "this change would drop an occurrence of the series")
        results = sorted([*kept, *added], key=lambda o: o.original_start)
        bookings = bookings_of(results)
        warnings = self.conflict_warnings(community, session.id, bookings, checked.draft.facilitator_ids,
                                          checked.draft.audience, checked.draft.team_id)
        conflicts.prepare_locks(b.venue_key for b in bookings)
        d = checked.draft
        updated = Session(
            id=session.id, community_id=session.community_id, program_id=session.program_id, scope=session.scope,
            session_type=session.session_type, title=d.title, agenda=d.agenda, facilitator_ids=list(d.facilitator_ids),
            start_at=checked.start, end_at=checked.end, time_zone=checked.time_zone, recurrence=d.recurrence,
            modality=d.modality, venue=venue_of(checked), meeting_url=d.meeting_url, audience=d.audience,
            team_id=d.team_id, capacity=d.capacity, fields=checked.fields, status="scheduled",
            sequence=session.sequence + 1, occurrence_count=len(results), created_by=session.created_by,
            created_at=session.created_at)

        def work(uow: db.UnitOfWork) -> Session:
            updated.updated_at = db.utcnow()
            conflicts.hold_rooms(uow, bookings, own_session_id=session.id)
            refuse_if_attended_within(uow, [o.id for o in dropped])
            replace_if_unchanged(uow, updated, session.sequence, f"session {session.id!r}")
            if dropped:
                uow.delete_many(Occurrence, {"_id": {"$in": [o.id for o in dropped]}})
            for occurrence in kept:
                replace_if_unchanged(uow, occurrence, occurrence.sequence - 1, f"occurrence {occurrence.id!r}")
            uow.insert_many(added)
            self.emit_session(uow, "updated", updated, identity.person_id)
            return updated

        return scheduling_pb2.UpdateSessionResponse(session=session_message(self.ctx.transaction(work)),
                                                    warnings=warnings)

    def CancelSession(self, request: scheduling_pb2.CancelSessionRequest,
                      _context) -> scheduling_pb2.CancelSessionResponse:
        access.caller("cancelling a session")
        session = find_session(request.id)
        community = self.directory.community(session.community_id, field=None)
        identity = access.require_community_manager(community, "cancelling a session")
        reason = optional_text(request.reason, "reason", REASON_MAX)

        def work(uow: db.UnitOfWork) -> Session:
            current = find_session(session.id, uow)
            if current.status == "cancelled":
                return current   # cancelling twice changes nothing and tells no one again
            now = db.utcnow()
            uow.update_many(
                Occurrence, {"session_id": session.id, "status": {"$ne": "cancelled"}, "start_at": {"$gte": now}},
                {"$set": {"status": "cancelled", "cancel_reason": reason}, "$inc": {"sequence": 1}})
            uow.update_one(Session, {"_id": session.id}, {"$set": {"status": "cancelled", "cancel_reason": reason,
                                                                   "updated_at": now}, "$inc": {"sequence": 1}})
            cancelled = find_session(session.id, uow)
            self.emit_session(uow, "cancelled", cancelled, identity.person_id)
            return cancelled

        return scheduling_pb2.CancelSessionResponse(session=session_message(self.ctx.transaction(work)))

    # -- one occurrence (an exception to its series) ---------------------------------------------
    def occurrence_to_change(self, occurrence_id: str, action: str):
        occurrence = find_occurrence(occurrence_id)
        session = find_session(occurrence.session_id)
        community = self.directory.community(occurrence.community_id, field=None)
        identity = access.require_community_manager(community, action)
        refuse_if_completed(community)
        refuse_if_cancelled(session)
        return occurrence, session, community, identity

    def MoveOccurrence(self, request: scheduling_pb2.MoveOccurrenceRequest,
                       _context) -> scheduling_pb2.MoveOccurrenceResponse:
        access.caller("moving an occurrence")
        occurrence, session, community, identity = self.occurrence_to_change(request.id, "moving an occurrence")
        if occurrence.status == "cancelled":
            raise FailedPrecondition(f"occurrence {occurrence.id!r} is cancelled: restore it before moving it",
                                     reason="OCCURRENCE_CANCELLED")
        start = instant(request, "start_time")
        end = instant(request, "end_time")
        if end is None and start is not None:
            end = start + (occurrence.end_at - occurrence.start_at)
        check_times(start, end)
        if community.program_id:
            program = self.directory.program(community.program_id, field=None)
            recurrence.check_in_year(start, end, (program.year_start, program.year_end), "start_time")
        venue, key = occurrence.venue, occurrence.venue_key
        if request.HasField("venue"):
            key = check_venue(occurrence.modality, request.venue.name, request.venue.address, True)
            venue = Venue(name=request.venue.name.strip(), address=request.venue.address.strip())
        at_series_time = (start == occurrence.original_start and end - start == session.end_at - session.start_at
                          and key == session_venue_key(session))
        return self.rebook(occurrence, session, community, identity.person_id, start, end, venue, key,
                           status="scheduled" if at_series_time else "moved", verb="moved",
                           reply=scheduling_pb2.MoveOccurrenceResponse)

    def RestoreOccurrence(self, request: scheduling_pb2.RestoreOccurrenceRequest,
                          _context) -> scheduling_pb2.RestoreOccurrenceResponse:
        access.caller("restoring an occurrence")
        occurrence, session, community, identity = self.occurrence_to_change(request.id, "restoring an occurrence")
        if occurrence.status == "scheduled":
            return scheduling_pb2.RestoreOccurrenceResponse(occurrence=occurrence_message(occurrence))
        start = occurrence.original_start.astimezone(dt.UTC)
        end = start + (session.end_at - session.start_at)
        return self.rebook(occurrence, session, community, identity.person_id, start, end, session.venue,
                           session_venue_key(session), status="scheduled", verb="restored",
                           reply=scheduling_pb2.RestoreOccurrenceResponse)

    def rebook(self, occurrence: Occurrence, session: Session, community: CommunityFacts, changed_by: str,
               start: dt.datetime, end: dt.datetime, venue: Venue | None, key: str, *, status: str, verb: str, reply):
        """Put one occurrence at a new time and room: warnings first, then one transaction with the
        room lock, the room re-check, the write and its event."""
        booking = Booking(occurrence.id, start, end, key)
        warnings = self.conflict_warnings(community, session.id, [booking], occurrence.facilitator_ids,
                                          occurrence.audience, occurrence.team_id)
        conflicts.prepare_locks([key])
        changed = Occurrence._from_son(occurrence.to_mongo())
        changed.start_at, changed.end_at, changed.status, changed.cancel_reason = start, end, status, ""
        changed.venue, changed.venue_key, changed.sequence = venue, key, occurrence.sequence + 1

        def work(uow: db.UnitOfWork) -> Occurrence:
            conflicts.hold_rooms(uow, [booking], own_occurrence_ids=[occurrence.id])
            replace_if_unchanged(uow, changed, occurrence.sequence, f"occurrence {occurrence.id!r}")
            self.emit_occurrence(uow, verb, changed, session.scope, changed_by)
            return changed

        return reply(occurrence=occurrence_message(self.ctx.transaction(work)), warnings=warnings)

    def CancelOccurrence(self, request: scheduling_pb2.CancelOccurrenceRequest,
                         _context) -> scheduling_pb2.CancelOccurrenceResponse:
        access.caller("cancelling an occurrence")
        occurrence, session, _community, identity = self.occurrence_to_change(request.id, "cancelling an occurrence")
        reason = optional_text(request.reason, "reason", REASON_MAX)
        if occurrence.status == "cancelled":
            return scheduling_pb2.CancelOccurrenceResponse(occurrence=occurrence_message(occurrence))
        refuse_if_attended([occurrence.id], "an occurrence with attendance cannot be cancelled")
        changed = Occurrence._from_son(occurrence.to_mongo())
        changed.status, changed.cancel_reason, changed.sequence = "cancelled", reason, occurrence.sequence + 1

        def work(uow: db.UnitOfWork) -> Occurrence:
            refuse_if_attended_within(uow, [occurrence.id])
            replace_if_unchanged(uow, changed, occurrence.sequence, f"occurrence {occurrence.id!r}")
            self.emit_occurrence(uow, "cancelled", changed, session.scope, identity.person_id)
            return changed

        return scheduling_pb2.CancelOccurrenceResponse(occurrence=occurrence_message(self.ctx.transaction(work)))


def occurrences_page(where: dict, requested_size: int, page_token: str, token_query: dict):
    """A page of occurrences in start order (ties by id): the key is (start_at, _id)."""
    size = page_size(requested_size)
    after = decode_token(page_token, token_query)
    filters = dict(where)
    if after is not None:
        start_text, _, last_id = after.partition("|")
        last_start = dt.datetime.fromisoformat(start_text)
        filters = {"$and": [where, {"$or": [{"start_at": {"$gt": last_start}},
                                            {"start_at": last_start, "_id": {"$gt": last_id}}]}]}
    found = list(Occurrence.objects(__raw__=filters).order_by("start_at", "id").limit(size + 1))
    token = ""
    if len(found) > size:
        last = found[size - 1]
        token = encode_token(f"{last.start_at.astimezone(dt.UTC).isoformat()}|{last.id}", token_query)
    return found[:size], token


def refuse_if_attended_within(uow: db.UnitOfWork, occurrence_ids: Sequence[str]) -> None:
    """OCCURRENCE_HAS_ATTENDANCE, read inside the transaction (attendance may have come meanwhile)."""
    if not occurrence_ids:
        return
    found = uow.find_one(AttendanceRecord, {"occurrence_id": {"$in": list(occurrence_ids)}})
    if found is not None:
        raise FailedPrecondition(f"occurrence {found.occurrence_id!r} has attendance recorded",
                                 reason="OCCURRENCE_HAS_ATTENDANCE", metadata={"occurrence_id": found.occurrence_id})


def changed_meanwhile(what: str) -> FailedPrecondition:
    return FailedPrecondition(f"{what} changed while this request was being checked; send it again",
                              reason="CONCURRENT_UPDATE")


def replace_if_unchanged(uow: db.UnitOfWork, document, expected_sequence: int, what: str) -> None:
    """Write `document` over its stored version, only if nobody changed that since it was read."""
    if not uow.replace_one(document, {"sequence": expected_sequence}):
        raise changed_meanwhile(what)


def session_venue_key(session: Session) -> str:
    venue = session.venue or Venue()
    return conflicts.venue_key(session.modality, venue.name, venue.address)


def draft_of(session: Session) -> Draft:
    """The stored session as a draft to change."""
    venue = session.venue or Venue()
    return Draft(session_type=session.session_type, start=session.start_at, end=session.end_at, title=session.title,
                 agenda=session.agenda, facilitator_ids=list(session.facilitator_ids), recurrence=session.recurrence,
                 modality=session.modality, venue_name=venue.name, venue_address=venue.address,
                 meeting_url=session.meeting_url, audience=session.audience, team_id=session.team_id,
                 capacity=session.capacity, fields_json=json.dumps(session.fields) if session.fields else "")


def changed_draft(session: Session, request: scheduling_pb2.UpdateSessionRequest) -> Draft:
    """The stored session with the request's set fields applied."""
    draft = draft_of(session)
    changes: dict = {}
    for name in ("title", "agenda", "recurrence", "meeting_url", "capacity", "fields_json", "team_id"):
        if request.HasField(name):
            changes[name] = getattr(request, name)
    if request.set_facilitator_ids:
        changes["facilitator_ids"] = [p.strip() for p in request.facilitator_ids]
    start, end = instant(request, "start_time"), instant(request, "end_time")
    if start is not None:
        changes["start"] = start
        changes["end"] = end if end is not None else start + (session.end_at - session.start_at)
    elif end is not None:
        changes["end"] = end
    if request.modality:
        changes["modality"] = optional_label(scheduling_pb2.Modality, request.modality, "modality", session.modality)
    if request.clear_venue:
        changes |= {"venue_name": "", "venue_address": "", "venue_given": False}
    elif request.HasField("venue"):
        changes |= {"venue_name": request.venue.name, "venue_address": request.venue.address, "venue_given": True}
    if request.audience:
        changes["audience"] = optional_label(scheduling_pb2.Audience, request.audience, "audience", session.audience)
        if changes["audience"] != "team" and not request.HasField("team_id"):
            changes["team_id"] = ""
    return draft.replace(**changes)


def reshaped_series(session: Session, checked: Plan, existing: Sequence[Occurrence]) -> tuple[list, list, list]:
    """(kept, added, dropped) occurrences after an update. An exception (moved or cancelled) whose
    original start is still in the series is kept as it is in time; a moved one keeps its own room
    when it had one of its own."""
    by_start = {o.original_start.astimezone(dt.UTC): o for o in existing}
    copied = copied_fields(checked)
    old_key = session_venue_key(session)
    kept, added = [], []
    for slot in checked.slots:
        occurrence = by_start.pop(slot.original_start, None)
        if occurrence is None:
            added.extend(new_occurrences(session.id, session.community_id, checked, [slot], 0))
            continue
        own_room = (occurrence.status == "moved" and occurrence.venue_key != old_key
                    and checked.draft.modality != "virtual")
        for name, value in copied.items():
            if not (own_room and name in ("venue", "venue_key")):
                setattr(occurrence, name, value)
        if occurrence.status != "moved":
            occurrence.start_at, occurrence.end_at = slot.start, slot.end
        occurrence.sequence += 1
        kept.append(occurrence)
    return kept, added, list(by_start.values())
