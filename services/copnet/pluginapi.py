"""What a plugin author works with: settings, the context of a call, and the values hooks take
and return. Everything here is re-exported from `copnet` (`from copnet import SessionType`).

Hook arguments are frozen snapshots: a plugin can read what it is given about one region and
nothing else, and cannot change copnet's data through them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict, Field

from copnet.kernel.enums import GRADE_BAND_SPELLING


# Grade bands as plugins see and return them (the REST API's spelling), in order; and copnet's
# stored labels (`k_2`) -> that spelling.
GRADE_BANDS = tuple(GRADE_BAND_SPELLING.values())
GRADE_BAND_OF_LABEL = GRADE_BAND_SPELLING


class PluginSettings(BaseModel):
    """Base class of a plugin's `Settings`: unknown keys are refused, values are immutable.

    Declare secrets (API keys, webhook URLs) as `pydantic.SecretStr`: the API never shows them.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)


@dataclass(frozen=True)
class PluginContext:
    """Where a hook call applies: the plugin, the organization whose configuration is in effect
    (a region, or a county office overriding it), that region, and the target's scope."""

    plugin: str
    organization_id: str
    region_id: str
    scope: tuple[str, ...]


# -- session types ------------------------------------------------------------------------------
class SessionType(BaseModel):
    """A kind of session a community can schedule (returned by `register_session_types`)."""

    model_config = ConfigDict(extra="forbid")

    key: str = Field(pattern=r"^[a-z][a-z0-9_]{1,62}$", description="Unique across plugins, e.g. `equity_workshop`.")
    title: str = Field(min_length=1, max_length=200)
    description: str = Field("", max_length=2000)
    default_duration_minutes: int = Field(ge=1, le=1440)
    fields: dict[str, Any] = Field(default_factory=lambda: {"type": "object", "properties": {}},
                                   description="JSON Schema (an object) for the extra fields a session of this "
                                               "type carries; sessions are validated against it.")
    preparation_prompts: list[str] = Field(default_factory=list)
    reflection_prompts: list[str] = Field(default_factory=list)


# -- sign-up validation -------------------------------------------------------------------------
@dataclass(frozen=True)
class SignupAffiliation:
    organization_id: str
    position: str
    # The organization's ancestry plus itself.
    scope: tuple[str, ...]


@dataclass(frozen=True)
class SignupPerson:
    id: str
    # Spelled as in GRADE_BANDS ("K-2", ...).
    grade_bands: tuple[str, ...]
    affiliations: tuple[SignupAffiliation, ...]


@dataclass(frozen=True)
class SignupCommunity:
    id: str
    kind: str
    host_organization_id: str
    region_id: str
    county_office_id: str
    grade_bands: tuple[str, ...]
    scope: tuple[str, ...]


@dataclass(frozen=True)
class SignupAttempt:
    """Someone about to take a seat (or a place on the waiting list): `validate_registration`'s argument."""

    person: SignupPerson
    community: SignupCommunity
    # Set when the person registers with their school team.
    team_id: str = ""


# -- event reactions ----------------------------------------------------------------------------
@dataclass(frozen=True)
class EventView:
    """A domain event as a plugin sees it (`react_to_event`); `data` is the JSON payload, a copy."""

    id: str
    type: str
    source: str
    subject: str
    time: dt.datetime
    data: Mapping[str, Any]
    scope: tuple[str, ...] = ()


# -- roster sources -----------------------------------------------------------------------------
@dataclass(frozen=True)
class RosterOrganization:
    id: str
    name: str
    kind: str
    parent_id: str = ""
    code: str = ""


@dataclass(frozen=True)
class RosterPerson:
    id: str
    name: str
    email: str
    grade_bands: tuple[str, ...] = ()


@dataclass(frozen=True)
class RosterAffiliation:
    person_id: str
    organization_id: str
    position: str


@dataclass(frozen=True)
class RosterRowError:
    file: str
    row: int
    message: str


@dataclass
class RosterBatch:
    """What a roster source read: records to import, and the rows it could not use."""

    organizations: list[RosterOrganization] = field(default_factory=list)
    people: list[RosterPerson] = field(default_factory=list)
    affiliations: list[RosterAffiliation] = field(default_factory=list)
    errors: list[RosterRowError] = field(default_factory=list)


@runtime_checkable
class RosterSource(Protocol):
    key: str
    title: str

    def read(self, files: Mapping[str, bytes], settings: PluginSettings | None) -> RosterBatch: ...


