"""Data reflection: measures."""

from copnet.reflection.parts import ServicePart
from copnet.reflection.measures.rpc import MeasuresRpcs

PART = ServicePart(name="measures", rpcs=MeasuresRpcs)
