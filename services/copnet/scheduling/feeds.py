"""Calendar feeds and their per-person secret tokens. (Being built.)"""

from __future__ import annotations

from copnet.kernel.service import ServiceContext


class FeedsApi:
    ctx: ServiceContext
