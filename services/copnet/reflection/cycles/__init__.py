"""Data reflection: inquiry cycles (docs/reflection/inquiry-cycles.md)."""

from copnet.reflection.cycles.models import DOCUMENTS
from copnet.reflection.cycles.rpc import CyclesRpcs
from copnet.kernel.service_parts import ServicePart

PART = ServicePart(name="cycles", rpcs=CyclesRpcs, documents=DOCUMENTS)
