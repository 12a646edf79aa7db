"""`make bench`: benchmarks on a real local stack, each beside a baseline measured in the same run.

Prints figures and ratios; asserts nothing about speed. Exits 1 when the sign-up burst ends in a
wrong state (overbooked, a duplicate, a waiting list out of order) or a calendar feed is wrong (an
occurrence too many or too few as an independent parser expands it, no 304 for an unchanged feed):
correctness is not optional.
"""

from __future__ import annotations

import argparse
import signal
import sys
import tempfile
from pathlib import Path

from copnet import stack as stacklib
from copnet.reflection.v1 import reflection_pb2
from tests.bench import baseline_app
from tests.bench.assessment_import import bench_assessment_import
from tests.bench.federation_lag import bench_federation_lag
from tests.bench.feeds import bench_feed_poll
from tests.bench.load import HEADER, Call, burst, post_burst, time_until
from tests.bench.measure_queries import bench_measure_queries
from tests.bench.roster import bench_roster_import
from tests.bench.signup import COUNTY, bench_signup_burst, create_organizations
from tests.bench.statewide_ingest import bench_statewide_ingest
from tests.bench.statewide_queries import bench_statewide_queries
from tests.support.processes import ManagedProcess
from tests.support.stack import RunningStack, settings_for_tests


def baseline_spec(stack: RunningStack, port: int) -> stacklib.ProcessSpec:
    """The baseline app under the same gunicorn configuration as the gateway."""
    settings = stack.settings.model_copy(update={"gateway_port": port})
    env = {**stack.env, "BASELINE_MONGODB_URI": stack.mongodb_uri,
           baseline_app.MEMBERSHIP_DATABASE: stack.settings.database_name("membership"),
           baseline_app.SCHEDULING_DATABASE: stack.settings.database_name("scheduling")}
    spec = stacklib.gateway_spec(settings, env, app="tests.bench.baseline_app:create_app()")
    spec.name, spec.probe = "baseline", lambda: stacklib.tcp_answers(settings.host, port)
    return spec


def create_county(stack: RunningStack) -> str:
    create_organizations(stack)
    return COUNTY


def bench_create_community(stack: RunningStack, baseline_url: str, requests: int, concurrency: int) -> None:
    county = create_county(stack)
    bodies = [{"name": f"Bench PLC {n}", "kind": "plc", "host_organization_id": county} for n in range(requests)]
    # One county admin per client, as people would be: a service lets one caller have only
    # COPNET_GRPC_CALLS_PER_CALLER calls in flight at once.
    admins = [{"Authorization": f"Bearer {stack.token('county_admin', county, person=f'bench-admin-{n}')}"}
              for n in range(concurrency)]
    calls = [Call("/api/v1/communities", body, admins[n % concurrency]) for n, body in enumerate(bodies)]
    # Warm both up (connections, caches) before measuring.
    post_burst("warm-up", baseline_url, "/communities", bodies[:20], 4)
    burst("warm-up", stack.gateway_url, calls[:20], 4)

    def counted() -> int:
        reply = stack.reflection().GetCommunityCount(reflection_pb2.GetCommunityCountRequest(county_office_id=county))
        return reply.community_count.communities

    time_until(lambda: counted() == 20)
    baseline = post_burst("baseline: flask+pymongo insert", baseline_url, "/communities", bodies, concurrency)
    copnet = burst("copnet: POST /api/v1/communities", stack.gateway_url, calls, concurrency)
    settle = time_until(lambda: counted() == 20 + requests)

    print("\n== create community: gateway -> gRPC -> MongoDB transaction + outbox -> NATS -> consumers")
    print(HEADER)
    print(baseline.row())
    print(copnet.row())
    print(f"ratio copnet/baseline throughput: {copnet.throughput / baseline.throughput:.2f}  "
          f"p50 latency: {copnet.percentile(50) / baseline.percentile(50):.2f}x")
    print(f"events settled (all {requests} counted by reflection) {settle * 1000:.0f} ms after the last response")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=1000, help="community creates")
    parser.add_argument("--concurrency", type=int, default=16, help="clients creating communities")
    parser.add_argument("--signups", type=int, default=10_000, help="registration attempts (one person each)")
    parser.add_argument("--signup-clients", type=int, default=200, help="clients registering at once")
    parser.add_argument("--seats", type=int, default=36, help="the community's capacity")
    parser.add_argument("--feed-requests", type=int, default=500, help="GETs of one person's calendar feed")
    parser.add_argument("--feed-clients", type=int, default=8, help="clients fetching the feed at once")
    parser.add_argument("--roster-staff", type=int, default=100_000, help="teachers in the imported roster")
    parser.add_argument("--measure-students", type=int, nargs=2, default=(1_000_000, 10_000_000),
                        help="student rows of the two measure-query runs")
    parser.add_argument("--assessment-rows", type=int, default=1_000_000, help="rows of the imported score file")
    parser.add_argument("--only", choices=("create-community", "signup", "feed", "roster", "measures",
                                           "statewide-queries",
                                           "assessment-import", "federation-lag", "statewide-ingest"),
                        help="run one benchmark")
    args = parser.parse_args()
    # A stop request (kill, a CI cancel) must still stop the stack below: exit through `finally`.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    correct = True
    with tempfile.TemporaryDirectory(prefix="copnet-bench-") as tmp:
        root = Path(tmp)
        stack = RunningStack(settings_for_tests(root / "data", log_level="WARNING"), root)
        baseline = None
        try:
            stack.start_infrastructure().start_services().start_gateway()
            port = stacklib.free_port()
            baseline = ManagedProcess(baseline_spec(stack, port), root).start()
            baseline_url = f"http://127.0.0.1:{port}"
            if args.only in (None, "create-community"):
                bench_create_community(stack, baseline_url, args.requests, args.concurrency)
            if args.only in (None, "signup"):
                correct = bench_signup_burst(stack, baseline_url, args.signups, args.signup_clients,
                                             args.seats) and correct
            if args.only in (None, "feed"):
                correct = bench_feed_poll(stack, baseline_url, args.feed_requests, args.feed_clients) and correct
            if args.only in (None, "roster"):
                correct = bench_roster_import(stack, args.roster_staff) and correct
            if args.only in (None, "measures"):
                bench_measure_queries(tuple(args.measure_students))
            if args.only in (None, "assessment-import"):
                correct = bench_assessment_import(args.assessment_rows) and correct
            if args.only in (None, "statewide-queries"):
                bench_statewide_queries(root / "statewide")
            if args.only in (None, "federation-lag"):
                bench_federation_lag(root / "federation")
            if args.only in (None, "statewide-ingest"):
                bench_statewide_ingest()
        finally:
            if baseline is not None:
                baseline.stop()
            stack.stop()
    return 0 if correct else 1


if __name__ == "__main__":
    sys.exit(main())
