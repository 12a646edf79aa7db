"""/api/v1 calendar feeds (scheduling): iCalendar (or another exporter's format) per community and
per person, subscribable by URL. Calendar clients carry no bearer token, so a feed URL carries the
person's secret feed token instead; issuing a new token stops the old URLs at once."""

from __future__ import annotations

from flask import Response, current_app, request, url_for
from flask_openapi3 import APIBlueprint, Tag

from copnet.gateway.auth import BEARER_REQUIRED
from copnet.gateway.backend import scheduling
from copnet.gateway.convert import feeds as convert
from copnet.gateway.openapi import LIST_PROBLEMS, WRITE_PROBLEMS, operation_id
from copnet.gateway.schemas.common import IdPath, NoBody
from copnet.gateway.schemas.feeds import CalendarExport, CalendarToken, FeedQuery
from copnet.scheduling.v1 import scheduling_pb2

blueprint = APIBlueprint("feeds", __name__, url_prefix="/api/v1", operation_id_callback=operation_id,
                         abp_tags=[Tag(name="calendars", description="Calendar feeds and their secret tokens.")])
JSON = "application/json"
# Stands in for a community id in the template URL (url_for would escape the braces).
COMMUNITY_PLACEHOLDER = "community-id-placeholder"


@blueprint.post("/people/<id>/calendar-token", responses={200: CalendarToken, **WRITE_PROBLEMS},
                security=BEARER_REQUIRED)
def issue_calendar_token(path: IdPath, body: NoBody):
    """A new feed token for the person (the person themself only: 403 `SELF_ONLY` for anyone else)
    and the feed URLs that carry it. The token is shown only now; the previous one stops working."""
    return calendar_token(path.id)


@blueprint.post("/me/calendar-token", responses={200: CalendarToken, **WRITE_PROBLEMS}, security=BEARER_REQUIRED)
def issue_my_calendar_token(body: NoBody):
    """A new feed token for the caller (the person the bearer token names)."""
    return calendar_token("")


@blueprint.get("/calendars/people/<id>.ics", responses={200: CalendarExport, **LIST_PROBLEMS})
def get_person_calendar(path: IdPath, query: FeedQuery):
    """The person's feed: the occurrences of every community they belong to or facilitate, with
    time zones, moved and cancelled occurrences as calendar clients expect them. No bearer token:
    `token` is the person's feed token."""
    reply = scheduling().ExportPersonCalendar(
        scheduling_pb2.ExportPersonCalendarRequest(person_id=path.id, token=query.token, format=query.format))
    return feed_response(reply)


@blueprint.get("/calendars/communities/<id>.ics", responses={200: CalendarExport, **LIST_PROBLEMS})
def get_community_calendar(path: IdPath, query: FeedQuery):
    """One community's feed, fetched with the feed token of a member, facilitator or manager of it.
    No bearer token: `token` is the person's feed token."""
    reply = scheduling().ExportCommunityCalendar(
        scheduling_pb2.ExportCommunityCalendarRequest(community_id=path.id, token=query.token, format=query.format))
    return feed_response(reply)


def calendar_token(person_id: str) -> dict:
    reply = scheduling().IssueFeedToken(scheduling_pb2.IssueFeedTokenRequest(person_id=person_id))
    person_url = public_url_for(".get_person_calendar", id=reply.person_id, token=reply.token)
    community_url = public_url_for(".get_community_calendar", id=COMMUNITY_PLACEHOLDER, token=reply.token)
    return convert.calendar_token(reply, person_url, community_url.replace(COMMUNITY_PLACEHOLDER, "{community_id}")
                                  ).model_dump(mode="json")


def public_url_for(endpoint: str, **values) -> str:
    """An absolute URL for a calendar app: on COPNET_PUBLIC_URL when set, otherwise on the request's
    scheme and host (as the trusted proxies forwarded them, with COPNET_TRUSTED_PROXIES)."""
    base = current_app.config.get("COPNET_PUBLIC_URL")
    return base + url_for(endpoint, **values) if base else url_for(endpoint, _external=True, **values)


def feed_response(reply: scheduling_pb2.ExportCalendarResponse):
    """The exporter's bytes under its media type (or, asked for JSON, the same wrapped in JSON). An ETag
    lets a calendar client's next poll be a 304."""
    if request.accept_mimetypes.best_match([reply.media_type, JSON], default=reply.media_type) == JSON:
        return convert.calendar_export(reply).model_dump(mode="json")
    response = Response(reply.content, mimetype=reply.media_type)
    if reply.filename:
        response.headers.set("Content-Disposition", "attachment", filename=reply.filename)
    # The URL holds a secret: no shared cache may keep the answer.
    response.headers["Cache-Control"] = "private, no-cache"
    response.add_etag()
    return response.make_conditional(request)
