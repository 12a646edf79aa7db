"""membership: the system of record for who belongs where (organizations, communities)."""
