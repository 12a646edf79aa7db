"""membership's collections (in its own database)."""

from __future__ import annotations

import mongoengine as me

ORGANIZATION_KINDS = ("state", "region", "county_office", "district", "school", "network", "university",
                      "partner")
COMMUNITY_KINDS = ("plc", "math_team", "cross_district_team", "equity_cohort", "lesson_study", "leadership",
                   "network")


class Organization(me.Document):
    id = me.StringField(primary_key=True)
    name = me.StringField(required=True, max_length=200)
    kind = me.StringField(required=True, choices=ORGANIZATION_KINDS)
    parent_id = me.StringField(default="")
    ancestor_ids = me.ListField(me.StringField())
    code = me.StringField()
    # "<kind>:<code>" when there is a code: external codes are unique per kind. A single-field
    # sparse index, because a sparse compound index would still index (kind, no code).
    code_key = me.StringField()
    time_zone = me.StringField(required=True)
    created_at = me.DateTimeField(required=True)
    meta = {
        "collection": "organizations",
        "indexes": [
            "parent_id",
            "ancestor_ids",
            ("kind", "id"),
            {"fields": ["code_key"], "unique": True, "sparse": True},
        ],
    }

    @property
    def scope(self) -> list[str]:
        """This organization and everything above it: where a role must be held to act on it."""
        return [*self.ancestor_ids, self.id]


class Community(me.Document):
    id = me.StringField(primary_key=True)
    name = me.StringField(required=True, max_length=200)
    kind = me.StringField(required=True, choices=COMMUNITY_KINDS)
    description = me.StringField(default="", max_length=5000)
    host_organization_id = me.StringField(required=True)
    county_office_id = me.StringField(default="")
    # The host's scope, copied so access checks on a community need no second read.
    scope = me.ListField(me.StringField())
    created_at = me.DateTimeField(required=True)
    meta = {"collection": "communities", "indexes": ["host_organization_id", "scope"]}
