"""Calendar feeds (a community's, a person's) and the per-person secret token that opens them.

Calendar clients subscribe to a URL and fetch it on their own schedule without a bearer token,
so the URL carries a secret of the person's: only its SHA-256 is stored, one per person, and
issuing a new one ends the old at once. A feed is exported by the calendar-exporter plugin whose
key the URL asks for (`ics` by default), isolated and time-bounded like any plugin call.
"""

from __future__ import annotations

import collections
import hashlib
import json
import logging
import re
import secrets
import unicodedata
from collections.abc import Iterable

from copnet.kernel import db
from copnet.kernel.errors import (
    InvalidArgument,
    NotFound,
    PermissionDenied,
    Unauthenticated,
    Unavailable,
)
from copnet.kernel.plugin_host import PluginCallFailed, PluginUnavailable
from copnet.kernel.service import ServiceContext
from copnet.kernel.timestamps import timestamp
from copnet.pluginapi import CalendarExporter, CalendarFeed, FeedEvent
from copnet.scheduling import access, visibility
from copnet.scheduling.catalog import collect_session_types
from copnet.scheduling.directory import Audiences, CommunityFacts, Directory
from copnet.scheduling.feed_builder import calendar_feed, feed_event, session_details
from copnet.scheduling.models import FeedToken, Occurrence, Session
from copnet.scheduling.v1 import scheduling_pb2

