"""The baselines copnet is compared with: a minimal Flask + pymongo app, each route the least that
does the same job (one write, one conditional update, a calendar built from the stored documents)."""

from __future__ import annotations

import collections
import datetime as dt
import os
import zoneinfo

import bson
import icalendar
import pymongo
from flask import Flask, Response, jsonify, request

SEATS_COLLECTION = "seats"
# Set by the benchmark: the databases copnet's membership and scheduling services keep.
MEMBERSHIP_DATABASE, SCHEDULING_DATABASE = "BASELINE_MEMBERSHIP_DB", "BASELINE_SCHEDULING_DB"


def create_app() -> Flask:
    app = Flask(__name__)
    client = None

    def mongo() -> pymongo.MongoClient:
        nonlocal client
        if client is None:  # after fork, like the gateway's channels
            client = pymongo.MongoClient(os.environ["BASELINE_MONGODB_URI"], tz_aware=True)
        return client

    def db():
        return mongo()["baseline"]

    @app.post("/communities")
    def create_community():
        body = request.get_json()
        document = {"_id": str(bson.ObjectId()), "name": body["name"], "kind": body["kind"],
                    "host_organization_id": body["host_organization_id"]}
        db()["communities"].insert_one(document)
        return jsonify({"id": document["_id"], **body}), 201

    @app.post("/communities/<community_id>/registrations")
    def register(community_id: str):
        """A seat while fewer than `capacity` are taken (one conditional update), else one on the waiting count."""
        request.get_json()
        seats = db()[SEATS_COLLECTION]
        taken = seats.update_one({"_id": community_id, "$expr": {"$lt": ["$confirmed", "$capacity"]}},
                                 {"$inc": {"confirmed": 1}})
        if taken.matched_count:
            return jsonify({"status": "confirmed"}), 201
        seats.update_one({"_id": community_id}, {"$inc": {"waiting": 1}})
        return jsonify({"status": "waitlisted"}), 201

    @app.get("/calendars/people/<person_id>.ics")
    def person_calendar(person_id: str):
        """The person's sessions read straight from copnet's collections (their communities from
        membership's, sessions and occurrences from scheduling's): no token, no gRPC, no plugin host."""
        membership, scheduling = mongo()[os.environ[MEMBERSHIP_DATABASE]], mongo()[os.environ[SCHEDULING_DATABASE]]
        communities = {r["community_id"] for r in membership["registrations"].find(
            {"person_id": person_id, "status": "confirmed"}, {"community_id": 1})}
        communities |= {c["_id"] for c in membership["communities"].find({"facilitator_ids": person_id}, {"_id": 1})}
        # Audiences narrower than all members would need membership's teams: left out here.
        sessions = list(scheduling["sessions"].find({"community_id": {"$in": sorted(communities)},
                                                     "$or": [{"audience": "all_members"},
                                                             {"facilitator_ids": person_id}]}))
        occurrences = collections.defaultdict(list)
        for occurrence in scheduling["occurrences"].find({"session_id": {"$in": [s["_id"] for s in sessions]}}):
            occurrences[occurrence["session_id"]].append(occurrence)
        return Response(calendar_of(person_id, sessions, occurrences), mimetype="text/calendar; charset=utf-8")

    return app


def calendar_of(name: str, sessions: list[dict], occurrences: dict[str, list[dict]]) -> bytes:
    """One VEVENT per session (a series: RRULE, an EXDATE per cancelled occurrence, a RECURRENCE-ID
    VEVENT per moved one), times in the session's zone, and the VTIMEZONEs icalendar generates for
    the years the events span, as copnet's exporter asks for them."""
    calendar = icalendar.Calendar.new(prodid="-//copnet bench//baseline//EN", name=name, uid=f"{name}@baseline")
    instants: list[dt.datetime] = []
    for session in sorted(sessions, key=lambda s: (s["start_at"], s["_id"])):
        zone = zoneinfo.ZoneInfo(session["time_zone"])
        own = sorted(occurrences[session["_id"]], key=lambda o: o["original_start"])
        instants.extend(o["start_at"] for o in own)
        if not session.get("recurrence") or not own:
            first = own[0] if own else {"start_at": session["start_at"], "end_at": session["end_at"], "status": ""}
            cancelled = "cancelled" in (session["status"], first["status"])
            calendar.add_component(event_of(session, zone, first["start_at"], first["end_at"], cancelled))
            continue
        start = own[0]["original_start"]
        master = event_of(session, zone, start, start + (session["end_at"] - session["start_at"]),
                          session["status"] == "cancelled")
        # The benchmark's rules end with COUNT, so the stored rule serves a client as it is (copnet's
        # exporter also spells out where a rule without an end stops: the program year).
        master.add("rrule", icalendar.vRecur.from_ical(session["recurrence"]))
        exdates = [o["original_start"].astimezone(zone) for o in own if o["status"] == "cancelled"]
        if exdates:
            master.add("exdate", exdates)
        calendar.add_component(master)
        for moved in (o for o in own if o["status"] == "moved"):
            override = event_of(session, zone, moved["start_at"], moved["end_at"], False)
            override.add("recurrence-id", moved["original_start"].astimezone(zone))
            calendar.add_component(override)
    if instants:
        first, last = min(instants), max(instants)
        calendar.add_missing_timezones(first_date=dt.date(first.year - 1, 1, 1), last_date=dt.date(last.year + 2, 1, 1))
    return calendar.to_ical()


def event_of(session: dict, zone: zoneinfo.ZoneInfo, start: dt.datetime, end: dt.datetime,
             cancelled: bool) -> icalendar.Event:
    return icalendar.Event.new(
        uid=f"{session['_id']}@baseline", sequence=session.get("sequence", 0), summary=session["title"],
        start=start.astimezone(zone), end=end.astimezone(zone),
        stamp=session.get("updated_at") or session["created_at"], status="CANCELLED" if cancelled else "CONFIRMED")