# -- calendar feeds (scheduling) ----------------------------------------------------------------
@dataclass(frozen=True)
class FeedOverride:
    """One occurrence of a series that no longer happens where the rule puts it: moved (new
    start, end and location) or cancelled. `recurrence_id` is where the rule put it (UTC)."""

    recurrence_id: dt.datetime
    start: dt.datetime
    end: dt.datetime
    cancelled: bool = False
    location: str = ""
    sequence: int = 0


@dataclass(frozen=True)
class FeedEvent:
    """A session as a calendar sees it: one event, or a series (`rrule`) with its exceptions.

    Instants are timezone-aware UTC; `time_zone` (IANA) is where the wall-clock times and the
    recurrence belong, so a series stays at 4 pm across a daylight-saving change. `rrule` is the
    effective rule (bounded: an open-ended one carries the program year's end as UNTIL).
    """

    uid: str
    sequence: int
    summary: str
    start: dt.datetime
    end: dt.datetime
    time_zone: str
    description: str = ""
    location: str = ""
    url: str = ""
    rrule: str = ""
    # Cancelled occurrences of the series, by their original start (UTC); also in `overrides`.
    exdates: tuple[dt.datetime, ...] = ()
    overrides: tuple[FeedOverride, ...] = ()
    # The whole session is cancelled.
    cancelled: bool = False
    categories: tuple[str, ...] = ()
    created: dt.datetime | None = None
    last_modified: dt.datetime | None = None


@dataclass(frozen=True)
class CalendarFeed:
    """A community's or a person's sessions: `CalendarExporter.export`'s argument."""

    name: str
    # The calendar's own time zone (a community's, or a person's first community's).
    time_zone: str
    events: tuple[FeedEvent, ...]
    description: str = ""
    # Stable per feed (iCalendar PRODID is copnet's; this names the calendar).
    feed_id: str = ""


@runtime_checkable
class CalendarExporter(Protocol):
    """Turns a community's or a person's sessions into a calendar file (scheduling's feeds).

    `key` is what a feed URL asks for (`?format=ics`); `media_type` is served with the content.
    """

    key: str
    media_type: str
    file_extension: str

    def export(self, calendar: CalendarFeed, settings: PluginSettings | None) -> bytes: ...


# -- notifications ------------------------------------------------------------------------------
# What all the notifiers of one notification share, in seconds: each gets its fair share of what
# is left (at least the hook deadline), and what is still running after that is abandoned. A
# notifier's own time-outs (one SMTP conversation, one HTTP attempt) belong well inside it.
NOTIFY_BUDGET_SECONDS = 6.0


@dataclass(frozen=True)
class NotificationPerson:
    id: str
    name: str
    email: str


@dataclass(frozen=True)
class Notification:
    """Something to tell one person: `Notifier.notify`'s argument.

    `kind` is the event it comes from, e.g. "session.reminder"; `subject` and `body` are ready to
    send as plain text; `data` is the event's JSON payload (a copy) for richer channels.
    """

    id: str
    kind: str
    person: NotificationPerson
    subject: str
    body: str
    data: Mapping[str, Any] = field(default_factory=dict)
    # Where more is (e.g. the community's page); may be empty.
    link: str = ""


@runtime_checkable
class Notifier(Protocol):
    """Delivers a notification (a session reminder) over some channel; raise to report a failure."""

    key: str

    def notify(self, notification: Notification, settings: PluginSettings | None) -> None: ...


# -- declared for later issues ------------------------------------------------------------------
@runtime_checkable
class AssessmentImporter(Protocol):
    """Reads a local assessment export into pseudonymous student rows (reflection)."""

    key: str
    title: str

    def read(self, files: Mapping[str, bytes], settings: PluginSettings | None) -> Any: ...


@runtime_checkable
class ReflectionMetric(Protocol):
    """A metric computed over aggregated participation or outcome data (reflection)."""

    key: str
    title: str

    def compute(self, data: Any, settings: PluginSettings | None) -> Any: ...


# -- gateway ------------------------------------------------------------------------------------
class DashboardPanel(BaseModel):
    """A panel on a region's dashboard (`register_dashboard_panels`)."""

    key: str = Field(pattern=r"^[a-z][a-z0-9_-]{1,62}$")
    title: str = Field(min_length=1, max_length=200)
    body: str = Field("", max_length=20000, description="Plain text or Markdown shown in the panel.")
    link: str | None = Field(None, description="Where the panel's 'more' link goes, if anywhere.")
