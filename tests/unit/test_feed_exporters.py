"""Choosing and calling a calendar exporter for a feed: per scope, by key, isolated like a hook."""

from __future__ import annotations

import threading

import pytest

from copnet import CalendarFeed, hookimpl
from copnet.kernel.errors import InvalidArgument, Unavailable
from copnet.kernel.plugin_config_feed import PluginConfig
from copnet.kernel.plugin_host import PluginHost
from copnet.kernel.service import ServiceContext
from copnet.kernel.settings import load_settings
from copnet.scheduling.feeds import FeedsApi, slug, token_hash

NORTH = ("state", "region-north", "county-lake")
SOUTH = ("state", "region-south")
FEED = CalendarFeed(name="Bay Area Algebra", time_zone="America/Los_Angeles", events=())


class Exporter:
    def __init__(self, key: str, answer=b"BEGIN:VCALENDAR", media_type: str = "text/x-test"):
        self.key, self.media_type, self.file_extension = key, media_type, key
        self.answer = answer
        self.release = threading.Event()

    def export(self, calendar, settings):
        if self.answer == "raise":
            raise RuntimeError("boom")
        if self.answer == "hang":
            self.release.wait(10)
        return self.answer


class Offers:
    COPNET_HOOKSPEC_VERSION = 2

    def __init__(self, *exporters, by_default: bool = True):
        self.exporters = list(exporters)
        self.COPNET_ENABLED_BY_DEFAULT = by_default

    @hookimpl
    def register_calendar_exporters(self):
        return self.exporters


@pytest.fixture
def host():
    made = PluginHost(timeout_seconds=0.3)
    made.configs.load([])
    yield made
    made.close()


def api_over(host: PluginHost) -> FeedsApi:
    api = FeedsApi()
    api.ctx = ServiceContext("scheduling", load_settings(secret="s" * 40), host)
    return api


def test_the_default_format_is_ics_and_the_first_exporter_of_a_key_wins(host):
    first, duplicate = Exporter("ics", b"first"), Exporter("ics", b"second")
    host.register(Offers(duplicate, Exporter("csv")), "one")
    host.register(Offers(first, "not an exporter"), "two")
    api = api_over(host)
    # The first answer in call order (pluggy's: the last registered plugin first), as for session types.
    plugin, exporter = api._exporter("", NORTH)
    assert (plugin, exporter) == ("two", first)
    assert api._exporter("csv", NORTH)[0] == "one"


def test_an_unknown_format_names_the_ones_there_are(host):
    host.register(Offers(Exporter("ics"), Exporter("csv")), "one")
    with pytest.raises(InvalidArgument) as raised:
        api_over(host)._exporter("pdf", NORTH)
    assert raised.value.reason == "UNKNOWN_FORMAT" and [f.field for f in raised.value.fields] == ["format"]
    assert "available: csv, ics" in raised.value.message


def test_only_exporters_of_plugins_enabled_in_the_feeds_scope(host):
    host.register(Offers(Exporter("xcal"), by_default=False), "regional")
    host.configs.load([PluginConfig("region-north", "regional", 1, True, region_id="region-north")])
    api = api_over(host)
    assert api._exporter("xcal", NORTH)[0] == "regional"
    with pytest.raises(InvalidArgument, match="available: none"):
        api._exporter("xcal", SOUTH)


def test_the_export_is_served_with_the_exporters_media_type_and_a_file_name(host):
    host.register(Offers(Exporter("ics", "text as str")), "one")
    api = api_over(host)
    plugin, exporter = api._exporter("ics", NORTH)
    reply = api._export(plugin, exporter, NORTH, FEED, "Bay Area Álgebra")
    assert (reply.media_type, reply.content, reply.filename) == ("text/x-test", b"text as str", "bay-area-algebra.ics")


@pytest.mark.parametrize("answer", ["raise", "hang", 42])
def test_an_exporter_that_fails_is_a_503_and_counts_against_its_plugin(host, answer):
    broken = Exporter("ics", answer)
    host.register(Offers(broken), "broken")
    api = api_over(host)
    try:
        with pytest.raises(Unavailable) as raised:
            api._export(*api._exporter("ics", NORTH), NORTH, FEED, "x")
    finally:
        broken.release.set()
    assert raised.value.reason == "EXPORTER_FAILED"
    counted = host.failures[("broken", "")]
    assert counted == (0 if answer == 42 else 1)   # a wrong answer is the plugin's, but not a failed call


def test_names_and_token_hashes():
    assert slug("Bay Area Algebra") == "bay-area-algebra"
    assert slug("  Ñandú / Über 6-8 ") == "nandu-uber-6-8"
    assert slug("数学") == "calendar"
    assert token_hash("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
