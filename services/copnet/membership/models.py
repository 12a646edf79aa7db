"""membership's collections (in its own database).

Enumerations are stored as the lower-case labels of the proto enums (`copnet.kernel.enums`):
`county_office`, `k_2`, `site_admin`, `waitlisted`.
"""

from __future__ import annotations

import mongoengine as me

from copnet.kernel.enums import GRADE_BAND_SPELLING

ORGANIZATION_KINDS = ("state", "region", "county_office", "district", "school", "network", "university",
                      "partner")
COMMUNITY_KINDS = ("plc", "math_team", "cross_district_team", "equity_cohort", "lesson_study", "leadership",
                   "network")
COMMUNITY_STATUSES = ("draft", "open", "closed", "active", "completed")
GRADE_BANDS = tuple(GRADE_BAND_SPELLING)
POSITIONS = ("teacher", "coach", "specialist", "site_admin", "district_admin", "county_leader",
             "university_partner", "researcher")
ROLES = ("member", "facilitator", "county_admin", "regional_lead", "state_coordinator", "platform_admin",
         "data_steward")
PROPOSAL_STATUSES = ("submitted", "accepted", "declined")
REGISTRATION_STATUSES = ("confirmed", "waitlisted", "cancelled")
TEAM_KINDS = ("school", "cross_district")
TEAM_ROLES = ("lead", "member", "administrator")


# -- organizations ------------------------------------------------------------------------------
class ParentChange(me.EmbeddedDocument):
    parent_id = me.StringField(default="")
    from_time = me.DateTimeField(required=True)
    until_time = me.DateTimeField(required=True)
    moved_by = me.StringField(default="")


class Organization(me.Document):
    id = me.StringField(primary_key=True)
    name = me.StringField(required=True, max_length=200)
    kind = me.StringField(required=True, choices=ORGANIZATION_KINDS)
    parent_id = me.StringField(default="")
    ancestor_ids = me.ListField(me.StringField())
    # The region at or above (or itself when a region); "" above region level.
    region_id = me.StringField(default="")
    network_ids = me.ListField(me.StringField())
    parent_history = me.EmbeddedDocumentListField(ParentChange)
    # When it came under its current parent (its creation until it is first moved).
    parent_since = me.DateTimeField()
    code = me.StringField()
    # "<kind>:<code>" when there is a code: external codes are unique per kind. A single-field
    # sparse index, because a sparse compound index would still index (kind, no code).
    code_key = me.StringField()
    time_zone = me.StringField(required=True)
    created_at = me.DateTimeField(required=True)
    updated_at = me.DateTimeField()
    meta = {
        "collection": "organizations",
        "indexes": [
            "parent_id",
            "ancestor_ids",
            "region_id",
            "network_ids",
            ("kind", "id"),
            {"fields": ["code_key"], "unique": True, "sparse": True},
        ],
    }

    @property
    def scope(self) -> list[str]:
        """This organization and everything above it: where a role must be held to act on it."""
        return [*self.ancestor_ids, self.id]


# -- people -------------------------------------------------------------------------------------
class Affiliation(me.EmbeddedDocument):
    organization_id = me.StringField(required=True)
    position = me.StringField(required=True, choices=POSITIONS)
    # The organization's scope (ancestors + itself), copied for eligibility and access checks.
    scope = me.ListField(me.StringField())


class RoleGrant(me.EmbeddedDocument):
    role = me.StringField(required=True, choices=ROLES)
    organization_id = me.StringField(default="")
    granted_by = me.StringField(default="")
    granted_at = me.DateTimeField(required=True)


class Person(me.Document):
    id = me.StringField(primary_key=True)
    name = me.StringField(required=True, max_length=200)
    # Lower-cased name, for case-insensitive search.
    name_key = me.StringField(required=True)
    email = me.StringField(required=True, max_length=254)
    # Lower-cased email: unique without regard to case.
    email_key = me.StringField(required=True, unique=True)
    grade_bands = me.ListField(me.StringField(choices=GRADE_BANDS))
    affiliations = me.EmbeddedDocumentListField(Affiliation)
    # Union of the affiliations' scopes: who may see this person (managers at any of these).
    scope = me.ListField(me.StringField())
    roles = me.EmbeddedDocumentListField(RoleGrant)
    created_at = me.DateTimeField(required=True)
    updated_at = me.DateTimeField()
    meta = {"collection": "people", "indexes": ["scope", "name_key", "affiliations.organization_id"]}


