"""`python -m copnet.scheduling`: run the scheduling service."""

import sys

from copnet.kernel.service import ServiceDefinition, run
from copnet.scheduling import models
from copnet.scheduling.servicer import SchedulingServicer, jobs, subscriptions
from copnet.scheduling.v1 import scheduling_pb2_grpc

DEFINITION = ServiceDefinition(
    name="scheduling",
    full_service_name="copnet.scheduling.v1.SchedulingService",
    add_servicer=lambda server, ctx: scheduling_pb2_grpc.add_SchedulingServiceServicer_to_server(
        SchedulingServicer(ctx), server),
    documents=[models.Calendar, models.Timeline, models.Milestone, models.Session, models.Occurrence,
               models.VenueLock, models.AttendanceRecord, models.FeedToken, models.ReminderSent],
    subscriptions=subscriptions,
    jobs=jobs,
)

if __name__ == "__main__":
    sys.exit(run(DEFINITION))
