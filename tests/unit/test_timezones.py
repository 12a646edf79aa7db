"""One check of IANA time-zone names for every service."""

import zoneinfo

import pytest

from copnet.kernel.errors import InvalidArgument
from copnet.kernel.timezones import zone


def test_a_known_name_is_its_zone():
    assert zone("America/Los_Angeles") == zoneinfo.ZoneInfo("America/Los_Angeles")


@pytest.mark.parametrize("name", ["Mars/Olympus", "", "../etc/passwd", "America/Los Angeles"])
def test_an_unknown_name_is_a_field_error_with_one_reason(name):
    with pytest.raises(InvalidArgument) as raised:
        zone(name, "venue.time_zone", whose="at the host")
    assert raised.value.reason == "UNKNOWN_TIME_ZONE"
    assert [f.field for f in raised.value.fields] == ["venue.time_zone"]
    assert "at the host" in str(raised.value)
