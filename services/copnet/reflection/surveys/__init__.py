"""Data reflection: surveys."""

from copnet.reflection.parts import ServicePart
from copnet.reflection.surveys.rpc import SurveysRpcs

PART = ServicePart(name="surveys", rpcs=SurveysRpcs)
