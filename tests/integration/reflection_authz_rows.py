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
# Suppressed like measures, so read like them: any role held at the organization or above (or at a
# community's host), platform admins, and a community's facilitators and confirmed participants
# (the person's registration is cancelled by the time these rows run: "self" is no longer one).
PARTICIPATION_ROWS: tuple = (
    row("GET /api/v1/orgs/{id}/participation", MEASURE_READERS, id=DISTRICT, query={"include_children": "true"}),
    row("GET /api/v1/orgs/{id}/retention", MEASURE_READERS, id=DISTRICT),
    row("GET /api/v1/communities/{id}/participation-summary", MEASURE_READERS, id=matrix.PLC),
    row("GET /api/v1/communities/{id}/retention", MEASURE_READERS, id=matrix.PLC),
)

# -- inquiry cycles --------------------------------------------------------------------------------
# A community's cycles are worked on by its confirmed members (none here by now: the person's place
# is cancelled above), its facilitators and its managers (county admins and regional leads over the
# host, platform admins); anyone else in scope reads counts of cycles, as measures are read. A data-
# reflection session's preparation shows the host's suppressed measures: measures' readers.
CYCLE_WORKERS = matrix.FACILITATORS_AND_MANAGERS
CYCLE_ROWS: tuple = (
    row("GET /api/v1/communities/{id}/inquiry-cycles", CYCLE_WORKERS, id=matrix.PLC),
    row("POST /api/v1/communities/{id}/inquiry-cycles", CYCLE_WORKERS, id=matrix.PLC, body={"title": "Authz cycle"}),
    row("GET /api/v1/inquiry-cycles/{id}", CYCLE_WORKERS, id="$cycle"),
    row("PATCH /api/v1/inquiry-cycles/{id}", CYCLE_WORKERS, id="$cycle", body={"title": "Authz cycle"}),
    row("POST /api/v1/inquiry-cycles/{id}/evidence", CYCLE_WORKERS, id="$cycle_acting",
        body={"note": "Authz evidence"}),
    row("POST /api/v1/inquiry-cycles/{id}/advance", CYCLE_WORKERS, id="$cycle_to_abandon",
        body={"to_stage": "abandoned"}),
    row("GET /api/v1/orgs/{id}/inquiry-cycle-counts", MEASURE_READERS, id=DISTRICT),
    row("GET /api/v1/sessions/{id}/data-preparation", MEASURE_READERS, id="$data_reflection_session"),
)

# -- surveys ---------------------------------------------------------------------------------------
# Reports are for roles over the program's owner (the region) and a county admin for their county
# office's groups; no caller here holds a confirmed place in the program by the time these rows run
# (the person's registration is cancelled last among the rows above), so none may answer.
SURVEY_REPORT_READERS = matrix.PROGRAM_MANAGERS | {"state_coordinator", "county_admin"}
SURVEY_INSTRUMENT = "math-teaching-efficacy"


def _survey_instrument_body(_made: dict, _caller) -> dict:
    return {"id": "authz-scale", "owner_organization_id": REGION, "name": "Authz scale", "scale_points": 4,
            "items": [{"text": "I enjoy teaching mathematics."}]}


def _survey_administration_body(made: dict, _caller) -> dict:
    return {"phase": "pre", "instrument_id": made["survey_own_instrument"], "opens_at": made["survey_opens"],
            "closes_at": made["survey_closes"]}


SURVEY_ROWS: tuple = (
    row("GET /api/v1/survey-instruments", ANYONE),
    row("GET /api/v1/survey-instruments/{id}", ANYONE, id=SURVEY_INSTRUMENT),
    row("POST /api/v1/survey-instruments", matrix.PROGRAM_MANAGERS, body=_survey_instrument_body),
    row("POST /api/v1/programs/{id}/survey-administrations", matrix.PROGRAM_MANAGERS, id=matrix.PROGRAM,
        body=_survey_administration_body),
    row("GET /api/v1/programs/{id}/survey-administrations", AUTHENTICATED, id=matrix.PROGRAM),
    row("GET /api/v1/survey-administrations/{id}", AUTHENTICATED, id="$survey_pre"),
    row("POST /api/v1/survey-administrations/{id}/responses", frozenset(), id="$survey_pre",
        body={"answers": [3] * 21}),
    row("GET /api/v1/survey-administrations/{id}/status", AUTHENTICATED, id="$survey_pre"),
    row("GET /api/v1/survey-administrations/{id}/report", SURVEY_REPORT_READERS, id="$survey_pre"),
    row("GET /api/v1/programs/{id}/survey-comparison", SURVEY_REPORT_READERS, id=matrix.PROGRAM),
    row("POST /api/v1/survey-administrations/{id}/close", matrix.PROGRAM_MANAGERS, id="$survey_post", body={}),
)

ROWS = (*DATA_SET_ROWS, *MEASURE_ROWS, *PARTICIPATION_ROWS, *CYCLE_ROWS, *SURVEY_ROWS)


def made(stack, admin: ApiClient) -> dict:
    """Items the rows above need, by "$name"; each area adds its own."""
    found: dict = {}
    # surveys: the built-in scale given pre and post (open now), and a region's own instrument.
    import datetime as dt

    now = dt.datetime.now(dt.UTC)
    found["survey_opens"] = (now - dt.timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    found["survey_closes"] = (now + dt.timedelta(days=2)).strftime("%Y-%m-%dT%H:%M:%SZ")
    for phase in ("pre", "post"):
        found[f"survey_{phase}"] = admin.post(f"/programs/{matrix.PROGRAM}/survey-administrations", {
            "phase": phase, "instrument_id": SURVEY_INSTRUMENT, "opens_at": found["survey_opens"],
            "closes_at": found["survey_closes"]})["id"]
    found["survey_own_instrument"] = admin.post("/survey-instruments", {
        "owner_organization_id": REGION, "name": "Authz own scale", "scale_points": 5,
        "items": [{"text": "I plan mathematics lessons with colleagues."}]})["id"]
    # inquiry cycles: one just started, one acting (goal and plan set), one to abandon, and a
    # data-reflection session of the PLC.
    cycles = f"/communities/{matrix.PLC}/inquiry-cycles"
    found["cycle"] = admin.post(cycles, {"title": "Authz cycle"})["id"]
    found["cycle_to_abandon"] = admin.post(cycles, {"title": "Authz cycle to abandon"})["id"]
    goal = {"measure": "percent_met_or_exceeded", "target_value": 50, "target_time": found["survey_closes"],
            "filter": {"organization_id": DISTRICT, "grade": "6", "test": "sbac-math", "school_year": "2024-25",
                       "window": "spring"}}
    acting = found["cycle_acting"] = admin.post(cycles, {"title": "Authz acting cycle", "goal": goal})["id"]
    admin.patch(f"/inquiry-cycles/{acting}", {"plan": {"actions": [{"text": "Number talks"}]}})
    for stage in ("plan", "act"):
        admin.post(f"/inquiry-cycles/{acting}/advance", {"to_stage": stage})
    found["data_reflection_session"] = admin.post(f"/communities/{matrix.PLC}/sessions", {
        "session_type": "data_reflection", "title": "Authz data reflection", "start_time": found["survey_closes"],
        "fields": {"tests": ["sbac-math"], "grades": ["6"]}})["id"]
    return found
