"""Facts and roll-ups, changed in the caller's unit of work (the inbox record's transaction).

Each fact remembers what it last counted, so an event applied again changes nothing and a snapshot
older than the fact's is ignored; a change moves the roll-ups by the difference only.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence

from copnet.kernel import db
from copnet.kernel.db import utcnow
from copnet.kernel.errors import NotFound
from copnet.kernel.timestamps import instant
from copnet.membership.v1 import membership_pb2
import copnet.reflection.participation.years as years
from copnet.reflection.participation.directory import Directory
from copnet.reflection.participation.models import (
    AttendanceFact,
    CommunityFact,
    ParticipantFact,
    ParticipationRollup,
    ParticipationYear,
    PersonFact,
    RegistrationFact,
)
from copnet.reflection.participation.rollups import Contribution, reach_change
from copnet.scheduling.v1 import scheduling_pb2

Chain = Sequence[tuple[str, str]]  # (scope id, level), nearest first
COMMUNITY = "community"


def naive(value: dt.datetime | None) -> dt.datetime | None:
    """As the database gives datetimes back (naive UTC), to compare with what it holds."""
    if value is None or value.tzinfo is None:
        return value
    return value.astimezone(dt.UTC).replace(tzinfo=None)


def stamp(value) -> dt.datetime | None:
    return naive(instant(value)) if value.seconds or value.nanos else None


def rollup_key(scope_id: str, program_year: str) -> str:
    return f"{scope_id}|{program_year}"


def bump(uow: db.UnitOfWork, chain: Chain, program_year: str, increments: dict[str, int], teachers: int = 0) -> None:
    """Add `increments` (and `teachers`) to every roll-up of `chain` for the year; a school or
    district that gains its first teacher or loses its last changes the reach of those above it."""
    if not chain or (not teachers and not increments):
        return
    changes: dict[str, dict[str, int]] = defaultdict(dict)
    for position, (scope_id, level) in enumerate(chain):
        changes[scope_id].update(increments)
        if not teachers:
            continue
        changes[scope_id]["teachers"] = changes[scope_id].get("teachers", 0) + teachers
        before = uow.find_one(ParticipationRollup, {"_id": rollup_key(scope_id, program_year)})
        had = before.teachers if before else 0
        reach = reach_change(level, had, had + teachers)
        if reach:
            counter, step = reach
            for above, _ in chain[position + 1:]:
                changes[above][counter] = changes[above].get(counter, 0) + step
    for position, (scope_id, level) in enumerate(chain):
        parent = chain[position + 1][0] if position + 1 < len(chain) else ""
        uow.update_one(ParticipationRollup, {"_id": rollup_key(scope_id, program_year)}, {
            "$inc": changes[scope_id],
            "$set": {"scope_id": scope_id, "level": level, "parent_id": parent, "program_year": program_year}},
            upsert=True)
    uow.update_one(ParticipationYear, {"_id": program_year}, {"$inc": {"revision": 1}}, upsert=True)


def community_fact(uow: db.UnitOfWork, directory: Directory, community_id: str) -> CommunityFact:
    known = uow.find_one(CommunityFact, {"_id": community_id})
    if known is not None:
        return known
    try:
        found = directory.community(community_id)
        fields = {"program_year": found.program_year, "host_organization_id": found.host_organization_id,
                  "county_office_id": found.county_office_id, "region_id": found.region_id}
    except NotFound:  # deleted since: counted in the year the event happened, under no program
        fields = {}
    uow.update_one(CommunityFact, {"_id": community_id}, {"$set": fields or {"program_year": ""}}, upsert=True)
    return CommunityFact(community_id=community_id, **fields)


def person_fact(uow: db.UnitOfWork, directory: Directory, person_id: str) -> PersonFact:
    known = uow.find_one(PersonFact, {"_id": person_id})
    if known is not None:
        return known
    return describe_person(uow, directory, person_id) or PersonFact(person_id=person_id)


def describe_person(uow: db.UnitOfWork, directory: Directory, person_id: str) -> PersonFact | None:
    """Keep the person as membership has them now, unless what is kept is more recent."""
    person = directory.person(person_id)
    if person is None:
        return None
    known = uow.find_one(PersonFact, {"_id": person_id})
    as_of = naive(person.as_of)
    if known is not None and known.as_of and as_of and as_of < naive(known.as_of):
        return known
    placement = [{"organization_id": scope_id, "level": level} for scope_id, level in person.placement]
    uow.update_one(PersonFact, {"_id": person_id}, {"$set": {
        "placement": placement, "teaching_at_school": person.teaching_at_school, "as_of": as_of}}, upsert=True)
    return uow.find_one(PersonFact, {"_id": person_id})


def chain_of(placement) -> list[tuple[str, str]]:
    return [(placed.organization_id, placed.level) for placed in placement]


def year_of(community: CommunityFact, happened: dt.datetime | None) -> str:
    return community.program_year or years.containing(happened or utcnow())


def registration_changed(uow: db.UnitOfWork, directory: Directory, registration: membership_pb2.Registration) -> None:
    known = uow.find_one(RegistrationFact, {"_id": registration.id})
    as_of = max((t for t in (stamp(registration.create_time), stamp(registration.promote_time),
                             stamp(registration.cancel_time)) if t is not None), default=None)
    if known is not None and known.as_of and as_of and as_of < naive(known.as_of):
        return
    confirmed = registration.status == membership_pb2.REGISTRATION_STATUS_CONFIRMED
    was_confirmed = known.confirmed if known else False
    program_year = known.program_year if known else year_of(
        community_fact(uow, directory, registration.community_id), stamp(registration.create_time))
    uow.update_one(RegistrationFact, {"_id": registration.id}, {"$set": {
        "person_id": registration.person_id, "community_id": registration.community_id,
        "program_year": program_year, "confirmed": confirmed, "as_of": as_of}}, upsert=True)
    if confirmed == was_confirmed:
        return
    step = 1 if confirmed else -1
    bump(uow, [(registration.community_id, COMMUNITY)], program_year, {}, teachers=step)
    take_part(uow, directory, registration.person_id, program_year, registration.community_id, step)


def take_part(uow: db.UnitOfWork, directory: Directory, person_id: str, program_year: str, community_id: str,
              step: int) -> None:
    """The person gains (step 1) or loses (-1) a confirmed place in a community of the year; they
    count toward their placement's roll-ups while they hold at least one."""
    key = f"{person_id}|{program_year}"
    fact = uow.find_one(ParticipantFact, {"_id": key})
    if fact is None:
        if step < 0:
            return
        placement = person_fact(uow, directory, person_id).placement
        uow.update_one(ParticipantFact, {"_id": key}, {"$set": {
            "person_id": person_id, "program_year": program_year, "communities": [community_id],
            "placement": [{"organization_id": p.organization_id, "level": p.level} for p in placement]}},
            upsert=True)
        bump(uow, chain_of(placement), program_year, {}, teachers=1)
        return
    communities = set(fact.communities)
    taking_part = bool(communities)
    (communities.add if step > 0 else communities.discard)(community_id)
    uow.update_one(ParticipantFact, {"_id": key}, {"$set": {"communities": sorted(communities)}})
    if taking_part != bool(communities):
        bump(uow, chain_of(fact.placement), program_year, {}, teachers=1 if communities else -1)


