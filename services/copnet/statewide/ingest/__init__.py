"""The ingest area: the statewide stream's consumer (validate, apply in version order, keep
history, refuse with a reason) and the RPCs about the links and the refusals."""

from copnet.kernel.service_parts import ServicePart
from copnet.statewide import models


class IngestRpcs:
    """ListRegions, ListRejections."""


PART = ServicePart(name="ingest", rpcs=IngestRpcs, documents=list(models.DOCUMENTS))
