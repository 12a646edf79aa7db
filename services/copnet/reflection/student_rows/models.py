"""The audit log of student-level reads, in reflection's MongoDB database: who read which rows
when. An entry names the data sets, the organization and the filters, and counts the rows; it
never holds a row or a pseudonym."""

from __future__ import annotations

import mongoengine as me

MY_STUDENTS = "list_my_student_results"
STEWARD_READ = "list_student_results"


class StudentReadAudit(me.Document):
    """One read. `scope` holds every organization whose data the read touched, with their
    ancestors, so a county admin finds the reads of their county's data by one indexed match."""

    id = me.StringField(primary_key=True)
    actor_id = me.StringField(required=True)
    action = me.StringField(required=True, choices=(MY_STUDENTS, STEWARD_READ))
    data_set_id = me.StringField(default="")
    organization_id = me.StringField(default="")
    filters = me.DictField()
    rows = me.IntField(default=0)
    data_set_ids = me.ListField(me.StringField())
    scope = me.ListField(me.StringField())
    read_at = me.DateTimeField(required=True)
    meta = {"collection": "student_read_audit", "indexes": [("scope", "-id"), ("scope", "actor_id", "-id")]}
