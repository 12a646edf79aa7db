"""icalendar-feed: what it writes, read back by an independent parser (vobject) the way a calendar
client reads it: series across a daylight-saving change, exceptions, time zones, updates."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest
import vobject

from copnet import CalendarExporter, CalendarFeed, FeedEvent, FeedOverride
from copnet.kernel.errors import InvalidArgument
from copnet.testing import scope

UTC = dt.UTC
LA = "America/Los_Angeles"
NORTH = scope("ics-north")
# Monthly on the second Tuesday, 4-7 pm in Los Angeles, from October 2026 (daylight time) through
# June 2027: November 1, 2026 ends daylight time, so 4 pm moves from 23:00Z to 00:00Z.
SERIES_START = dt.datetime(2026, 10, 13, 23, 0, tzinfo=UTC)
SERIES_RULE = "FREQ=MONTHLY;BYDAY=2TU;UNTIL=20270608T230000Z"
SERIES_UTC = [dt.datetime(2026, 10, 13, 23, tzinfo=UTC), dt.datetime(2026, 11, 11, 0, tzinfo=UTC),
              dt.datetime(2026, 12, 9, 0, tzinfo=UTC), dt.datetime(2027, 1, 13, 0, tzinfo=UTC),
              dt.datetime(2027, 2, 10, 0, tzinfo=UTC), dt.datetime(2027, 3, 10, 0, tzinfo=UTC),
              dt.datetime(2027, 4, 13, 23, tzinfo=UTC), dt.datetime(2027, 5, 11, 23, tzinfo=UTC),
              dt.datetime(2027, 6, 8, 23, tzinfo=UTC)]
CREATED = dt.datetime(2026, 9, 1, 17, 0, tzinfo=UTC)
MEETING = "https://meet.example.org/algebra"


def series(**changes) -> FeedEvent:
    fields = dict(uid="s-1@bay-area.copnet", sequence=0, summary="Algebra PLC", start=SERIES_START,
                  end=SERIES_START + dt.timedelta(hours=3), time_zone=LA, rrule=SERIES_RULE,
                  description=f"Bring a task.\n\nSession type: Regular convening\nJoin: {MEETING}",
                  location=MEETING, url=MEETING, categories=("Regular convening",), created=CREATED,
                  last_modified=CREATED)
    fields.update(changes)
    return FeedEvent(**fields)


def feed(*events: FeedEvent, time_zone: str = LA) -> CalendarFeed:
    return CalendarFeed(name="Bay Area Algebra", time_zone=time_zone, events=events, feed_id="community:c-1")


@pytest.fixture
def testbed(plugin_testbed):
    plugin_testbed.load("icalendar-feed")
    return plugin_testbed


def export(testbed, calendar: CalendarFeed, where=NORTH) -> str:
    """As scheduling exports: the exporter from the hook, `export` through the host's invoke."""
    [result] = testbed.call("register_calendar_exporters", scope=where)
    [exporter] = result.value
    content = testbed.host.invoke(result.plugin, where, "export", lambda settings: exporter.export(calendar, settings))
    assert isinstance(content, bytes)
    return content.decode("utf-8")


def vevents(text: str) -> list:
    return vobject.readOne(text).vevent_list


def instances(text: str) -> dict[str, list[tuple[dt.datetime, str]]]:
    """What a client shows, per UID: (start in UTC, status) of every instance, the series expanded
    with its EXDATEs, overriding VEVENTs put in place of the instance their RECURRENCE-ID names."""
    shown: dict[str, list[tuple[dt.datetime, str]]] = {}
    events = vevents(text)
    for master in (e for e in events if not hasattr(e, "recurrence_id")):
        uid = master.uid.value
        overrides = {o.recurrence_id.value.astimezone(UTC): o for o in events
                     if hasattr(o, "recurrence_id") and o.uid.value == uid}
        starts = ([d.astimezone(UTC) for d in master.getrruleset(addRDate=True)] if hasattr(master, "rrule")
                  else [master.dtstart.value.astimezone(UTC)])
        result = []
        for start in starts:
            override = overrides.pop(start, None)
            result.append((override.dtstart.value.astimezone(UTC), override.status.value) if override
                          else (start, master.status.value))
        result.extend((o.dtstart.value.astimezone(UTC), o.status.value) for o in overrides.values()
                      if o.status.value != "CANCELLED")
        shown[uid] = sorted(result)
    return shown


