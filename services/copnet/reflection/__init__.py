"""reflection: aggregates about the network, maintained from events as they arrive."""
