"""Proto messages <-> the HTTP API's JSON models, one module per area (`common` holds what they share)."""

from copnet.gateway.convert.common import json_field, or_null, rfc3339

__all__ = ["json_field", "or_null", "rfc3339"]