# -- the plugin -------------------------------------------------------------------------------
def test_it_is_on_everywhere_by_default_with_one_ics_exporter(testbed):
    for where in (NORTH, scope("ics-south", "county-x"), ()):
        [result] = testbed.call("register_calendar_exporters", scope=where)
        [exporter] = result.value
        assert result.plugin == "icalendar-feed" and isinstance(exporter, CalendarExporter)
        assert (exporter.key, exporter.media_type, exporter.file_extension) == (
            "ics", "text/calendar; charset=utf-8", "ics")
    [description] = testbed.describe()
    assert description.hooks == ("register_calendar_exporters",)
    assert set(description.settings_schema["properties"]) == {"include_meeting_links", "alarm_minutes_before"}


def test_a_region_can_switch_it_off(testbed):
    testbed.configure("ics-north", enabled=False)
    assert testbed.call("register_calendar_exporters", scope=NORTH) == []
    assert len(testbed.call("register_calendar_exporters", scope=scope("ics-south"))) == 1


def test_invalid_settings_are_refused_by_field(testbed):
    with pytest.raises(InvalidArgument, match="settings.alarm_minutes_before"):
        testbed.configure("ics-north", {"alarm_minutes_before": -5})
    with pytest.raises(InvalidArgument, match="settings.include_links"):
        testbed.configure("ics-north", {"include_links": False})


# -- the calendar ------------------------------------------------------------------------------
def test_the_calendar_names_itself_and_copnet(testbed):
    calendar = vobject.readOne(export(testbed, feed(series())))
    assert calendar.prodid.value == "-//copnet//scheduling//EN"
    assert calendar.version.value == "2.0"
    assert calendar.calscale.value == "GREGORIAN" and calendar.method.value == "PUBLISH"
    assert calendar.x_wr_calname.value == "Bay Area Algebra"
    assert calendar.x_wr_timezone.value == LA


def test_a_monthly_series_keeps_its_wall_clock_time_across_the_daylight_saving_change(testbed):
    text = export(testbed, feed(series()))
    [master] = vevents(text)
    assert f"DTSTART;TZID={LA}:20261013T160000" in text.splitlines()
    assert f"DTEND;TZID={LA}:20261013T190000" in text.splitlines()
    assert master.dtstart.value.replace(tzinfo=None) == dt.datetime(2026, 10, 13, 16, 0)
    assert instances(text)["s-1@bay-area.copnet"] == [(start, "CONFIRMED") for start in SERIES_UTC]


def test_the_time_zone_is_described_with_standard_and_daylight_time(testbed):
    calendar = vobject.readOne(export(testbed, feed(series())))
    [timezone] = calendar.vtimezone_list
    assert timezone.tzid.value == LA
    parts = {child.name for child in timezone.getChildren() if child.name in ("STANDARD", "DAYLIGHT")}
    assert parts == {"STANDARD", "DAYLIGHT"}
    # The parser's own zone, built from the VTIMEZONE alone, agrees with the tz database.
    zone = timezone.gettzinfo()
    for moment in (dt.datetime(2026, 10, 13, 16), dt.datetime(2026, 11, 10, 16), dt.datetime(2027, 4, 13, 16)):
        expected = moment.replace(tzinfo=zoneinfo.ZoneInfo(LA)).utcoffset()
        assert moment.replace(tzinfo=zone).utcoffset() == expected


