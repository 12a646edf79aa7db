"""What the hub keeps of what the regions share: the contract between the ingest area (which
writes it) and the views area (which reads it, through its own projections).

Every record is keyed by the region the *link* names (the statewide stream's source), never by
the region a payload claims.
"""

from __future__ import annotations

import mongoengine as me


def state_id(region: str, kind: str, key: str) -> str:
    return f"{region} {kind} {key}"


class SharedState(me.Document):
    """The latest version of one (region, kind, key); withdrawn ones are kept, marked."""

    id = me.StringField(primary_key=True)  # state_id(region, kind, key)
    region = me.StringField(required=True)
    kind = me.StringField(required=True)
    key = me.StringField(required=True)
    version = me.IntField(required=True, min_value=1)
    withdrawn = me.BooleanField(default=False)
    # The SharedRecord as protobuf JSON (field names as in the proto).
    record = me.DictField(required=True)
    applied_at = me.DateTimeField(required=True)
    stream_sequence = me.IntField(default=0)
    meta = {"collection": "shared_state", "indexes": [("region", "kind"), ("kind", "key")]}


class SharedHistory(me.Document):
    """Every version ever applied, for trends and audit: written once per (region, kind, key,
    version) (the unique id is what makes a redelivery apply nothing twice)."""

    id = me.StringField(primary_key=True)  # f"{state_id(...)} {version:012d}"
    region = me.StringField(required=True)
    kind = me.StringField(required=True)
    key = me.StringField(required=True)
    version = me.IntField(required=True, min_value=1)
    withdrawn = me.BooleanField(default=False)
    record = me.DictField(required=True)
    applied_at = me.DateTimeField(required=True)
    stream_sequence = me.IntField(default=0)
    meta = {"collection": "shared_history", "indexes": [("region", "kind", "key", "version")]}


class RegionLinkState(me.Document):
    """What arrived from one region."""

    id = me.StringField(primary_key=True)  # the region
    public_url = me.StringField(default="")
    records_applied = me.IntField(default=0)
    last_applied_at = me.DateTimeField()
    rejections = me.IntField(default=0)
    meta = {"collection": "region_links"}


class Rejection(me.Document):
    """A share message refused at the hub. Its payload is not kept (a message that broke the rules
    may carry what must not be stored): only where it came from, its size and the rule."""

    # Sorts newest first (ingest/apply.py): ListRejections pages by id.
    id = me.StringField(primary_key=True)
    received_at = me.DateTimeField(required=True)
    region = me.StringField(default="")
    subject = me.StringField(default="")
    reason = me.StringField(required=True)
    detail = me.StringField(default="")
    stream_sequence = me.IntField(default=0)
    size_bytes = me.IntField(default=0)
    meta = {"collection": "rejections", "indexes": [("-received_at",), ("region", "-received_at"), ("region", "id")]}


DOCUMENTS = [SharedState, SharedHistory, RegionLinkState, Rejection]
