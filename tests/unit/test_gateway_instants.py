"""Instants shown in a time zone by the gateway survive records stored before the range rule."""

from datetime import UTC, datetime, timedelta

import pytest

from copnet.gateway.convert.common import in_zone


def test_an_instant_is_shown_with_its_zone_offset():
    shown = in_zone(datetime(2027, 1, 5, 17, tzinfo=UTC), "America/New_York")
    assert shown.utcoffset() == timedelta(hours=-5) and shown.hour == 12


@pytest.mark.parametrize(("moment", "zone"), [(datetime(1, 1, 1, tzinfo=UTC), "America/New_York"),
                                              (datetime(9999, 12, 31, 23, 59, tzinfo=UTC), "Pacific/Kiritimati")])
def test_an_offset_past_the_calendar_shows_the_instant_in_utc_instead_of_failing(moment, zone):
    assert in_zone(moment, zone) == moment and in_zone(moment, zone).utcoffset() == timedelta(0)
