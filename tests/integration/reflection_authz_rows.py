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
# Importers over the organization (the data set's county) import, list, read and delete data sets;
# anyone lists (seeing only what they may read). Student-level rows: the students' own teacher
# (`self` teaches the data set's student, so only they see the pseudonym in their own list) and
# data stewards over the data (platform admins); the audit of those reads: county admins over it.
DATA_SET_IMPORTERS = PLATFORM_ADMIN | {"data_steward", "county_admin", "regional_lead"}
STUDENT_ROW_READERS = PLATFORM_ADMIN | {"data_steward"}
DATA_SET_ROWS: tuple = (
    # No importer is installed on the demo stack: an allowed caller is answered 422 UNKNOWN_IMPORTER
    # (the service checks the organization before the importer), a refused one 403 before the body.
    row("POST /api/v1/data-sets", DATA_SET_IMPORTERS, body={"authz": "a file"},
        query={"importer": "authz-importer", "organization_id": COUNTY, "file_name": "authz.json"}),
    row("GET /api/v1/data-sets", AUTHENTICATED, sees=DATA_SET_IMPORTERS, marker="$data_set"),
    row("GET /api/v1/data-sets/{id}", DATA_SET_IMPORTERS, id="$data_set"),
    row("GET /api/v1/data-sets/{id}/errors", DATA_SET_IMPORTERS, id="$data_set"),
    row("DELETE /api/v1/data-sets/{id}", DATA_SET_IMPORTERS, id="$data_set_to_delete"),
    row("GET /api/v1/assessment-importers", AUTHENTICATED),
    # The demo's own synthetic classes are `self`'s too: the filter and page hold the matrix's student.
    row("GET /api/v1/me/student-results", AUTHENTICATED, sees=frozenset({"self"}), marker="$student_pseudonym",
        query={"test": "sbac-math", "school_year": "2024-25", "window": "spring", "grade": "6", "page_size": "500"}),
    row("GET /api/v1/data-sets/{id}/student-results", STUDENT_ROW_READERS, id="$data_set"),
    row("GET /api/v1/orgs/{id}/student-results", STUDENT_ROW_READERS, id=DISTRICT),
    row("GET /api/v1/orgs/{id}/student-read-audit", PLATFORM_ADMIN | {"county_admin"}, id=COUNTY),
)

# -- measures ------------------------------------------------------------------------------------
# Aggregates are suppressed for everyone: any role held at the organization or above reads them (a
# role at one of its schools does not reach a district); a community's participants and
# facilitators also read its effect size (`self`'s registration is cancelled by the time these rows
# run, so `self` is no longer one here).
MEASURE_READERS = frozenset(matrix.ORG_ROLES) | PLATFORM_ADMIN
MEASURE_ROWS: tuple = (
    row("GET /api/v1/measures", MEASURE_READERS, query={"organization_id": DISTRICT}),
    row("GET /api/v1/measures/growth", MEASURE_READERS, query={"organization_id": DISTRICT}),
    row("GET /api/v1/communities/{id}/effect-size", MEASURE_READERS, id=matrix.PLC),
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


def _ready_student_data_sets(stack, admin: ApiClient) -> dict:
    import datetime as dt
    import hashlib
    from pathlib import Path

    import pyarrow as pa
    import pyarrow.parquet as pq
    import pymongo

    from copnet.reflection import columns

    county = admin.get(f"/orgs/{COUNTY}")
    scope = [*county["ancestor_ids"], COUNTY]
    settings = stack.settings
    store = Path(settings.reflection_store_dir or Path(settings.data_dir) / "reflection").resolve()
    pseudonym = hashlib.sha256(b"authz-student").hexdigest()
    now = dt.datetime.now(dt.UTC)
    found = {"student_pseudonym": pseudonym}
    with pymongo.MongoClient(stack.mongodb_uri) as client:
        database = client[settings.database_name("reflection")]
        for name in ("data_set", "data_set_to_delete"):
            data_set_id = f"authz-{name.replace('_', '-')}"
            row = {column: None for column in columns.STUDENT_ROWS.names} | {
                "pseudonym": pseudonym, "school_id": SCHOOL, "district_id": DISTRICT, "county_office_id": COUNTY,
                "region_id": REGION, "grade": "6", "test": "sbac-math", "school_year": "2024-25", "window": "spring",
                "scale_score": 2510.0, "achievement_level": 3, "teacher_id": matrix.PERSON, "english_learner": False,
                "disability": False, "economically_disadvantaged": False, "foster": False, "homeless": False,
                "row": 2}
            (store / data_set_id).mkdir(parents=True, exist_ok=True)
            pq.write_table(pa.Table.from_pylist([row], schema=columns.STUDENT_ROWS),
                           store / data_set_id / "students.parquet")
            database.data_sets.replace_one({"_id": data_set_id}, {
                "_id": data_set_id, "importer": "authz-importer", "plugin": "authz", "kind": "student_scores",
                "organization_id": COUNTY, "scope": scope, "owner_id": "authz-data-owner",
                "file_name": f"{data_set_id}.csv", "source_sha256": hashlib.sha256(data_set_id.encode()).hexdigest(),
                "size_bytes": 100, "created_at": now, "updated_at": now, "status": "ready", "rows_read": 1,
                "rows_imported": 1, "rows_rejected": 0, "bytes_read": 100, "failure": "", "school_years": ["2024-25"],
                "windows": ["spring"], "tests": ["sbac-math"], "errors": []}, upsert=True)
            found[name] = data_set_id
        database.store_generation.update_one({"_id": "store"}, {"$inc": {"generation": 1}}, upsert=True)
    return found


def made(stack, admin: ApiClient) -> dict:
    """Items the rows above need, by "$name"; each area adds its own."""
    found: dict = {}
    # data sets and student-level rows: two READY student-score data sets of the county, written as
    # an import leaves them (the demo stack has no importer installed), a student of `self` in each.
    found.update(_ready_student_data_sets(stack, admin))
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
