"""Data reflection: teacher surveys (efficacy scales given pre and post, answered anonymously)."""

from copnet.kernel.service_parts import ServicePart
from copnet.reflection.surveys.models import DOCUMENTS
from copnet.reflection.surveys.rpc import SurveysRpcs

PART = ServicePart(name="surveys", rpcs=SurveysRpcs, documents=DOCUMENTS)
