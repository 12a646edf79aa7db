"""The authorization matrix's rows for data reflection's routes (tests/integration/
test_authorization_matrix.py explains the table), and the items they act on.

Each area keeps its rows and its items in its own section below.
"""

from __future__ import annotations

from copnet.api_client import ApiClient

from tests.integration import test_authorization_matrix as matrix

row = matrix.row
ANYONE, AUTHENTICATED, PLATFORM_ADMIN = matrix.ANYONE, matrix.AUTHENTICATED, matrix.PLATFORM_ADMIN
REGION, COUNTY, DISTRICT, SCHOOL = matrix.REGION, matrix.COUNTY, matrix.DISTRICT, matrix.SCHOOL

# -- data sets and student-level rows ------------------------------------------------------------
DATA_SET_ROWS: tuple = ()

# -- measures ------------------------------------------------------------------------------------
# Aggregates are suppressed for everyone: any role held at the organization or above reads them (a
# role at one of its schools does not reach a district); a community's participants and
# facilitators also read its effect size.
MEASURE_READERS = frozenset(matrix.ORG_ROLES) | PLATFORM_ADMIN
MEASURE_ROWS: tuple = (
    row("GET /api/v1/measures", MEASURE_READERS, query={"organization_id": DISTRICT}),
    row("GET /api/v1/measures/growth", MEASURE_READERS, query={"organization_id": DISTRICT}),
    row("GET /api/v1/communities/{id}/effect-size", MEASURE_READERS | {"self"}, id=matrix.PLC),
    row("GET /api/v1/programs/{id}/effect-size", PLATFORM_ADMIN | {"regional_lead", "state_coordinator"},
        id=matrix.PROGRAM),
    row("GET /api/v1/reflection-metrics", MEASURE_READERS, query={"organization_id": DISTRICT}),
    row("GET /api/v1/reflection-metrics/{key}", MEASURE_READERS, key="relative-proficiency",
        query={"organization_id": DISTRICT}),
)

# -- participation and retention -----------------------------------------------------------------
PARTICIPATION_ROWS: tuple = ()

# -- inquiry cycles --------------------------------------------------------------------------------
CYCLE_ROWS: tuple = ()

# -- surveys ---------------------------------------------------------------------------------------
SURVEY_ROWS: tuple = ()

ROWS = (*DATA_SET_ROWS, *MEASURE_ROWS, *PARTICIPATION_ROWS, *CYCLE_ROWS, *SURVEY_ROWS)


def made(stack, admin: ApiClient) -> dict:
    """Items the rows above need, by "$name"; each area adds its own."""
    found: dict = {}
    return found