# -- sign-up windows (a community's, or the one a program's timeline gives all of them) --------
class SignupWindow(me.EmbeddedDocument):
    opens_at = me.DateTimeField(required=True)
    soft_deadline = me.DateTimeField()
    closes_at = me.DateTimeField(required=True)


# -- programs -----------------------------------------------------------------------------------
class ProposalCall(me.EmbeddedDocument):
    opened_at = me.DateTimeField(required=True)
    due_at = me.DateTimeField(required=True)


class ProgramTimeline(me.EmbeddedDocument):
    """The linked dates of the program's timeline (owned by scheduling) at the newest revision
    applied here. While a date is set, what it governs is managed by the timeline: the proposal
    call by `proposals_due_at`, every community's sign-up window by the sign-up dates."""

    revision = me.IntField(default=0)
    call_opens_at = me.DateTimeField()
    proposals_due_at = me.DateTimeField()
    signup_opens_at = me.DateTimeField()
    soft_deadline = me.DateTimeField()
    signup_closes_at = me.DateTimeField()

    @property
    def manages_proposal_call(self) -> bool:
        return self.proposals_due_at is not None

    def signup_window(self) -> SignupWindow | None:
        """The sign-up window every community of the program has; None while it is not set."""
        if self.signup_opens_at is None or self.signup_closes_at is None:
            return None
        return SignupWindow(opens_at=self.signup_opens_at, soft_deadline=self.soft_deadline,
                            closes_at=self.signup_closes_at)


class Program(me.Document):
    id = me.StringField(primary_key=True)
    name = me.StringField(required=True, max_length=200)
    owner_organization_id = me.StringField(required=True)
    # The owner's scope, copied so access checks need no second read.
    scope = me.ListField(me.StringField())
    program_year = me.StringField(required=True)
    description = me.StringField(default="", max_length=5000)
    proposal_call = me.EmbeddedDocumentField(ProposalCall)
    timeline = me.EmbeddedDocumentField(ProgramTimeline)
    # Counts the transactions that add a community to the program or set a program community's
    # own window. Each writes this document, so it conflicts with a concurrent application of
    # the timeline (which writes it too) and one of the two is retried after the other: no
    # community ends up with a window other than the one the timeline gives.
    community_window_writes = me.IntField(default=0)
    created_at = me.DateTimeField(required=True)
    updated_at = me.DateTimeField()
    meta = {"collection": "programs", "indexes": ["owner_organization_id", "scope", "program_year"]}

    @property
    def proposal_call_managed(self) -> bool:
        return self.timeline is not None and self.timeline.manages_proposal_call

    def managed_signup_window(self) -> SignupWindow | None:
        """The window the timeline gives every community of the program, if it gives one."""
        return self.timeline.signup_window() if self.timeline is not None else None


# -- communities --------------------------------------------------------------------------------
class Eligibility(me.EmbeddedDocument):
    positions = me.ListField(me.StringField(choices=POSITIONS))
    organization_ids = me.ListField(me.StringField())


class TeamSlot(me.EmbeddedDocument):
    position = me.StringField(required=True, choices=POSITIONS)
    count = me.IntField(required=True, min_value=1)
    grade_bands = me.ListField(me.StringField(choices=GRADE_BANDS))


