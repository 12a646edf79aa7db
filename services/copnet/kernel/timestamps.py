"""Conversions between datetimes and google.protobuf.Timestamp."""

from __future__ import annotations

import datetime as dt

from google.protobuf import timestamp_pb2


def to_millisecond(moment: dt.datetime) -> dt.datetime:
    """`moment` cut to the millisecond: what BSON stores, so a reply and a later read agree."""
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


def instant(stamp: timestamp_pb2.Timestamp) -> dt.datetime:
    """A Timestamp as an aware UTC datetime to the millisecond."""
    return to_millisecond(stamp.ToDatetime(tzinfo=dt.UTC))


def timestamp(value: dt.datetime) -> timestamp_pb2.Timestamp:
    result = timestamp_pb2.Timestamp()
    result.FromDatetime(value)
    return result
