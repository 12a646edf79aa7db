"""The per-field rules of a session that need no membership answer (pure)."""

from __future__ import annotations

import datetime as dt

import pytest
from copnet.kernel.errors import InvalidArgument
from copnet.scheduling.session_plan import check_times, check_url, check_venue

T0 = dt.datetime(2026, 10, 13, 23, tzinfo=dt.UTC)


def problem(call, *args) -> tuple[str, str]:
    with pytest.raises(InvalidArgument) as raised:
        call(*args)
    return raised.value.fields[0].field, raised.value.reason


def test_times():
    check_times(T0, T0 + dt.timedelta(hours=24))
    assert problem(check_times, T0, T0) == ("end_time", "END_BEFORE_START")
    assert problem(check_times, T0, T0 - dt.timedelta(minutes=1)) == ("end_time", "END_BEFORE_START")
    assert problem(check_times, T0, T0 + dt.timedelta(hours=24, seconds=1)) == ("end_time", "SESSION_TOO_LONG")
    assert problem(check_times, None, T0) == ("start_time", "INVALID_FIELD")


def test_venue_by_modality():
    assert check_venue("virtual", "", "", False) == ""
    assert check_venue("in_person", "Room 4", "1 Main St", True) == "room 4|1 main st"
    assert problem(check_venue, "virtual", "Room 4", "", True) == ("venue", "VENUE_NOT_ALLOWED")
    assert problem(check_venue, "in_person", "", "1 Main St", True) == ("venue.name", "VENUE_REQUIRED")
    assert problem(check_venue, "hybrid", "  ", "", False) == ("venue.name", "VENUE_REQUIRED")
    assert problem(check_venue, "hybrid", "x" * 201, "", True) == ("venue.name", "TOO_LONG")


@pytest.mark.parametrize("url", ["https://meet.example.org/abc", "http://example.org", ""])
def test_meeting_urls_that_pass(url):
    assert check_url(url) == url


@pytest.mark.parametrize("url", ["ftp://example.org", "zoom", "https://", "javascript:alert(1)"])
def test_meeting_urls_that_do_not(url):
    assert problem(check_url, url) == ("meeting_url", "INVALID_URL")
