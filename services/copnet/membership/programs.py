"""Programs."""

from __future__ import annotations

from copnet.kernel.service import ServiceContext


class ProgramsApi:
    ctx: ServiceContext
