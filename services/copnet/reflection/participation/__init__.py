"""Data reflection: participation (teachers reached, schools and districts reached, attendance
rate, professional-learning hours) and retention, kept from membership's and scheduling's events."""

from copnet.reflection.participation import backfill, events, publish
from copnet.reflection.participation.models import DOCUMENTS
from copnet.reflection.participation.rpc import ParticipationRpcs
from copnet.kernel.service_parts import ServicePart

PART = ServicePart(name="participation", rpcs=ParticipationRpcs, documents=DOCUMENTS,
                   subscriptions=events.subscriptions,
                   jobs=lambda ctx: [*publish.jobs(ctx), *backfill.jobs(ctx)])
