"""resources' collections (in its own database)."""

import mongoengine as me


class Library(me.Document):
    id = me.StringField(primary_key=True)
    community_id = me.StringField(required=True)
    created_at = me.DateTimeField(required=True)
    meta = {"collection": "libraries", "indexes": [{"fields": ["community_id"], "unique": True}]}
