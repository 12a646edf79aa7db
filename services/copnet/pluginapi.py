"""What a plugin author works with: settings, the context of a call, and the values hooks take
and return. Everything here is re-exported from `copnet` (`from copnet import SessionType`).

Hook arguments are frozen snapshots: a plugin can read what it is given about one region and
nothing else, and cannot change copnet's data through them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo

from copnet.kernel.enums import GRADE_BAND_SPELLING


# Grade bands as plugins see and return them (the REST API's spelling), in order.
GRADE_BANDS = tuple(GRADE_BAND_SPELLING.values())


class PluginSettings(BaseModel):
    """Base class of a plugin's `Settings`: unknown keys are refused, values are immutable.

    Declare secrets (API keys, webhook URLs) as `pydantic.SecretStr`: the API never shows them.
    A secret that is only good for one destination (a password for one SMTP server) names the
    settings that make up that destination with `secret_bound_to`, so changing them needs the
    secret again. A validator's message must never include the value it refuses.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)


# The key in the key-value pairs pydantic hands validators as `info.context`, set when a lead saves settings.
SAVING_CONTEXT = "copnet.saving"
# The JSON Schema keyword that names a secret's destination fields (see `secret_bound_to`).
BOUND_TO = "x-copnet-bound-to"


def saving(info: ValidationInfo) -> bool:
    """Whether settings are being validated because a lead saves them, rather than read back to
    run a hook. Checks that ask the outside world (e.g. `copnet.check_destination`, which
    resolves a host name) belong only there: a validator takes `info` and tests this first."""
    return bool(info.context) and bool(info.context.get(SAVING_CONTEXT))


def secret_bound_to(*fields: str) -> dict[str, Any]:
    """`json_schema_extra` for a secret field that is only good for the destination these
    settings name, e.g. `password: SecretStr | None = Field(None, json_schema_extra=
    secret_bound_to("host", "port", "username"))`.

    A lead who changes any of these fields must give the secret again: a kept (write-only)
    secret is never sent to a destination other than the one it was given for. Saving without
    it is refused with reason `SECRET_REQUIRED` naming `settings.<secret>`. The schema shows the
    binding (`x-copnet-bound-to`), so a client can ask for the secret when a destination changes.
    """
    if not fields:
        raise ValueError("secret_bound_to needs at least one field")
    return {BOUND_TO: list(fields)}


# -- failures -----------------------------------------------------------------------------------
class PluginError(Exception):
    """A failure a plugin reports, with a `category` a region's leads may read.

    copnet logs the message (with the plugin's name), but shows leads only the category: an
    automatic disabling's reason, a failed export. Keep the category a few words without detail
    ("connection failed", "timed out", "HTTP error"), so that nothing a destination answered
    (a status, "connection refused") reaches someone who could use it to probe the network.
    Other exceptions are shown as "error", time-outs as "timed out".
    """

    category = "error"

    def __init__(self, message: str, *, category: str | None = None):
        super().__init__(message)
        if category is not None:
            self.category = category


class UnusableInput(PluginError):
    """Raise when the input, not the plugin, is the problem: a person without an email address,
    a recipient the mail server refuses, a record the plugin cannot represent.

    It is logged as a warning and skipped like any failure, but it never counts toward switching
    the plugin off: data must not be able to disable a plugin for a whole region.
    """

    category = "input not usable"


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


# -- assessment data (reflection) ---------------------------------------------------------------
# What an importer reads a file into: one of these kinds, in batches of rows in the kind's
# columns (`copnet.reflection.columns` names and types them: STUDENT_SCORES, AGGREGATE_RESULTS,
# CLASS_ENROLLMENTS). Columns are pyarrow arrays, so a file of a million rows is read, checked and
# stored a batch at a time, never whole in memory and never row by row in Python.
ASSESSMENT_KINDS = ("student_scores", "aggregate_results", "class_enrollments")


@dataclass(frozen=True)
class AssessmentRowError:
    """A row an importer could not read: the file, its 1-based row number (a CSV header is row 1),
    the field, a stable reason in capitals (e.g. `NOT_A_NUMBER`) and a message naming the value's
    problem, never the value of a student identifier."""

    file: str
    row: int
    field: str
    reason: str
    message: str


@dataclass
class AssessmentBatch:
    """Rows read from a file: a `pyarrow.Table` (or RecordBatch) in the importer kind's columns,
    with a `row` column holding each row's number in the file, and the rows that could not be
    read. `bytes_read` is how far into the file the importer is (for progress)."""

    rows: Any
    errors: list[AssessmentRowError] = field(default_factory=list)
    bytes_read: int = 0


@dataclass(frozen=True)
class AssessmentFile:
    """The file an import reads: its name as uploaded and a binary stream positioned at its start."""

    name: str
    stream: Any
    size_bytes: int = 0


@runtime_checkable
class AssessmentImporter(Protocol):
    """Reads one kind of assessment export (`register_assessment_importers`).

    `read` yields `AssessmentBatch`es as it goes through the file. Raise `UnusableInput` when the
    file as a whole is not in the importer's shape (a missing column, not CSV): the import fails
    with the message, and nothing of it is kept. Student ids are pseudonymised by copnet as soon
    as a batch is returned; an importer keeps nothing and writes nothing.
    """

    key: str
    title: str
    kind: str  # one of ASSESSMENT_KINDS
    description: str

    def read(self, file: AssessmentFile, settings: PluginSettings | None) -> Iterator[AssessmentBatch]: ...


@dataclass(frozen=True)
class MeasureCellView:
    """One published (already small-cell suppressed) measure cell, as a metric plugin sees it.
    A suppressed cell has `suppressed` set and every figure None."""

    organization_id: str
    level: str
    student_group: str
    grade: str
    test: str
    school_year: str
    window: str
    suppressed: bool
    students_tested: int | None = None
    mean_scale_score: float | None = None
    percent_met_or_exceeded: float | None = None
    distance_from_standard: float | None = None


@dataclass(frozen=True)
class MetricValue:
    """What a reflection metric computed for one organization (None: not computable here)."""

    organization_id: str
    value: float | None
    label: str = ""
    note: str = ""


@runtime_checkable
class ReflectionMetric(Protocol):
    """A measure of a region's own (`register_reflection_metrics`), computed from published,
    suppressed cells only: a plugin never sees a small cell."""

    key: str
    title: str
    description: str

    def compute(self, cells: Sequence[MeasureCellView], settings: PluginSettings | None) -> Sequence[MetricValue]: ...


# -- gateway ------------------------------------------------------------------------------------
class DashboardPanel(BaseModel):
    """A panel on a region's dashboard (`register_dashboard_panels`)."""

    key: str = Field(pattern=r"^[a-z][a-z0-9_-]{1,62}$")
    title: str = Field(min_length=1, max_length=200)
    body: str = Field("", max_length=20000, description="Plain text or Markdown shown in the panel.")
    link: str | None = Field(None, description="Where the panel's 'more' link goes, if anywhere.")
