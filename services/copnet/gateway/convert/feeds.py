"""Calendar feeds and tokens: scheduling messages -> JSON models."""

from __future__ import annotations

import base64

from copnet.gateway.convert.common import rfc3339
from copnet.gateway.schemas import feeds as schemas
from copnet.scheduling.v1 import scheduling_pb2


def calendar_token(reply: scheduling_pb2.IssueFeedTokenResponse, person_feed_url: str,
                   community_feed_url_template: str) -> schemas.CalendarToken:
    return schemas.CalendarToken(person_id=reply.person_id, token=reply.token, person_feed_url=person_feed_url,
                                 community_feed_url_template=community_feed_url_template,
                                 issued_at=rfc3339(reply.issue_time))


def calendar_export(reply: scheduling_pb2.ExportCalendarResponse) -> schemas.CalendarExport:
    # base64, as proto3's JSON mapping spells bytes: an exporter's output need not be text.
    return schemas.CalendarExport(media_type=reply.media_type, filename=reply.filename,
                                  content=base64.b64encode(reply.content).decode("ascii"))