class Community(me.Document):
    id = me.StringField(primary_key=True)
    name = me.StringField(required=True, max_length=200)
    kind = me.StringField(required=True, choices=COMMUNITY_KINDS)
    description = me.StringField(default="", max_length=5000)
    focus = me.StringField(default="", max_length=500)
    program_id = me.StringField(default="")
    grade_bands = me.ListField(me.StringField(choices=GRADE_BANDS))
    host_organization_id = me.StringField(required=True)
    county_office_id = me.StringField(default="")
    region_id = me.StringField(default="")
    # The host's scope, copied so access checks on a community need no second read.
    scope = me.ListField(me.StringField())
    facilitator_ids = me.ListField(me.StringField())
    status = me.StringField(default="draft", choices=COMMUNITY_STATUSES)
    capacity = me.IntField(default=0, min_value=0)
    signup_window = me.EmbeddedDocumentField(SignupWindow)
    eligibility = me.EmbeddedDocumentField(Eligibility, default=Eligibility)
    team_composition = me.EmbeddedDocumentListField(TeamSlot)
    # The seat ledger. Every registration, cancellation and promotion updates these counters in
    # the same transaction as the registrations it changes, so concurrent sign-ups conflict on
    # this one document and are serialized: capacity can never be exceeded.
    confirmed_count = me.IntField(default=0, min_value=0)
    # People waiting, and waiting-list entries (a team waits as one entry).
    waitlisted_count = me.IntField(default=0, min_value=0)
    waitlist_entries = me.IntField(default=0, min_value=0)
    # Last registration sequence and last waiting-list ticket handed out.
    registration_sequence = me.IntField(default=0)
    waitlist_ticket = me.IntField(default=0)
    created_at = me.DateTimeField(required=True)
    updated_at = me.DateTimeField()
    meta = {"collection": "communities",
            "indexes": ["host_organization_id", "scope", "program_id", "region_id", "status",
                        "facilitator_ids"]}


# -- proposals ----------------------------------------------------------------------------------
class Proposal(me.Document):
    id = me.StringField(primary_key=True)
    program_id = me.StringField(required=True)
    # The program's scope, copied for access checks.
    scope = me.ListField(me.StringField())
    proposer_id = me.StringField(required=True)
    title = me.StringField(required=True, max_length=200)
    focus = me.StringField(default="", max_length=500)
    audience = me.StringField(default="", max_length=500)
    plan = me.StringField(default="", max_length=10000)
    requested_capacity = me.IntField(required=True, min_value=1)
    kind = me.StringField(required=True, choices=COMMUNITY_KINDS)
    host_organization_id = me.StringField(required=True)
    status = me.StringField(default="submitted", choices=PROPOSAL_STATUSES)
    community_id = me.StringField(default="")
    stipend_cents = me.IntField(default=0, min_value=0)
    stipend_currency = me.StringField(default="")
    decision_note = me.StringField(default="", max_length=2000)
    decided_by = me.StringField(default="")
    created_at = me.DateTimeField(required=True)
    decided_at = me.DateTimeField()
    meta = {"collection": "proposals", "indexes": ["program_id", "proposer_id", "scope"]}


# -- sign-ups -----------------------------------------------------------------------------------
class Registration(me.Document):
    id = me.StringField(primary_key=True)
    community_id = me.StringField(required=True)
    person_id = me.StringField(required=True)
    # "<community_id> <person_id>" while not cancelled, unset after: one live registration per
    # person per community, enforced by a unique sparse index (a cancelled one may re-register).
    active_key = me.StringField()
    status = me.StringField(required=True, choices=REGISTRATION_STATUSES)
    # Waiting-list ticket (FIFO order); a team's members share one. 0 when not waitlisted.
    waitlist_ticket = me.IntField(default=0)
    sequence = me.IntField(required=True)
    team_id = me.StringField(default="")
    registered_by = me.StringField(required=True)
    created_at = me.DateTimeField(required=True)
    promoted_at = me.DateTimeField()
    cancelled_at = me.DateTimeField()
    cancelled_by = me.StringField(default="")
    commitment_acknowledged_at = me.DateTimeField()
    onboarding_completed_at = me.DateTimeField()
    meta = {
        "collection": "registrations",
        "indexes": [
            {"fields": ["active_key"], "unique": True, "sparse": True},
            ("community_id", "status", "waitlist_ticket"),
            ("community_id", "id"),
            ("person_id", "id"),
        ],
    }


# -- teams --------------------------------------------------------------------------------------
class TeamMember(me.EmbeddedDocument):
    person_id = me.StringField(required=True)
    role = me.StringField(required=True, choices=TEAM_ROLES)


class Team(me.Document):
    id = me.StringField(primary_key=True)
    community_id = me.StringField(required=True)
    kind = me.StringField(required=True, choices=TEAM_KINDS)
    name = me.StringField(required=True, max_length=200)
    school_id = me.StringField(default="")
    members = me.EmbeddedDocumentListField(TeamMember)
    created_by = me.StringField(required=True)
    created_at = me.DateTimeField(required=True)
    updated_at = me.DateTimeField()
    meta = {"collection": "teams", "indexes": [("community_id", "id"), "members.person_id"]}


DOCUMENTS = (Organization, Person, Program, Community, Proposal, Registration, Team)
