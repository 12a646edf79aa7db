"""plugins' collections (in its own database)."""

import mongoengine as me


class PluginConfigDocument(me.Document):
    """The current configuration of one plugin for one organization (secret values included)."""

    # "<organization_id>/<plugin>"
    id = me.StringField(primary_key=True)
    organization_id = me.StringField(required=True)
    plugin = me.StringField(required=True)
    enabled = me.BooleanField(required=True)
    settings = me.DictField()
    version = me.IntField(required=True, min_value=1)
    region_id = me.StringField(default="")
    organization_kind = me.StringField(required=True)
    scope = me.ListField(me.StringField())
    updated_at = me.DateTimeField(required=True)
    updated_by = me.StringField(required=True)
    reason = me.StringField(default="")
    meta = {"collection": "configs", "indexes": [("organization_id", "id"), ("plugin", "id")]}


class PluginConfigRevision(me.Document):
    """One version of a configuration as written: who, when, what (secrets redacted), why."""

    # "<organization_id>/<plugin>/<version, zero-padded>": newest first by id, descending.
    id = me.StringField(primary_key=True)
    config_id = me.StringField(required=True)
    organization_id = me.StringField(required=True)
    plugin = me.StringField(required=True)
    version = me.IntField(required=True, min_value=1)
    enabled = me.BooleanField(required=True)
    settings = me.DictField()
    changed_by = me.StringField(required=True)
    changed_at = me.DateTimeField(required=True)
    reason = me.StringField(default="")
    meta = {"collection": "config_revisions", "indexes": [("config_id", "-version")]}


def config_id(organization_id: str, plugin: str) -> str:
    return f"{organization_id}/{plugin}"


def revision_id(organization_id: str, plugin: str, version: int) -> str:
    return f"{organization_id}/{plugin}/{version:010d}"
