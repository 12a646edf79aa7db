"""The ingest area: the statewide stream's consumer (validate, apply in version order, keep
history, refuse with a reason) and the RPCs about the links and the refusals.

The statewide stream (ingest/stream.py) sources every linked region's share stream; one durable
consumer reads it raw (copnet.kernel.bus.Subscription.of_stream) and, for each message, in one
transaction with the bus's inbox entry: judges it (ingest/validation.py) and applies it or
records its refusal (ingest/apply.py). The message is acknowledged once that committed, a refused
one too (a refusal is final; retrying would refuse it again)."""

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
    return [Subscription.of_stream(CONSUMER, STATEWIDE_STREAM,
                                   lambda uow, delivery: apply.handle(uow, delivery, regions))]


def streams(ctx) -> list:
    return [statewide_stream_config(ctx.settings.linked_regions)]


PART = ServicePart(name="ingest", rpcs=IngestRpcs, documents=list(models.DOCUMENTS),
                   subscriptions=subscriptions, streams=streams)
