"""Data reflection: datasets."""

from copnet.reflection.parts import ServicePart
from copnet.reflection.datasets.rpc import DatasetsRpcs

PART = ServicePart(name="datasets", rpcs=DatasetsRpcs)
