"""One APIBlueprint per area of the HTTP API."""
