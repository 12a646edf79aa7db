"""What each area of a service made of areas (reflection, statewide) brings to the one process:
its gRPC methods (a mixin of the service's servicer), its collections, its event subscriptions and
its background jobs."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import mongoengine
from nats.js.api import StreamConfig

from copnet.kernel.bus import Subscription
from copnet.kernel.service import PeriodicJob, ServiceContext


@dataclass(frozen=True)
class ServicePart:
    name: str
    # A class whose methods implement some of the service's RPCs; it reads `self.ctx`.
    rpcs: type
    documents: list[type[mongoengine.Document]] = field(default_factory=list)
    subscriptions: Callable[[ServiceContext], list[Subscription]] = lambda context: []
    jobs: Callable[[ServiceContext], list[PeriodicJob]] = lambda context: []
    # JetStream streams of the area's own (ServiceDefinition.streams).
    streams: Callable[[ServiceContext], list[StreamConfig]] = lambda context: []
