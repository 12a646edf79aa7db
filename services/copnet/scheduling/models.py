"""scheduling's collections (in its own database).

Occurrences are materialized: a series is expanded once when written, so every read (conflicts,
feeds, reminders, attendance) is an indexed range query instead of an RRULE expansion.
"""

import mongoengine as me

MILESTONE_KINDS = ("call_opens", "proposals_due", "offerings_finalized", "signup_opens", "soft_deadline",
                   "signup_closes", "kick_off", "orientation", "in_person_session", "final_product_due", "custom")
# The kinds membership applies; at most one of each per program, and they cannot be deleted.
LINKED_MILESTONE_KINDS = ("call_opens", "proposals_due", "signup_opens", "soft_deadline", "signup_closes")
MODALITIES = ("virtual", "in_person", "hybrid")
AUDIENCES = ("all_members", "leaders_only", "team")
SESSION_STATUSES = ("scheduled", "cancelled")
OCCURRENCE_STATUSES = ("scheduled", "moved", "cancelled")
ATTENDANCE_STATUSES = ("present", "late", "absent", "excused")


class Calendar(me.Document):
    id = me.StringField(primary_key=True)
    community_id = me.StringField(required=True)
    created_at = me.DateTimeField(required=True)
    meta = {"collection": "calendars", "indexes": [{"fields": ["community_id"], "unique": True}]}


# -- program timelines --------------------------------------------------------------------------
class Timeline(me.Document):
    """A program's timeline head: its revision grows with every milestone change, in the same
    transaction, so membership can apply linked dates in order and ignore stale ones."""

    id = me.StringField(primary_key=True)  # the program id
    revision = me.IntField(default=0)
    program_year = me.StringField(default="")
    owner_organization_id = me.StringField(default="")
    time_zone = me.StringField(default="")
    scope = me.ListField(me.StringField())
    updated_at = me.DateTimeField()
    meta = {"collection": "timelines"}


class Milestone(me.Document):
    id = me.StringField(primary_key=True)
    program_id = me.StringField(required=True)
    kind = me.StringField(required=True, choices=MILESTONE_KINDS)
    # Set for linked kinds only: unique per program, so two writers cannot both create one.
    linked_key = me.StringField()
    title = me.StringField(required=True, max_length=200)
    description = me.StringField(default="", max_length=2000)
    at = me.DateTimeField(required=True)
    time_zone = me.StringField(required=True)
    timeline_revision = me.IntField(default=0)
    created_at = me.DateTimeField(required=True)
    updated_at = me.DateTimeField()
    updated_by = me.StringField(default="")
    meta = {"collection": "milestones",
            "indexes": [("program_id", "at"), {"fields": ["linked_key"], "unique": True, "sparse": True}]}


# -- sessions -----------------------------------------------------------------------------------
class Venue(me.EmbeddedDocument):
    name = me.StringField(default="", max_length=200)
    address = me.StringField(default="", max_length=500)


class Session(me.Document):
    """A single convening or a recurring series (the iCalendar master event)."""

    id = me.StringField(primary_key=True)
    community_id = me.StringField(required=True)
    program_id = me.StringField(default="")
    # The community's host ancestry plus the host: plugin configuration and access apply here.
    scope = me.ListField(me.StringField())
    session_type = me.StringField(required=True)
    title = me.StringField(required=True, max_length=200)
    agenda = me.StringField(default="", max_length=20000)
    facilitator_ids = me.ListField(me.StringField())
    start_at = me.DateTimeField(required=True)
    end_at = me.DateTimeField(required=True)
    time_zone = me.StringField(required=True)
    recurrence = me.StringField(default="")
    modality = me.StringField(required=True, choices=MODALITIES)
    venue = me.EmbeddedDocumentField(Venue)
    meeting_url = me.StringField(default="")
    audience = me.StringField(required=True, choices=AUDIENCES)
    team_id = me.StringField(default="")
    capacity = me.IntField(default=0, min_value=0)
    fields = me.DictField()
    status = me.StringField(default="scheduled", choices=SESSION_STATUSES)
    cancel_reason = me.StringField(default="")
    sequence = me.IntField(default=0)
    occurrence_count = me.IntField(default=0)
    created_by = me.StringField(default="")
    created_at = me.DateTimeField(required=True)
    updated_at = me.DateTimeField()
    meta = {"collection": "sessions", "indexes": [("community_id", "start_at")]}


