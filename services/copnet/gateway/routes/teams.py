"""/api/v1 (teams): School and cross-district teams inside a community."""

from __future__ import annotations

from flask_openapi3 import APIBlueprint, Tag

from copnet.gateway.openapi import operation_id

blueprint = APIBlueprint("teams", __name__, url_prefix="/api/v1", operation_id_callback=operation_id,
                         abp_tags=[Tag(name="teams", description="School and cross-district teams inside a community.")])
