"""/healthz and /readyz."""

from __future__ import annotations

from pydantic import BaseModel, Field


class Liveness(BaseModel):
    status: str = Field(examples=["ok"])


class Readiness(BaseModel):
    status: str = Field(examples=["ready", "not_ready"])
    checks: dict[str, str] = Field(description="Each service and shared dependency with its gRPC health state.",
                                   examples=[{"membership": "SERVING", "mongodb": "SERVING", "nats": "SERVING"}])
