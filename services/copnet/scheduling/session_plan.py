"""What a session will be once written: its fields checked against every rule, and its series
expanded. Used by create and update alike, so an update is held to exactly the rules of a create.
Everything here only reads (membership, the plugins' session types); nothing is written.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import urllib.parse
from dataclasses import dataclass, field

from copnet.kernel.errors import InvalidArgument
from copnet.kernel.inputs import optional_line, optional_text
from copnet.kernel.service import ServiceContext
from copnet.scheduling import conflicts, recurrence, session_fields
from copnet.scheduling.catalog import collect_session_types
from copnet.scheduling.directory import CommunityFacts, Directory
from copnet.scheduling.models import AUDIENCES, MODALITIES
from copnet.scheduling.v1 import scheduling_pb2

TITLE_MAX = 200
AGENDA_MAX = 20000
VENUE_NAME_MAX = 200
VENUE_ADDRESS_MAX = 500
URL_MAX = 2000
MAX_LENGTH = dt.timedelta(hours=24)


@dataclass
class Draft:
    """A session's fields as requested (create) or as they would become (update)."""

    session_type: str
    start: dt.datetime | None
    end: dt.datetime | None = None
    title: str = ""
    agenda: str = ""
    facilitator_ids: list[str] = field(default_factory=list)
    recurrence: str = ""
    modality: str = "virtual"
    venue_name: str = ""
    venue_address: str = ""
    # True when the venue was given at all (a virtual session with a venue is refused).
    venue_given: bool = False
    meeting_url: str = ""
    audience: str = "all_members"
    team_id: str = ""
    capacity: int = 0
    fields_json: str = ""

    def replace(self, **changes) -> Draft:
        return dataclasses.replace(self, **changes)


@dataclass(frozen=True)
class Plan:
    """A checked draft: what gets stored, and the series' occurrences."""

    draft: Draft
    type_title: str
    fields: dict
    time_zone: str
    program_id: str
    venue_key: str
    slots: list[recurrence.Slot]

    @property
    def start(self) -> dt.datetime:
        return self.slots[0].start

    @property
    def end(self) -> dt.datetime:
        return self.slots[0].end


def session_type_of(ctx: ServiceContext, community: CommunityFacts, key: str) -> scheduling_pb2.SessionType:
    if not key:
        raise InvalidArgument.for_field("session_type", "is required")
    for session_type in collect_session_types(ctx, list(community.scope)):
        if session_type.key == key:
            return session_type
    raise InvalidArgument.for_field("session_type", f"{key!r} is not a session type offered to community "
                                                    f"{community.id!r}", reason="UNKNOWN_SESSION_TYPE")


def check_times(start: dt.datetime | None, end: dt.datetime | None) -> None:
    if start is None:
        raise InvalidArgument.for_field("start_time", "is required")
    if end is None:
        raise InvalidArgument.for_field("end_time", "is required (the session type has no default duration)")
    if end <= start:
        raise InvalidArgument.for_field("end_time", "must be after start_time", reason="END_BEFORE_START")
    if end - start > MAX_LENGTH:
        raise InvalidArgument.for_field("end_time", "a session lasts at most 24 hours (use a recurrence for "
                                                    "several days)", reason="SESSION_TOO_LONG")


def check_venue(modality: str, name: str, address: str, given: bool, field_name: str = "venue") -> str:
    """The venue key; VENUE_REQUIRED / VENUE_NOT_ALLOWED by modality."""
    optional_line(name, f"{field_name}.name", VENUE_NAME_MAX)
    optional_text(address, f"{field_name}.address", VENUE_ADDRESS_MAX)
    if modality == "virtual":
        if given and (name.strip() or address.strip()):
            raise InvalidArgument.for_field(field_name, "a virtual session has no venue (use meeting_url)",
                                            reason="VENUE_NOT_ALLOWED")
        return conflicts.UNBOOKED
    if not name.strip():
        raise InvalidArgument.for_field(f"{field_name}.name", f"is required for a {modality.replace('_', '-')} "
                                                              "session", reason="VENUE_REQUIRED")
    return conflicts.venue_key(modality, name, address)