class Occurrence(me.Document):
    """One meeting of a session. `id` is "<session id>:<original start, 20261013T230000Z>"."""

    id = me.StringField(primary_key=True)
    session_id = me.StringField(required=True)
    community_id = me.StringField(required=True)
    program_id = me.StringField(default="")
    original_start = me.DateTimeField(required=True)
    start_at = me.DateTimeField(required=True)
    end_at = me.DateTimeField(required=True)
    status = me.StringField(default="scheduled", choices=OCCURRENCE_STATUSES)
    # Copied from the session (or overridden for this occurrence) so reads need no join.
    title = me.StringField(default="")
    session_type = me.StringField(default="")
    modality = me.StringField(default="virtual", choices=MODALITIES)
    venue = me.EmbeddedDocumentField(Venue)
    # Normalized venue name + address; empty when there is no room to double-book.
    venue_key = me.StringField(default="")
    meeting_url = me.StringField(default="")
    facilitator_ids = me.ListField(me.StringField())
    audience = me.StringField(default="all_members", choices=AUDIENCES)
    team_id = me.StringField(default="")
    time_zone = me.StringField(default="")
    cancel_reason = me.StringField(default="")
    sequence = me.IntField(default=0)
    # Reminder leads (minutes) whose reminders all went out (the reminder job skips them then).
    reminded_leads = me.ListField(me.IntField())
    meta = {"collection": "occurrences",
            "indexes": [("session_id", "original_start"), ("community_id", "start_at"),
                        ("venue_key", "start_at"), ("facilitator_ids", "start_at"), ("status", "start_at")]}


class VenueLock(me.Document):
    """Written in every transaction that books a room, so two concurrent bookings of one venue
    conflict in the database and one of them re-checks."""

    id = me.StringField(primary_key=True)  # the venue key
    touched_at = me.DateTimeField()
    meta = {"collection": "venue_locks"}


# -- attendance ---------------------------------------------------------------------------------
class AttendanceRecord(me.Document):
    id = me.StringField(primary_key=True)  # "<occurrence id>|<person id>"
    occurrence_id = me.StringField(required=True)
    session_id = me.StringField(required=True)
    community_id = me.StringField(required=True)
    program_id = me.StringField(default="")
    person_id = me.StringField(required=True)
    status = me.StringField(required=True, choices=ATTENDANCE_STATUSES)
    attended_minutes = me.IntField(default=0, min_value=0)
    note = me.StringField(default="", max_length=2000)
    recorded_by = me.StringField(default="")
    recorded_at = me.DateTimeField(required=True)
    meta = {"collection": "attendance",
            "indexes": ["occurrence_id", ("community_id", "person_id"), ("person_id", "program_id")]}


# -- feeds and reminders ------------------------------------------------------------------------
class FeedToken(me.Document):
    id = me.StringField(primary_key=True)  # the person id: one live token per person
    token_hash = me.StringField(required=True)
    issued_at = me.DateTimeField(required=True)
    meta = {"collection": "feed_tokens", "indexes": [{"fields": ["token_hash"], "unique": True}]}


class ReminderSent(me.Document):
    """The ledger that makes a reminder go out once: its id is unique, and it is inserted in the
    same transaction as the reminder's outbox entry."""

    id = me.StringField(primary_key=True)  # "<occurrence id>|<person id>|<lead minutes>"
    occurrence_id = me.StringField(required=True)
    person_id = me.StringField(required=True)
    sent_at = me.DateTimeField(required=True)
    meta = {"collection": "reminders_sent", "indexes": ["occurrence_id"]}
