"""/api/v1/programs (programs): Program years and their calls for facilitator proposals."""

from __future__ import annotations

from flask_openapi3 import APIBlueprint, Tag

from copnet.gateway.openapi import operation_id

blueprint = APIBlueprint("programs", __name__, url_prefix="/api/v1/programs", operation_id_callback=operation_id,
                         abp_tags=[Tag(name="programs", description="Program years and their calls for facilitator proposals.")])
