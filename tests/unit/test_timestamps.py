"""Instants to the millisecond, as BSON stores them, in one place."""

import datetime as dt

from copnet.kernel import db
from copnet.kernel.timestamps import instant, timestamp, to_millisecond


def test_an_instant_is_cut_to_the_millisecond_and_is_utc():
    moment = dt.datetime(2026, 11, 10, 15, 30, 1, 123987, tzinfo=dt.timezone(dt.timedelta(hours=-8)))
    assert to_millisecond(moment).microsecond == 123000
    read = instant(timestamp(moment))
    assert read == dt.datetime(2026, 11, 10, 23, 30, 1, 123000, tzinfo=dt.UTC)
    assert read.tzinfo == dt.UTC


def test_now_is_to_the_millisecond():
    assert db.utcnow().microsecond % 1000 == 0
