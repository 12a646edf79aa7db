"""reflection's collections (in its own database)."""

import mongoengine as me


class CommunityCount(me.Document):
    """Communities hosted in one county office's subtree: a roll-up kept on write, read in O(1)."""

    county_office_id = me.StringField(primary_key=True)
    communities = me.IntField(required=True, min_value=0)
    meta = {"collection": "community_counts"}


class CommunityPlacement(me.Document):
    """Where one community is counted: the county office above its host (empty above county level),
    as of membership's change of the community that said so (`as_of`; None when the event carried
    no snapshot of it)."""

    community_id = me.StringField(primary_key=True)
    host_organization_id = me.StringField(required=True)
    county_office_id = me.StringField(default="")
    as_of = me.DateTimeField()
    meta = {"collection": "community_placements", "indexes": ["host_organization_id"]}
