"""Data reflection: student-level rows (a teacher's own students, a data steward's county) and the
audit log of every read of them."""

from copnet.kernel.service_parts import ServicePart
from copnet.reflection.student_rows.models import StudentReadAudit
from copnet.reflection.student_rows.rpc import StudentRowsRpcs

PART = ServicePart(name="student_rows", rpcs=StudentRowsRpcs, documents=[StudentReadAudit])
