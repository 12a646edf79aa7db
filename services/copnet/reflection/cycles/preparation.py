"""A data-reflection session's preparation: the measure filter the session's facilitator chose
(its fields) and the community's published measures over its host organization — suppressed and
coded like every view, never a student row. A teacher's own students' results are theirs alone
(GET /api/v1/me/student-results), never part of this."""

from __future__ import annotations

from collections.abc import Mapping

import grpc

from copnet.kernel.errors import FailedPrecondition
from copnet.reflection.cycles.members import Community
from copnet.reflection.measures import convert, queries
from copnet.reflection.v1 import cycles_pb2
from copnet.scheduling.v1 import scheduling_pb2

SESSION_TYPE = "data_reflection"
# Cells shown at most: a county's schools by every group would be thousands; narrow the filter.
MAX_CELLS = 2000


def listed(fields: Mapping, name: str) -> list[str]:
    value = fields.get(name) or []
    return [str(v) for v in value] if isinstance(value, list) else []


def prompts(stub, community_id: str) -> list[str]:
    """The session type's preparation prompts as the community's region offers them (none when
    scheduling cannot say)."""
    try:
        types = stub.ListSessionTypes(scheduling_pb2.ListSessionTypesRequest(community_id=community_id)).session_types
    except grpc.RpcError:
        return []
    return next((list(t.preparation_prompts) for t in types if t.key == SESSION_TYPE), [])


def preparation(session: scheduling_pb2.Session, community: Community, fields: Mapping,
                preparation_prompts: list[str]) -> cycles_pb2.GetSessionDataPreparationResponse:
    if session.session_type != SESSION_TYPE:
        raise FailedPrecondition(f"session {session.id!r} is a {session.session_type or 'untyped'} session, not a "
                                 "data-reflection one", reason="NOT_A_DATA_REFLECTION_SESSION",
                                 metadata={"field": "session_id"})
    fields = fields if isinstance(fields, Mapping) else {}
    query = queries.measure_query(community.host_organization_id, bool(fields.get("include_schools")),
                                  listed(fields, "student_groups"), "", listed(fields, "grades"),
                                  listed(fields, "tests"), listed(fields, "school_years"), listed(fields, "windows"))
    page = queries.page(query, MAX_CELLS, "")
    return cycles_pb2.GetSessionDataPreparationResponse(
        session_id=session.id, community_id=community.id, organization_id=query.organization_id,
        tests=query.tests, school_years=query.school_years, windows=query.windows,
        student_groups=query.student_groups, grades=query.grades, preparation_prompts=preparation_prompts,
        cells=[convert.measure_cell(cell) for cell in page.cells], min_cell=page.snapshot.min_cell,
        generation=page.snapshot.generation, truncated=bool(page.next_page_token))
