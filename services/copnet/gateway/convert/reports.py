"""Catalog and reports: scheduling and reflection messages -> JSON models."""

from __future__ import annotations

from copnet.gateway.convert.common import fields_of
from copnet.gateway.schemas import reports as schemas
from copnet.reflection.v1 import reflection_pb2
from copnet.scheduling.v1 import scheduling_pb2


def session_type(message: scheduling_pb2.SessionType) -> schemas.SessionType:
    return schemas.SessionType(key=message.key, title=message.title, description=message.description,
                               default_duration_minutes=message.default_duration_minutes, plugin=message.plugin,
                               fields=fields_of(message.fields_schema_json),
                               preparation_prompts=list(message.preparation_prompts),
                               reflection_prompts=list(message.reflection_prompts))


def community_count(message: reflection_pb2.CommunityCount) -> schemas.CommunityCount:
    return schemas.CommunityCount(county_office_id=message.county_office_id, communities=message.communities)
