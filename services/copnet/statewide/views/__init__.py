"""The views area: statewide reach, participation, outcome measures and gaps, trends, catalog,
directory and inquiry cycles, read from the projections (statewide/projections.py keeps them;
views/models.py declares them; views/rpc.py answers; views/figures.py is the arithmetic over
published figures; views/requests.py bounds every request field)."""

from copnet.kernel.service_parts import ServicePart
from copnet.statewide.views import models
from copnet.statewide.views.rpc import ViewRpcs

PART = ServicePart(name="views", rpcs=ViewRpcs, documents=list(models.DOCUMENTS))
