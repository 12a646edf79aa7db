"""The roster import of a large district: one OneRoster bundle of `staff` teachers, imported through
the gateway by the county office's regional lead, then imported again (every record unchanged).

Set-up (untimed): the organization tree and the oneroster plugin enabled at the county office.
Timed: the first import (every organization, person and affiliation created), the same bundle
again (nothing changes) and a dry run. Beside it the baseline: the same people inserted with one
pymongo insert_many into a scratch collection of the same database. Checked afterwards: the
counts of both reports, and the people membership lists under the district.
"""

from __future__ import annotations

import io
import json
import time
import urllib.request

import pymongo

from copnet.api_client import ApiClient
from copnet.kernel import limits
from tests.support.stack import RunningStack

REGION, COUNTY = "roster-region", "roster-county"
PREFIX = "rb"
SCHOOLS = 40
# The documented limits the import must stay within (docs/plugins/oneroster.md#limits).
BODY_LIMIT_BYTES = limits.ROSTER_IMPORT_MAX_BODY_BYTES
DEADLINE_SECONDS = limits.ROSTER_IMPORT_TIMEOUT_SECONDS

ORGS_HEADER = "sourcedId,status,dateLastModified,name,type,identifier,parentSourcedId\n"
USERS_HEADER = ("sourcedId,status,dateLastModified,enabledUser,orgSourcedIds,role,username,userIds,givenName,"
                "familyName,middleName,identifier,email,sms,phone,agentSourcedIds,grades,password\n")


def bundle(staff: int) -> dict[str, str]:
    """orgs.csv (one district, SCHOOLS schools) and users.csv (`staff` teachers spread over them)."""
    orgs = io.StringIO()
    orgs.write(ORGS_HEADER)
    orgs.write("d1,active,2026-08-01T08:00:00Z,Bench Unified,district,BENCH-D1,\n")
    for school in range(SCHOOLS):
        orgs.write(f"s{school},active,2026-08-01T08:00:00Z,Bench School {school},school,BENCH-S{school},d1\n")
    users = io.StringIO()
    users.write(USERS_HEADER)
    for n in range(staff):
        users.write(f"t{n},active,2026-08-01T08:00:00Z,true,s{n % SCHOOLS},teacher,t{n},,Teacher,Number {n},,,"
                    f"t{n}@bench-district.example,,,,\"06,07\",\n")
    return {"orgs.csv": orgs.getvalue(), "users.csv": users.getvalue()}


def set_up(stack: RunningStack) -> str:
    """The tree above the district, the plugin enabled at the county office; the lead's token."""
    admin = ApiClient(stack.gateway_url, token=stack.token("platform_admin"))
    for body in ({"id": "roster-state", "name": "State", "kind": "state", "time_zone": "America/Los_Angeles"},
                 {"id": REGION, "name": "Region", "kind": "region", "parent_id": "roster-state"},
                 {"id": COUNTY, "name": "County", "kind": "county_office", "parent_id": REGION}):
        admin.post("/orgs", body)
    lead = stack.token("regional_lead", REGION, person="roster-lead")
    ApiClient(stack.gateway_url, token=lead).put(f"/regions/{COUNTY}/plugins/oneroster", {
        "enabled": True, "settings": {"id_prefix": PREFIX}, "expected_version": 0, "reason": "bench"})
    return lead


def post_import(stack: RunningStack, token: str, body: bytes) -> tuple[float, dict]:
    request = urllib.request.Request(f"{stack.gateway_url}/api/v1/regions/{COUNTY}/roster-imports", data=body,
                                     method="POST", headers={"Content-Type": "application/json",
                                                             "Authorization": f"Bearer {token}"})
    started = time.perf_counter()
    with urllib.request.urlopen(request, timeout=DEADLINE_SECONDS + 30) as answer:
        report = json.load(answer)
    return time.perf_counter() - started, report


def baseline_insert(stack: RunningStack, staff: int) -> float:
    """The same people as documents, one insert_many into a scratch collection."""
    client = pymongo.MongoClient(stack.mongodb_uri)
    try:
        collection = client[stack.settings.database_name("membership")]["bench_roster_baseline"]
        collection.drop()
        documents = [{"_id": f"{PREFIX}-t{n}", "name": f"Teacher Number {n}", "email": f"t{n}@bench-district.example",
                      "affiliations": [{"organization_id": f"{PREFIX}-s{n % SCHOOLS}", "position": "teacher"}]}
                     for n in range(staff)]
        started = time.perf_counter()
        collection.insert_many(documents, ordered=False)
        return time.perf_counter() - started
    finally:
        client.close()


def bench_roster_import(stack: RunningStack, staff: int) -> bool:
    lead = set_up(stack)
    files = bundle(staff)
    body = json.dumps({"source": "oneroster", "files": files}).encode()
    dry_body = json.dumps({"source": "oneroster", "files": files, "dry_run": True}).encode()
    print(f"\n== roster import: {staff:,} teachers at {SCHOOLS} schools, a {len(body) / (1 << 20):.1f} MiB body "
          f"(limit {BODY_LIMIT_BYTES >> 20} MiB, deadline {DEADLINE_SECONDS:.0f} s)")
    baseline = baseline_insert(stack, staff)
    print(f"baseline: pymongo insert_many of {staff:,} people          {baseline:8.2f} s")
    first_seconds, first = post_import(stack, lead, body)
    print(f"copnet: first import (everything created)          {first_seconds:8.2f} s  "
          f"ratio to baseline {first_seconds / baseline:.0f}x")
    again_seconds, again = post_import(stack, lead, body)
    print(f"copnet: the same bundle again (nothing changes)    {again_seconds:8.2f} s")
    dry_seconds, dry = post_import(stack, lead, dry_body)
    print(f"copnet: dry run                                    {dry_seconds:8.2f} s")

    checks = [
        ("body within the documented limit", len(body) <= BODY_LIMIT_BYTES),
        ("first import: every person and affiliation created, no error",
         first["people"]["created"] == staff and first["affiliations"]["created"] == staff and not first["errors"]),
        ("first import: the district and its schools created", first["organizations"]["created"] == SCHOOLS + 1),
        ("again: every person unchanged", again["people"]["unchanged"] == staff and again["people"]["created"] == 0
         and again["people"]["updated"] == 0),
        ("dry run: nothing to create", dry["people"]["created"] == 0 and dry["dry_run"]),
        ("each import within the deadline", max(first_seconds, again_seconds, dry_seconds) < DEADLINE_SECONDS),
    ]
    for what, ok in checks:
        print(f"  [{'ok' if ok else 'FAIL'}] {what}")
    for name, report in (("first", first), ("again", again), ("dry run", dry)):
        if report["errors"]:
            print(f"  {name}: {report['people']}, {len(report['errors'])} error(s), first: {report['errors'][:3]}")
    return all(ok for _, ok in checks)
