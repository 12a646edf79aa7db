"""scheduling's gRPC API: one servicer made of one part per area, and its event handlers."""

from __future__ import annotations

import functools

from copnet.kernel.bus import Subscription
from copnet.kernel.service import PeriodicJob, ServiceContext
from copnet.scheduling import catalog, reminders, timeline
from copnet.scheduling.attendance import AttendanceApi
from copnet.scheduling.catalog import CatalogApi
from copnet.scheduling.directory import Directory
from copnet.scheduling.feeds import FeedsApi
from copnet.scheduling.reminders import RemindersApi
from copnet.scheduling.sessions import SessionsApi
from copnet.scheduling.timeline import TimelineApi
from copnet.scheduling.v1 import scheduling_pb2_grpc


class SchedulingServicer(CatalogApi, TimelineApi, SessionsApi, AttendanceApi, FeedsApi, RemindersApi,
                         scheduling_pb2_grpc.SchedulingServiceServicer):
    def __init__(self, context: ServiceContext):
        self.ctx = context

    @functools.cached_property
    def directory(self) -> Directory:
        return Directory(self.ctx)


def subscriptions(ctx: ServiceContext) -> list[Subscription]:
    return [*catalog.subscriptions(ctx), *timeline.subscriptions(ctx), *reminders.subscriptions(ctx)]


def jobs(ctx: ServiceContext) -> list[PeriodicJob]:
    return reminders.jobs(ctx)
