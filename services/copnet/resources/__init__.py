"""resources: shared materials (each community's library)."""