def test_an_exdate_removes_one_occurrence_and_an_override_moves_another(testbed):
    cancelled_at, moved_from = SERIES_UTC[2], SERIES_UTC[3]
    moved_to = moved_from + dt.timedelta(days=1)
    event = series(sequence=2, exdates=(cancelled_at,), overrides=(
        FeedOverride(recurrence_id=cancelled_at, start=cancelled_at, end=cancelled_at + dt.timedelta(hours=3),
                     cancelled=True, sequence=1),
        FeedOverride(recurrence_id=moved_from, start=moved_to, end=moved_to + dt.timedelta(hours=2),
                     location="Room 12, County Office", sequence=2)))
    text = export(testbed, feed(event))
    [master, *overrides] = vevents(text)
    assert cancelled_at not in [d.astimezone(UTC) for d in master.getrruleset(addRDate=True)]
    assert master.exdate.params["TZID"] == [LA]
    by_id = {o.recurrence_id.value.astimezone(UTC): o for o in overrides}
    assert set(by_id) == {cancelled_at, moved_from}
    assert by_id[cancelled_at].status.value == "CANCELLED"
    moved = by_id[moved_from]
    assert f"RECURRENCE-ID;TZID={LA}:20270112T160000" in text.splitlines()
    assert f"DTSTART;TZID={LA}:20270113T160000" in text.splitlines()
    assert (moved.dtstart.value.astimezone(UTC), moved.dtend.value.astimezone(UTC)) == (
        moved_to, moved_to + dt.timedelta(hours=2))
    assert (moved.location.value, moved.sequence.value, moved.status.value) == (
        "Room 12, County Office", "2", "CONFIRMED")
    assert moved.uid.value == master.uid.value
    expected = sorted([(s, "CONFIRMED") for s in SERIES_UTC if s not in (cancelled_at, moved_from)]
                      + [(moved_to, "CONFIRMED")])
    assert instances(text)["s-1@bay-area.copnet"] == expected


def test_uids_are_stable_and_the_sequence_grows_with_an_update(testbed):
    before = export(testbed, feed(series()))
    after = export(testbed, feed(series(sequence=1, summary="Algebra PLC (new room)",
                                        last_modified=CREATED + dt.timedelta(days=3))))
    [old], [new] = vevents(before), vevents(after)
    assert old.uid.value == new.uid.value == "s-1@bay-area.copnet"
    assert int(new.sequence.value) > int(old.sequence.value)
    assert new.dtstamp.value > old.dtstamp.value
    assert new.last_modified.value.astimezone(UTC) == CREATED + dt.timedelta(days=3)
    assert export(testbed, feed(series())) == before   # nothing changed: the same bytes


def test_a_cancelled_session_is_cancelled_with_all_its_overrides(testbed):
    moved_from = SERIES_UTC[1]
    event = series(sequence=3, cancelled=True, overrides=(
        FeedOverride(recurrence_id=moved_from, start=moved_from + dt.timedelta(hours=1),
                     end=moved_from + dt.timedelta(hours=4), sequence=1),))
    text = export(testbed, feed(event))
    statuses = {e.status.value for e in vevents(text)}
    assert statuses == {"CANCELLED"}
    assert {status for _, status in instances(text)["s-1@bay-area.copnet"]} == {"CANCELLED"}


def test_a_single_session_is_one_event_without_recurrence(testbed):
    start = dt.datetime(2026, 11, 17, 17, 30, tzinfo=UTC)
    single = FeedEvent(uid="s-2@bay-area.copnet", sequence=0, summary="Kick-off", start=start,
                       end=start + dt.timedelta(minutes=90), time_zone=LA, location="Room 4, 12 Main St",
                       overrides=(FeedOverride(recurrence_id=start, start=start, end=start, cancelled=True),))
    [event] = vevents(export(testbed, feed(single)))
    assert not hasattr(event, "rrule") and not hasattr(event, "recurrence_id")
    assert event.dtstart.value.replace(tzinfo=None) == dt.datetime(2026, 11, 17, 9, 30)
    assert event.location.value == "Room 4, 12 Main St"
    assert not hasattr(event, "url") and not hasattr(event, "valarm")


