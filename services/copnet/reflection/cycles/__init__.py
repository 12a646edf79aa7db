"""Data reflection: cycles."""

from copnet.reflection.parts import ServicePart
from copnet.reflection.cycles.rpc import CyclesRpcs

PART = ServicePart(name="cycles", rpcs=CyclesRpcs)
