"""Data reflection: measures (docs/reflection/measures.md)."""

from copnet.reflection.measures.publish import (
                   PublishedAggregate,
                   PublishedGeneration,
                   jobs,
)
from copnet.reflection.measures.published import PublishedCell
from copnet.reflection.measures.queries import MeasureQuery, published_cells
from copnet.reflection.measures.rpc import MeasuresRpcs
from copnet.reflection.parts import ServicePart

PART = ServicePart(name="measures", rpcs=MeasuresRpcs,
                   documents=[PublishedAggregate, PublishedGeneration], jobs=jobs)

__all__ = ["PART", "MeasureQuery", "PublishedCell", "published_cells"]
