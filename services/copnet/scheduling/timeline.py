"""Program timelines (milestones); linked milestones drive membership's dates. (Being built.)"""

from __future__ import annotations

from copnet.kernel.bus import Subscription
from copnet.kernel.service import ServiceContext


class TimelineApi:
    ctx: ServiceContext


def subscriptions(_ctx: ServiceContext) -> list[Subscription]:
    return []
