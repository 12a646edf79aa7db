"""Teams."""

from __future__ import annotations

from copnet.kernel.service import ServiceContext


class TeamsApi:
    ctx: ServiceContext
