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
MEASURE_ROWS: tuple = ()

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