def check_url(url: str) -> str:
    url = url.strip()
    if not url:
        return ""
    parsed = urllib.parse.urlparse(url)
    if len(url) > URL_MAX or parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise InvalidArgument.for_field("meeting_url", "must be an http(s) URL", reason="INVALID_URL")
    return url


def check_facilitators(directory: Directory, community: CommunityFacts, requested: list[str]) -> list[str]:
    chosen = list(dict.fromkeys(requested)) if requested else list(community.facilitator_ids)
    for index, person_id in enumerate(chosen):
        if not person_id:
            raise InvalidArgument.for_field(f"facilitator_ids[{index}]", "is empty", reason="UNKNOWN_PERSON")
        directory.person(person_id, field=f"facilitator_ids[{index}]")
    return chosen


def check_audience(directory: Directory, community: CommunityFacts, audience: str, team_id: str) -> str:
    if audience not in AUDIENCES:
        raise InvalidArgument.for_field("audience", f"unknown audience {audience!r}")
    if audience != "team":
        if team_id:
            raise InvalidArgument.for_field("team_id", "is only for audience team")
        return ""
    if not team_id:
        raise InvalidArgument.for_field("team_id", "is required for audience team", reason="UNKNOWN_TEAM")
    team = directory.team(team_id, field="team_id")
    if team.community_id != community.id:
        raise InvalidArgument.for_field("team_id", f"team {team_id!r} is not a team of community {community.id!r}",
                                        reason="UNKNOWN_TEAM")
    return team_id


def plan(ctx: ServiceContext, directory: Directory, community: CommunityFacts, draft: Draft) -> Plan:
    """The draft checked against every rule (InvalidArgument naming the first field at fault)."""
    session_type = session_type_of(ctx, community, draft.session_type)
    schema = json.loads(session_type.fields_schema_json or "{}")
    fields = session_fields.validate_fields(session_fields.parsed_fields(draft.fields_json), schema, session_type.key)
    title = optional_line(draft.title, "title", TITLE_MAX) or session_type.title
    agenda = optional_text(draft.agenda, "agenda", AGENDA_MAX)
    facilitators = check_facilitators(directory, community, draft.facilitator_ids)
    end = draft.end
    if end is None and draft.start is not None and session_type.default_duration_minutes > 0:
        end = draft.start + dt.timedelta(minutes=session_type.default_duration_minutes)
    check_times(draft.start, end)
    time_zone = community.time_zone
    recurrence.zone_of(time_zone)
    if draft.modality not in MODALITIES:
        raise InvalidArgument.for_field("modality", f"unknown modality {draft.modality!r}")
    key = check_venue(draft.modality, draft.venue_name, draft.venue_address, draft.venue_given)
    url = check_url(draft.meeting_url)
    team_id = check_audience(directory, community, draft.audience, draft.team_id.strip())
    if draft.capacity < 0:
        raise InvalidArgument.for_field("capacity", "must not be negative")
    year = None
    if community.program_id:
        program = directory.program(community.program_id, field=None)
        year = (program.year_start, program.year_end)
    slots = recurrence.expand(draft.recurrence, draft.start, end, time_zone, year)
    in_a_room = draft.modality != "virtual"
    checked = draft.replace(title=title, agenda=agenda, facilitator_ids=facilitators, end=end,
                            recurrence=recurrence.normalized(draft.recurrence), meeting_url=url, team_id=team_id,
                            venue_name=draft.venue_name.strip() if in_a_room else "",
                            venue_address=draft.venue_address.strip() if in_a_room else "")
    return Plan(draft=checked, type_title=session_type.title, fields=fields, time_zone=time_zone,
                program_id=community.program_id, venue_key=key, slots=slots)
