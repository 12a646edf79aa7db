"""The shared kernel: every cross-cutting concern lives here once.

settings, logging, db (unit of work, inbox), events (envelope), outbox (relay), bus (NATS),
grpcserver (bootstrap and interceptors), clients (gRPC stubs with deadlines), auth, errors,
plugins (manager and isolated dispatch), service (the process entry point).
"""
