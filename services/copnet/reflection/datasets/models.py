"""The data sets' records in MongoDB: what was imported, by whom, how it went. The rows themselves
are files in the store (`store.py`): MongoDB holds no student row."""

from __future__ import annotations

import mongoengine as me

# Statuses and kinds as stored (the proto enums' labels, see copnet.kernel.enums).
IMPORTING, READY, FAILED, DELETING = "importing", "ready", "failed", "deleting"
STATUSES = (IMPORTING, READY, FAILED, DELETING)
STUDENT_SCORES, AGGREGATE_RESULTS, CLASS_ENROLLMENTS = "student_scores", "aggregate_results", "class_enrollments"
KINDS = (STUDENT_SCORES, AGGREGATE_RESULTS, CLASS_ENROLLMENTS)
# Rejected rows kept to list per data set; the rest are counted only.
MAX_LISTED_ERRORS = 1000


class RowError(me.EmbeddedDocument):
    file = me.StringField(default="")
    row = me.IntField(default=0)
    field = me.StringField(default="")
    reason = me.StringField(default="")
    message = me.StringField(default="")


class DataSet(me.Document):
    """One imported file. `scope` is its organization's ancestry plus itself: who may read or
    delete it is decided over it, like any organization's records."""

    id = me.StringField(primary_key=True)
    importer = me.StringField(required=True)
    plugin = me.StringField(default="")
    kind = me.StringField(required=True, choices=KINDS)
    organization_id = me.StringField(required=True)
    scope = me.ListField(me.StringField())
    owner_id = me.StringField(required=True)
    file_name = me.StringField(default="")
    source_sha256 = me.StringField(required=True)
    size_bytes = me.IntField(default=0)
    created_at = me.DateTimeField(required=True)
    updated_at = me.DateTimeField(required=True)
    status = me.StringField(required=True, choices=STATUSES)
    rows_read = me.IntField(default=0)
    rows_imported = me.IntField(default=0)
    rows_rejected = me.IntField(default=0)
    bytes_read = me.IntField(default=0)
    failure = me.StringField(default="")
    school_years = me.ListField(me.StringField())
    windows = me.ListField(me.StringField())
    tests = me.ListField(me.StringField())
    # The first MAX_LISTED_ERRORS rejected rows (rows_rejected counts them all).
    errors = me.EmbeddedDocumentListField(RowError)
    # The process running the import (host and pid), so a sweep can tell an orphan from a live one.
    worker = me.StringField(default="")
    heartbeat_at = me.DateTimeField()
    meta = {"collection": "data_sets",
            "indexes": ["status", "scope", "organization_id", ("organization_id", "source_sha256")]}


class DataSetFingerprint(me.Document):
    """`<organization id> <sha256>` of a file IMPORTING or READY there: the same file imported
    twice finds the first (inserted in the transaction that creates the data set, so two uploads
    of one file at once make one data set)."""

    id = me.StringField(primary_key=True)
    data_set_id = me.StringField(required=True)
    meta = {"collection": "data_set_fingerprints"}


def fingerprint_id(organization_id: str, sha256: str) -> str:
    return f"{organization_id} {sha256}"


class StoreGeneration(me.Document):
    """Counts changes of what the store's readers see (a data set READY or gone, teacher cells
    recomputed): caches of measures key on it."""

    id = me.StringField(primary_key=True)
    generation = me.IntField(default=0)
    meta = {"collection": "store_generation"}


STORE_GENERATION_ID = "store"
