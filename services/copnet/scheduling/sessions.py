"""Sessions (single or recurring) and their occurrences. (Being built.)"""

from __future__ import annotations

from copnet.kernel.service import ServiceContext


class SessionsApi:
    ctx: ServiceContext
