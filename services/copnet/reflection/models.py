"""reflection's collections (in its own database)."""

import mongoengine as me


class CommunityCount(me.Document):
    """Communities hosted in one county office's subtree: a roll-up kept on write, read in O(1)."""

    county_office_id = me.StringField(primary_key=True)
    communities = me.IntField(required=True, min_value=0)
    meta = {"collection": "community_counts"}
