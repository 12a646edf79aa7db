"""Data reflection: measures (docs/reflection/measures.md)."""

import copnet.reflection.measures.index as measure_index
import copnet.reflection.measures.publish as publish
from copnet.reflection.measures.published import PublishedCell
from copnet.reflection.measures.queries import MeasureQuery, published_cells
from copnet.reflection.measures.rpc import MeasuresRpcs
from copnet.kernel.service_parts import ServicePart

PART = ServicePart(name="measures", rpcs=MeasuresRpcs,
                   documents=[publish.PublishedAggregate, publish.PublishedGeneration],
                   jobs=lambda ctx: [*measure_index.jobs(ctx), *publish.jobs(ctx)])

__all__ = ["PART", "MeasureQuery", "PublishedCell", "published_cells"]
