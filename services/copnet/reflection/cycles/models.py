"""Inquiry cycles' collections. A cycle keeps its goal, plan, evidence and reflection as one
document (bounded lists), changed with a revision check; its snapshot is a document of its own,
written once when the cycle enters assess and never changed again."""

from __future__ import annotations

import mongoengine as me


class InquiryCycle(me.Document):
    id = me.StringField(primary_key=True)
    community_id = me.StringField(required=True)
    team_id = me.StringField(default="")
    title = me.StringField(default="")
    stage = me.StringField(required=True)
    program_year = me.StringField(required=True)
    # The community's host organization's ancestry and itself: who counts it (GetCycleCounts).
    scope = me.ListField(me.StringField())
    goal = me.DictField()
    plan = me.DictField()
    evidence = me.ListField(me.DictField())
    reflection = me.DictField()
    snapshot_id = me.StringField(default="")
    outcome = me.StringField(default="")
    previous_cycle_id = me.StringField(default="")
    next_cycle_id = me.StringField(default="")
    abandon_reason = me.StringField(default="")
    created_by = me.StringField(default="")
    create_time = me.DateTimeField(required=True)
    update_time = me.DateTimeField(required=True)
    revision = me.IntField(default=1)
    meta = {"collection": "inquiry_cycles",
            "indexes": [("community_id", "id"), ("team_id", "id"), ("scope", "program_year")]}


class CycleSnapshot(me.Document):
    """The goal's published cells at the moment the cycle entered assess."""

    id = me.StringField(primary_key=True)
    cycle_id = me.StringField(required=True, unique=True)
    freeze_time = me.DateTimeField(required=True)
    generation = me.StringField(default="")
    min_cell = me.IntField(default=0)
    # measures_pb2.MeasureCell as JSON-like dicts (published figures only).
    cells = me.ListField(me.DictField())
    assessed = me.DictField()
    outcome = me.StringField(required=True)
    meta = {"collection": "inquiry_cycle_snapshots"}


DOCUMENTS = [InquiryCycle, CycleSnapshot]
