"""The ingest area: the statewide stream's consumer (validate, apply in version order, keep
history, refuse with a reason) and the RPCs about the links and the refusals.

The statewide stream (ingest/stream.py) sources every linked region's share stream; one durable
consumer reads it raw, in batches (copnet.kernel.bus.Subscription.of_stream_in_batches): up to
RAW_BATCH messages in one transaction with their inbox entries, each judged
(ingest/validation.py) and applied or its refusal recorded (ingest/apply.py), in stream order.
The messages are acknowledged once that committed, refused ones too (a refusal is final; retrying
would refuse it again). When a batch's transaction fails, its messages are applied one per
transaction, so one that cannot be applied is retried and dead-lettered alone."""

from copnet.kernel.bus import Subscription
from copnet.kernel.federation import STATEWIDE_STREAM
from copnet.kernel.service_parts import ServicePart
from copnet.statewide import models
from copnet.statewide.ingest import apply
from copnet.statewide.ingest.rpc import IngestRpcs
from copnet.statewide.ingest.stream import statewide_stream_config

CONSUMER = "ingest"


def subscriptions(ctx) -> list[Subscription]:
    regions = ctx.settings.linked_regions
    return [Subscription.of_stream_in_batches(CONSUMER, STATEWIDE_STREAM,
                                              lambda uow, deliveries: apply.handle_batch(uow, deliveries, regions))]


def streams(ctx) -> list:
    return [statewide_stream_config(ctx.settings.linked_regions)]


PART = ServicePart(name="ingest", rpcs=IngestRpcs, documents=list(models.DOCUMENTS),
                   subscriptions=subscriptions, streams=streams)
