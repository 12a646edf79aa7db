"""/api/v1: data reflection's data sets (the reflection service)."""

from __future__ import annotations

from flask_openapi3 import APIBlueprint, Tag

from copnet.gateway.openapi import operation_id

blueprint = APIBlueprint("data_sets", __name__, url_prefix="/api/v1", operation_id_callback=operation_id,
                         abp_tags=[Tag(name="data-sets", description="Data reflection: data sets.")])