def status_label(status: int) -> str:
    return scheduling_pb2.AttendanceStatus.Name(status).removeprefix("ATTENDANCE_STATUS_").lower()


def occurrence_start(occurrence_id: str) -> dt.datetime | None:
    """The original start an occurrence id carries ("<session>:<20261013T230000Z>")."""
    try:
        return dt.datetime.strptime(occurrence_id.rsplit(":", 1)[1], "%Y%m%dT%H%M%SZ")
    except (IndexError, ValueError):
        return None


def attendance_recorded(uow: db.UnitOfWork, directory: Directory, record: scheduling_pb2.AttendanceRecord) -> None:
    key = f"{record.occurrence_id}|{record.person_id}"
    known = uow.find_one(AttendanceFact, {"_id": key})
    record_time = stamp(record.record_time)
    if known is not None and known.record_time and record_time and record_time < naive(known.record_time):
        return
    status = status_label(record.status)
    now = Contribution.of(status, record.attended_minutes)
    if known is not None:
        program_year, placement = known.program_year, list(known.placement)
        before = Contribution.of(known.status, known.attended_minutes)
    else:
        happened = occurrence_start(record.occurrence_id) or record_time
        program_year = year_of(community_fact(uow, directory, record.community_id), happened)
        taking_part = uow.find_one(ParticipantFact, {"_id": f"{record.person_id}|{program_year}"})
        placement = list(taking_part.placement if taking_part else person_fact(uow, directory, record.person_id)
                         .placement)
        before = Contribution()
    uow.update_one(AttendanceFact, {"_id": key}, {"$set": {
        "community_id": record.community_id, "program_year": program_year, "status": status,
        "attended_minutes": record.attended_minutes, "record_time": record_time,
        "placement": [{"organization_id": p.organization_id, "level": p.level} for p in placement]}}, upsert=True)
    change = now.minus(before).increments()
    bump(uow, [(record.community_id, COMMUNITY)], program_year, change)
    bump(uow, chain_of(placement), program_year, change)


def person_updated(uow: db.UnitOfWork, directory: Directory, person_id: str) -> None:
    """A participant's new description (a roster import, an edit): kept for retention and for their
    placement in years they have not taken part in yet."""
    if uow.find_one(PersonFact, {"_id": person_id}) is not None:
        describe_person(uow, directory, person_id)
