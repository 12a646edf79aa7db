"""Session reminders: emitted once per occurrence per person, delivered by notifiers. (Being built.)"""

from __future__ import annotations

from copnet.kernel.bus import Subscription
from copnet.kernel.service import PeriodicJob, ServiceContext


class RemindersApi:
    ctx: ServiceContext


def subscriptions(_ctx: ServiceContext) -> list[Subscription]:
    return []


def jobs(_ctx: ServiceContext) -> list[PeriodicJob]:
    return []