def test_events_in_two_time_zones_each_get_their_zone(testbed):
    chicago = FeedEvent(uid="s-3@bay-area.copnet", sequence=0, summary="Cross-state call",
                        start=dt.datetime(2027, 3, 2, 22, tzinfo=UTC), end=dt.datetime(2027, 3, 2, 23, tzinfo=UTC),
                        time_zone="America/Chicago")
    text = export(testbed, feed(series(), chicago))
    calendar = vobject.readOne(text)
    assert {tz.tzid.value for tz in calendar.vtimezone_list} == {LA, "America/Chicago"}
    assert instances(text)["s-3@bay-area.copnet"] == [(dt.datetime(2027, 3, 2, 22, tzinfo=UTC), "CONFIRMED")]


def test_an_empty_calendar_is_still_a_calendar(testbed):
    calendar = vobject.readOne(export(testbed, feed(time_zone="UTC")))
    assert calendar.x_wr_calname.value == "Bay Area Algebra"
    assert not hasattr(calendar, "vevent") and not hasattr(calendar, "vtimezone")


# -- settings ------------------------------------------------------------------------------------
def test_meeting_links_are_in_the_feed_by_default(testbed):
    [event] = vevents(export(testbed, feed(series())))
    assert event.url.value == MEETING and event.location.value == MEETING
    assert MEETING in event.description.value


def test_a_region_can_keep_meeting_links_out_of_its_feeds(testbed):
    testbed.configure("ics-north", {"include_meeting_links": False})
    moved_from = SERIES_UTC[4]
    event = series(overrides=(FeedOverride(recurrence_id=moved_from, start=moved_from, end=moved_from,
                                           location="https://meet.example.org/other", sequence=1),))
    text = export(testbed, feed(event))
    assert "meet.example.org" not in text
    [master, override] = vevents(text)
    assert not hasattr(master, "url") and not hasattr(master, "location") and not hasattr(override, "location")
    assert master.description.value == "Bring a task.\n\nSession type: Regular convening"
    assert MEETING in export(testbed, feed(event), where=scope("ics-south"))   # another region's feeds keep them


def test_an_alarm_before_each_session_when_a_region_asks_for_one(testbed):
    testbed.configure("ics-north", {"alarm_minutes_before": 30})
    moved_from, cancelled_at = SERIES_UTC[1], SERIES_UTC[2]
    event = series(exdates=(cancelled_at,), overrides=(
        FeedOverride(recurrence_id=moved_from, start=moved_from, end=moved_from + dt.timedelta(hours=1)),
        FeedOverride(recurrence_id=cancelled_at, start=cancelled_at, end=cancelled_at, cancelled=True)))
    events = vevents(export(testbed, feed(event)))
    alarms = {getattr(e, "recurrence_id", None) and e.recurrence_id.value.astimezone(UTC): e.valarm
              for e in events if hasattr(e, "valarm")}
    assert set(alarms) == {None, moved_from}   # the series and the moved one, not the cancelled one
    for alarm in alarms.values():
        assert alarm.action.value == "DISPLAY" and alarm.trigger.value == -dt.timedelta(minutes=30)
    [plain] = vevents(export(testbed, feed(series()), where=scope("ics-south")))
    assert not hasattr(plain, "valarm")


def test_text_with_commas_semicolons_and_accents_reads_back_as_written(testbed):
    summary = "Álgebra, ratios; and “why” — 2nd cycle"
    description = "Line one, with a comma.\nLine two; with a semicolon.\\ and a backslash"
    [event] = vevents(export(testbed, feed(series(summary=summary, description=description, location="Salón 3, Edificio B")),
                             where=scope("ics-south")))
    assert (event.summary.value, event.description.value, event.location.value) == (
        summary, description, "Salón 3, Edificio B")
