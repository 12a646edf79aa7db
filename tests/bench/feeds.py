"""The calendar-feed poll: a person's feed fetched again and again, as subscribed calendar clients do.

Set-up (untimed), through membership's and scheduling's gRPC APIs and the REST API: a program in
the current school year, three of its communities, a person confirmed in all three, and in each a
monthly series (9 occurrences) and a weekly one (30) with one occurrence moved and one cancelled;
then the person's feed token (REST), whose feed URL is what gets fetched. Timed: `requests` GETs
of that URL, `clients` at a time, through the gateway (feed token, membership lookups over gRPC,
the calendar exporter through the plugin host); beside it the baseline app's route, which reads the
same documents straight from MongoDB and builds the calendar with icalendar itself. Then checked:
an independent parser (vobject) expands exactly the occurrences scheduling says take place, and a
conditional GET with the feed's ETag answers 304.
"""

from __future__ import annotations

import collections
import datetime as dt
import http.client
import time
import urllib.parse
import zoneinfo
from dataclasses import dataclass

import vobject

from copnet.api_client import ApiClient
from copnet.kernel.timestamps import timestamp
from copnet.scheduling.v1 import scheduling_pb2
from tests.bench.load import HEADER, LoadResult, get_burst
from tests.bench.signup import Check
from tests.integration.scheduling_world import TZ, SchedulingWorld, current_program_year
from tests.support.stack import RunningStack

PREFIX = "bench-feed"
MONTHLY_COUNT, WEEKLY_COUNT = 9, 30
WEEKDAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
# Per community: the monthly series' weekday (its second one of the month) and the weekly series',
# chosen so the person is never expected in two places at once.
SERIES_DAYS = (("TU", "MO"), ("WE", "WE"), ("TH", "FR"))
MONTHLY_AT, MONTHLY_MINUTES = dt.time(16, 0), 120
WEEKLY_AT, WEEKLY_MINUTES = dt.time(7, 30), 45
MOVED, CANCELLED = 5, 10   # which weekly occurrences (by position) are moved and cancelled
WARM_UP = 20
UTC = dt.UTC


@dataclass
class FeedWorld:
    person_id: str
    feed_path: str                    # the feed URL's path and query, token included
    occurrences: list[scheduling_pb2.Occurrence]   # every one scheduling stored for the person, cancelled too

    def happening(self) -> list[dt.datetime]:
        return sorted(o.start_time.ToDatetime(tzinfo=UTC) for o in self.occurrences
                      if o.status != scheduling_pb2.OCCURRENCE_STATUS_CANCELLED)


def nth_weekday(year: int, month: int, weekday: str, nth: int = 1) -> dt.date:
    first = dt.date(year, month, 1)
    return first + dt.timedelta(days=(WEEKDAYS.index(weekday) - first.weekday()) % 7 + 7 * (nth - 1))


def local(day: dt.date, at: dt.time) -> dt.datetime:
    return dt.datetime.combine(day, at, tzinfo=zoneinfo.ZoneInfo(TZ)).astimezone(UTC)


def occurrences(world: SchedulingWorld, **which: str) -> list[scheduling_pb2.Occurrence]:
    found, token = [], ""
    while True:
        reply = world.scheduling(world.admin).ListOccurrences(scheduling_pb2.ListOccurrencesRequest(
            include_cancelled=True, page_size=1000, page_token=token, **which))
        found.extend(reply.occurrences)
        if not (token := reply.next_page_token):
            return found


def build_world(stack: RunningStack) -> FeedWorld:
    world = SchedulingWorld(stack, PREFIX)
    try:
        year = int(current_program_year()[:4])
        program = world.program()
        person, host = world.person("reader"), world.person("host")
        for n, (monthly_day, weekly_day) in enumerate(SERIES_DAYS):
            community = world.program_community(f"community{n}", program, members=[person], facilitators=[host])
            world.session(community, local(nth_weekday(year, 9, monthly_day, 2), MONTHLY_AT), minutes=MONTHLY_MINUTES,
                          title=f"Monthly convening {n}",
                          recurrence=f"FREQ=MONTHLY;BYDAY=2{monthly_day};COUNT={MONTHLY_COUNT}")
            weekly = world.session(community, local(nth_weekday(year, 9, weekly_day), WEEKLY_AT),
                                   minutes=WEEKLY_MINUTES, title=f"Weekly check-in {n}",
                                   recurrence=f"FREQ=WEEKLY;BYDAY={weekly_day};COUNT={WEEKLY_COUNT}").session
            series = occurrences(world, session_id=weekly.id)
            moved, cancelled = series[MOVED], series[CANCELLED]
            world.scheduling(world.admin).MoveOccurrence(scheduling_pb2.MoveOccurrenceRequest(
                id=moved.id, start_time=timestamp(moved.start_time.ToDatetime(tzinfo=UTC) + dt.timedelta(days=1))))
            world.scheduling(world.admin).CancelOccurrence(scheduling_pb2.CancelOccurrenceRequest(id=cancelled.id, reason="School holiday"))
        issued = ApiClient(stack.gateway_url, world.token_of(person)).post(f"/people/{person}/calendar-token")
        url = urllib.parse.urlsplit(issued["person_feed_url"])
        return FeedWorld(person, f"{url.path}?{url.query}", occurrences(world, person_id=person))
    finally:
        world.close()


