"""Data reflection: student rows."""

from copnet.reflection.parts import ServicePart
from copnet.reflection.student_rows.rpc import StudentRowsRpcs

PART = ServicePart(name="student_rows", rpcs=StudentRowsRpcs)
