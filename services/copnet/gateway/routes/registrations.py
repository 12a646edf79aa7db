"""/api/v1 (registrations): Sign-ups: seats, waiting lists, commitments, onboarding."""

from __future__ import annotations

from flask_openapi3 import APIBlueprint, Tag

from copnet.gateway.openapi import operation_id

blueprint = APIBlueprint("registrations", __name__, url_prefix="/api/v1", operation_id_callback=operation_id,
                         abp_tags=[Tag(name="registrations", description="Sign-ups: seats, waiting lists, commitments, onboarding.")])
