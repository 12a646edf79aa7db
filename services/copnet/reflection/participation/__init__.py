"""Data reflection: participation."""

from copnet.reflection.parts import ServicePart
from copnet.reflection.participation.rpc import ParticipationRpcs

PART = ServicePart(name="participation", rpcs=ParticipationRpcs)
