"""participation's collections: facts kept per registration, person and attendance record (so an
event applied again, or an older snapshot after a newer one, changes nothing), and roll-ups per
organization or community and program year (so a read never scans facts)."""

import mongoengine as me


class PlacedIn(me.EmbeddedDocument):
    """One organization of a person's placement, from their school up to the state."""

    organization_id = me.StringField(required=True)
    level = me.StringField(required=True)


class RegistrationFact(me.Document):
    """A registration as last seen: confirmed or not, as of membership's latest change of it."""

    registration_id = me.StringField(primary_key=True)
    person_id = me.StringField(required=True)
    community_id = me.StringField(required=True)
    program_year = me.StringField(required=True)
    confirmed = me.BooleanField(default=False)
    as_of = me.DateTimeField()
    meta = {"collection": "participation_registrations", "indexes": ["community_id", "person_id"]}


class CommunityFact(me.Document):
    """What participation needs of a community (asked of membership once)."""

    community_id = me.StringField(primary_key=True)
    program_year = me.StringField(default="")
    host_organization_id = me.StringField(default="")
    county_office_id = me.StringField(default="")
    region_id = me.StringField(default="")
    meta = {"collection": "participation_communities"}


class PersonFact(me.Document):
    """A person's placement (their school and every organization above it) and whether they teach
    at a school, as of membership's latest change of the person."""

    person_id = me.StringField(primary_key=True)
    placement = me.EmbeddedDocumentListField(PlacedIn)
    teaching_at_school = me.BooleanField(default=False)
    as_of = me.DateTimeField()
    meta = {"collection": "participation_people"}


class ParticipantFact(me.Document):
    """One person taking part in one program year: the communities they hold a confirmed place in
    (empty once every one is cancelled) and where they are counted for that year (their placement
    when first counted, so a move mid-year does not shift a year's counts)."""

    key = me.StringField(primary_key=True)  # "<person>|<program year>"
    person_id = me.StringField(required=True)
    program_year = me.StringField(required=True)
    communities = me.ListField(me.StringField())
    placement = me.EmbeddedDocumentListField(PlacedIn)
    meta = {"collection": "participation_participants",
            "indexes": [("placement.organization_id", "program_year"), ("communities", "program_year"), "person_id"]}


class AttendanceFact(me.Document):
    """One attendance record as last counted (status, minutes) and the roll-ups it counted toward."""

    key = me.StringField(primary_key=True)  # "<occurrence>|<person>"
    community_id = me.StringField(required=True)
    program_year = me.StringField(required=True)
    status = me.StringField(required=True)
    attended_minutes = me.IntField(default=0)
    # The person's placement for the year when the record was first counted.
    placement = me.EmbeddedDocumentListField(PlacedIn)
    record_time = me.DateTimeField()
    meta = {"collection": "participation_attendance"}


class ParticipationRollup(me.Document):
    """Sums for one organization or community and program year, kept with $inc in the same
    transaction as the inbox record of the event that changed them."""

    key = me.StringField(primary_key=True)  # "<scope id>|<program year>"
    scope_id = me.StringField(required=True)
    level = me.StringField(required=True)
    parent_id = me.StringField(default="")
    program_year = me.StringField(required=True)
    teachers = me.IntField(default=0)
    schools_reached = me.IntField(default=0)
    districts_reached = me.IntField(default=0)
    expected_records = me.IntField(default=0)
    attended_records = me.IntField(default=0)
    attended_minutes = me.IntField(default=0)
    meta = {"collection": "participation_rollups", "indexes": [("program_year", "level", "parent_id"), "scope_id"]}


class ParticipationYear(me.Document):
    """Changes to a program year's roll-ups (`revision`) and the revision participation.published
    last sent: the job looks at a year only when they differ."""

    program_year = me.StringField(primary_key=True)
    revision = me.IntField(default=0)
    published_revision = me.IntField(default=0)
    meta = {"collection": "participation_years"}


class PublishedParticipation(me.Document):
    """What was last sent for one (organization, program year)."""

    key = me.StringField(primary_key=True)
    version = me.IntField(required=True, min_value=1)
    digest = me.StringField(required=True)
    meta = {"collection": "participation_published"}


class BackfillState(me.Document):
    """Whether the facts were built from membership's and scheduling's current lists."""

    id = me.StringField(primary_key=True)
    done = me.BooleanField(default=False)
    meta = {"collection": "participation_backfill"}


DOCUMENTS = [RegistrationFact, CommunityFact, PersonFact, ParticipantFact, AttendanceFact, ParticipationRollup,
             ParticipationYear,
             PublishedParticipation, BackfillState]