@dataclass
class Fetched:
    status: int
    etag: str
    body: bytes


def fetch(base_url: str, path: str, headers: dict[str, str] | None = None) -> Fetched:
    """One GET with no bearer token: a calendar client has only the URL."""
    url = urllib.parse.urlsplit(base_url)
    connection = http.client.HTTPConnection(url.hostname, url.port, timeout=60)
    try:
        connection.request("GET", path, headers=headers or {})
        response = connection.getresponse()
        return Fetched(response.status, response.getheader("ETag") or "", response.read())
    finally:
        connection.close()


def expanded_starts(ics: bytes) -> list[dt.datetime]:
    """The start (UTC) of every instance a calendar client shows as happening, as vobject reads the feed."""
    events = collections.defaultdict(list)
    for event in vobject.readOne(ics.decode("utf-8")).vevent_list:
        events[event.uid.value].append(event)
    starts = []
    for components in events.values():
        [master] = [e for e in components if not hasattr(e, "recurrence_id")]
        if cancelled(master):
            continue
        overrides = {o.recurrence_id.value.astimezone(UTC): o for o in components if hasattr(o, "recurrence_id")}
        rules = master.getrruleset(addRDate=True)   # None for a single event
        for start in (d.astimezone(UTC) for d in (rules if rules is not None else [master.dtstart.value])):
            override = overrides.get(start)
            if override is None:
                starts.append(start)
            elif not cancelled(override):
                starts.append(override.dtstart.value.astimezone(UTC))
    return sorted(starts)


def cancelled(event) -> bool:
    return hasattr(event, "status") and event.status.value.upper() == "CANCELLED"


def check_feed(who: str, feed: Fetched, happening: list[dt.datetime]) -> list[Check]:
    shown = expanded_starts(feed.body) if feed.status == 200 else []
    return [Check(f"{who}: vobject expands as many occurrences as scheduling stores not cancelled",
                  feed.status == 200 and len(shown) == len(happening),
                  f"status {feed.status}, {len(shown)} expanded, {len(happening)} stored"),
            Check(f"{who}: and at the same instants", feed.status == 200 and shown == happening,
                  "" if shown == happening else f"{len(set(shown) ^ set(happening))} differ")]


def all_ok(who: str, result: LoadResult) -> Check:
    return Check(f"{who}: every GET answered 200", set(result.statuses) == {200},
                 " ".join(f"{code}x{n}" for code, n in sorted(result.statuses.items())))


def bench_feed_poll(stack: RunningStack, baseline_url: str, requests: int, clients: int) -> bool:
    """Runs the poll on both, prints the figures and the checks; True when every check passed."""
    print(f"\n== calendar feed: {requests} GETs of one person's feed ({len(SERIES_DAYS)} communities, "
          f"{2 * len(SERIES_DAYS)} series), {clients} clients at once")
    started = time.perf_counter()
    world = build_world(stack)
    happening = world.happening()
    print(f"set-up: {len(world.occurrences)} occurrences stored for the person "
          f"({len(world.occurrences) - len(happening)} cancelled) through gRPC and REST in "
          f"{time.perf_counter() - started:.1f} s (untimed below)")
    baseline_path = f"/calendars/people/{world.person_id}.ics"
    get_burst("warm-up", baseline_url, baseline_path, WARM_UP, 4)
    get_burst("warm-up", stack.gateway_url, world.feed_path, WARM_UP, 4)

    baseline = get_burst("baseline: flask+pymongo+icalendar", baseline_url, baseline_path, requests, clients)
    copnet = get_burst("copnet: GET .../people/{id}.ics", stack.gateway_url, world.feed_path, requests, clients)

    print(HEADER)
    print(baseline.row())
    print(copnet.row())
    print(f"ratio copnet/baseline throughput: {copnet.throughput / baseline.throughput:.2f}  "
          f"p50 latency: {copnet.percentile(50) / baseline.percentile(50):.2f}x  "
          f"p99 latency: {copnet.percentile(99) / baseline.percentile(99):.2f}x")

    feed, baseline_feed = fetch(stack.gateway_url, world.feed_path), fetch(baseline_url, baseline_path)
    again = fetch(stack.gateway_url, world.feed_path, {"If-None-Match": feed.etag}) if feed.etag else None
    print(f"feed sizes: copnet {len(feed.body)} bytes, baseline {len(baseline_feed.body)} bytes")
    checks = [all_ok("copnet", copnet), all_ok("baseline", baseline),
              *check_feed("copnet", feed, happening), *check_feed("baseline", baseline_feed, happening),
              Check("copnet: a GET with the feed's ETag in If-None-Match answers 304",
                    again is not None and again.status == 304 and not again.body,
                    f"ETag {feed.etag or 'missing'}, then {again.status if again else 'nothing sent'}")]
    print("correctness:")
    for check in checks:
        print(check.line())
    return all(check.ok for check in checks)
