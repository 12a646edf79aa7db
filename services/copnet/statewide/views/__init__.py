"""The views area: statewide reach, participation, outcome measures and gaps, trends, catalog,
directory and inquiry cycles, read from the projections (statewide/projections.py)."""

from copnet.kernel.service_parts import ServicePart
from copnet.statewide import projections


class ViewRpcs:
    """The statewide views' RPCs (views.proto)."""


PART = ServicePart(name="views", rpcs=ViewRpcs, documents=list(projections.PROJECTION_DOCUMENTS))