log = logging.getLogger(__name__)
DEFAULT_FORMAT = "ics"
# A person's feed with no community yet still needs a calendar zone.
NO_COMMUNITY_TIME_ZONE = "UTC"


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def slug(text: str) -> str:
    """A file-name-safe version of a name ("Bay Area Algebra" -> "bay-area-algebra")."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")[:80] or "calendar"


class FeedsApi:
    ctx: ServiceContext
    directory: Directory

    # -- tokens ----------------------------------------------------------------------------------
    def IssueFeedToken(self, request: scheduling_pb2.IssueFeedTokenRequest,
                       _context) -> scheduling_pb2.IssueFeedTokenResponse:
        action = "issue a calendar feed token"
        person_id = request.person_id or access.caller(action).person_id
        # The token opens the person's whole calendar and issuing one ends the URL their calendar
        # app uses: only they may do it, never silently someone above them.
        access.require_self(person_id, action)
        token = secrets.token_urlsafe(32)
        issued_at = db.utcnow()

        def work(uow: db.UnitOfWork) -> None:
            # One document per person: replacing its hash is what ends the previous token.
            uow.update_one(FeedToken, {"_id": person_id},
                           {"$set": {"token_hash": token_hash(token), "issued_at": issued_at}}, upsert=True)

        self.ctx.transaction(work)
        return scheduling_pb2.IssueFeedTokenResponse(person_id=person_id, token=token, issue_time=timestamp(issued_at))

    def _token_holder(self, token: str) -> str:
        """The person whose live feed token this is; UNAUTHENTICATED otherwise."""
        found = FeedToken.objects(token_hash=token_hash(token)).first() if token else None
        if found is None:
            raise Unauthenticated("the feed token is missing, unknown or replaced by a newer one: issue a new one",
                                  reason="FEED_TOKEN_INVALID")
        return found.id

    # -- feeds -----------------------------------------------------------------------------------
    def ExportCommunityCalendar(self, request: scheduling_pb2.ExportCommunityCalendarRequest,
                                _context) -> scheduling_pb2.ExportCalendarResponse:
        person_id = self._token_holder(request.token)
        community = self.directory.community(request.community_id)
        if person_id not in community.facilitator_ids and person_id not in self.directory.members(community.id):
            raise PermissionDenied(f"the feed token's holder is not a member or facilitator of {community.id!r}",
                                   reason="NOT_A_MEMBER")
        plugin, exporter = self._exporter(request.format, community.scope)
        # Every session the holder may read: a leaders-only or team session only when it is for them.
        sight = visibility.sight_of_person(self.directory, person_id, community)
        sessions = [session for session in Session.objects(community_id=community.id)
                    if sight.sees(session.audience, session.team_id, session.facilitator_ids)]
        feed = calendar_feed(community.name, community.time_zone, self._events(sessions, {community.id: community}),
                             feed_id=f"community-{community.id}@{self.ctx.settings.region}.copnet",
                             description=f"Sessions of {community.name}")
        return self._export(plugin, exporter, community.scope, feed, community.name)

    def ExportPersonCalendar(self, request: scheduling_pb2.ExportPersonCalendarRequest,
                             _context) -> scheduling_pb2.ExportCalendarResponse:
        if not request.person_id:
            raise InvalidArgument.for_field("person_id", "is required")
        if self._token_holder(request.token) != request.person_id:
            raise Unauthenticated("the feed token is not this person's", reason="FEED_TOKEN_INVALID")
        person = self.directory.person(request.person_id)
        communities = {}
        for community_id in sorted(self.directory.communities_of(person.id)):
            try:
                communities[community_id] = self.directory.community(community_id, field=None)
            except NotFound:
                continue   # deleted since the membership lookup: nothing of it to show
        first = next(iter(communities.values()), None)
        scope = first.scope if first else ()
        plugin, exporter = self._exporter(request.format, scope)
        audiences = Audiences(self.directory)
        # Cancelled sessions count, so a subscribed client removes them. Every all-members
        # session is the person's: they belong to each of these communities.
        sessions = [session for session in Session.objects(community_id__in=list(communities))
                    if session.audience == "all_members" or person.id in session.facilitator_ids
                    or person.id in audiences.of(communities[session.community_id], session.audience,
                                                 session.team_id)]
        feed = calendar_feed(f"{person.name} (copnet sessions)", first.time_zone if first else NO_COMMUNITY_TIME_ZONE,
                             self._events(sessions, communities),
                             feed_id=f"person-{person.id}@{self.ctx.settings.region}.copnet",
                             description=f"Sessions for {person.name} in every community they belong to or facilitate")
        return self._export(plugin, exporter, scope, feed, person.name)

    def _events(self, sessions: list[Session], communities: dict[str, CommunityFacts]) -> Iterable[FeedEvent]:
        by_session: dict[str, list[Occurrence]] = collections.defaultdict(list)
        for occurrence in Occurrence.objects(session_id__in=[s.id for s in sessions]):
            by_session[occurrence.session_id].append(occurrence)
        types: dict[str, dict[str, scheduling_pb2.SessionType]] = {}
        for session in sessions:
            if session.community_id not in types:
                types[session.community_id] = {t.key: t for t in collect_session_types(
                    self.ctx, list(communities[session.community_id].scope))}
            declared = types[session.community_id].get(session.session_type)
            # A type whose plugin was switched off since keeps a readable name and its fields.
            title = declared.title if declared else session.session_type.replace("_", " ").capitalize()
            schema = json.loads(declared.fields_schema_json) if declared and declared.fields_schema_json else {}
            details = session_details(session.fields or {}, schema,
                                      list(declared.preparation_prompts) if declared else ())
            yield feed_event(session, by_session[session.id], region=self.ctx.settings.region, type_title=title,
                             details=details)

    # -- exporters -------------------------------------------------------------------------------
    def _exporter(self, requested: str, scope: Iterable[str]) -> tuple[str, CalendarExporter]:
        """(plugin, exporter) for the requested format among the exporters enabled in `scope`."""
        key = requested or DEFAULT_FORMAT
        available: dict[str, tuple[str, CalendarExporter]] = {}
        for result in self.ctx.plugins.call("register_calendar_exporters", scope=tuple(scope)):
            for exporter in result.value if isinstance(result.value, list | tuple) else [result.value]:
                if not isinstance(exporter, CalendarExporter) or not isinstance(exporter.key, str):
                    log.warning("plugins: %s returned %r from register_calendar_exporters, not a CalendarExporter; "
                                "skipped", result.plugin, exporter)
                    continue
                if exporter.key in available:
                    log.warning("plugins: calendar exporter %r from %s duplicates %s's; skipped", exporter.key,
                                result.plugin, available[exporter.key][0])
                    continue
                available[exporter.key] = (result.plugin, exporter)
        if key not in available:
            raise InvalidArgument.for_field(
                "format", f"no calendar exporter {key!r} here; available: {', '.join(sorted(available)) or 'none'}",
                reason="UNKNOWN_FORMAT")
        return available[key]

    def _export(self, plugin: str, exporter: CalendarExporter, scope: Iterable[str], feed: CalendarFeed,
                name: str) -> scheduling_pb2.ExportCalendarResponse:
        try:
            content = self.ctx.plugins.invoke(plugin, tuple(scope), "export",
                                              lambda settings: exporter.export(feed, settings))
        except (PluginCallFailed, PluginUnavailable) as error:
            raise Unavailable(f"the {exporter.key!r} calendar exporter could not export this feed: {error}",
                              reason="EXPORTER_FAILED") from None
        if isinstance(content, str):
            content = content.encode("utf-8")
        if not isinstance(content, bytes | bytearray):
            log.error("plugins: %s's calendar exporter %r returned %s, not bytes", plugin, exporter.key,
                      type(content).__name__)
            raise Unavailable(f"the {exporter.key!r} calendar exporter returned no file", reason="EXPORTER_FAILED")
        return scheduling_pb2.ExportCalendarResponse(media_type=exporter.media_type, content=bytes(content),
                                         filename=f"{slug(name)}.{exporter.file_extension}")
