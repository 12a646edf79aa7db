"""scheduling's collections (in its own database)."""

import mongoengine as me


class Calendar(me.Document):
    id = me.StringField(primary_key=True)
    community_id = me.StringField(required=True)
    created_at = me.DateTimeField(required=True)
    meta = {"collection": "calendars", "indexes": [{"fields": ["community_id"], "unique": True}]}
