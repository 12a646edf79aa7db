"""Data reflection: assessment data sets (imports through plugins, the student-row store, roll-ups)."""

from copnet.reflection.datasets.models import (
                   DataSet,
                   DataSetFingerprint,
                   StoreGeneration,
)
from copnet.reflection.datasets.rpc import DatasetsRpcs, engine
from copnet.kernel.service_parts import ServicePart

PART = ServicePart(name="datasets", rpcs=DatasetsRpcs, documents=[DataSet, DataSetFingerprint, StoreGeneration],
                   jobs=lambda ctx: engine(ctx).jobs())
