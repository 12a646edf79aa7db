"""/api/v1/people (people): People, their affiliations and roles."""

from __future__ import annotations

from flask_openapi3 import APIBlueprint, Tag

from copnet.gateway.openapi import operation_id

blueprint = APIBlueprint("people", __name__, url_prefix="/api/v1/people", operation_id_callback=operation_id,
                         abp_tags=[Tag(name="people", description="People, their affiliations and roles.")])
