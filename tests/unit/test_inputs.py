"""The kernel's input rules: one check, one reason, for every service."""

import datetime as dt
import zoneinfo

import pytest

from copnet.kernel import inputs
from copnet.kernel.errors import InvalidArgument
from copnet.scheduling.v1 import scheduling_pb2

T0 = dt.datetime(2027, 3, 1, 16, tzinfo=dt.UTC)


def field_error(check, *args) -> tuple[str, str]:
    with pytest.raises(InvalidArgument) as raised:
        check(*args)
    return raised.value.fields[0].field, raised.value.reason


def test_a_known_name_is_its_zone():
    assert inputs.zone("America/Los_Angeles") == zoneinfo.ZoneInfo("America/Los_Angeles")
    for name in ("America/Los_Angeles", "UTC", "Pacific/Honolulu"):
        assert inputs.valid_time_zone(name) == name


@pytest.mark.parametrize("name", ["Mars/Olympus", "", "../etc/passwd", "America/Los Angeles", "/etc/passwd"])
def test_an_unknown_name_is_a_field_error_with_one_reason(name):
    with pytest.raises(InvalidArgument) as raised:
        inputs.zone(name, "venue.time_zone", whose="at the host")
    assert raised.value.reason == "UNKNOWN_TIME_ZONE"
    assert [f.field for f in raised.value.fields] == ["venue.time_zone"]
    assert "at the host" in str(raised.value)
    assert field_error(inputs.valid_time_zone, name) == ("time_zone", "UNKNOWN_TIME_ZONE")


def test_a_chosen_id_has_the_id_form_and_none_chosen_is_a_new_one():
    assert inputs.chosen_or_new_id("plc-oct", "session_id") == "plc-oct"
    assert len(inputs.chosen_or_new_id("", "session_id")) == 24
    assert field_error(inputs.chosen_or_new_id, "Has:Colon", "team_id") == ("team_id", "INVALID_FIELD")


def test_labels_are_required_and_known():
    assert inputs.required_label(scheduling_pb2.MilestoneKind, scheduling_pb2.MILESTONE_KIND_SIGNUP_OPENS, "kind") == "signup_opens"
    assert field_error(inputs.required_label, scheduling_pb2.MilestoneKind, 0, "kind") == ("kind", "INVALID_FIELD")
    assert field_error(inputs.required_label, scheduling_pb2.MilestoneKind, 99, "kind") == ("kind", "INVALID_FIELD")
    assert inputs.optional_label(scheduling_pb2.Modality, 0, "modality", "virtual") == "virtual"
    assert inputs.optional_label(scheduling_pb2.Modality, 0, "modality") is None
    assert field_error(inputs.optional_label, scheduling_pb2.Modality, 99, "modality", "virtual") == ("modality", "INVALID_FIELD")


def test_a_text_too_long_has_one_reason_whatever_the_text():
    assert inputs.required_text("  Ana  ", "name") == "Ana"
    assert field_error(inputs.required_text, " ", "name") == ("name", "INVALID_FIELD")
    assert field_error(inputs.required_text, "x" * 201, "name") == ("name", "TOO_LONG")
    assert inputs.optional_line("", "title") == ""
    assert field_error(inputs.optional_line, "x" * 201, "title") == ("title", "TOO_LONG")
    assert inputs.optional_text(" Bring a laptop ", "agenda", 2000) == "Bring a laptop"
    assert field_error(inputs.optional_text, "x" * 2001, "agenda", 2000) == ("agenda", "TOO_LONG")


def test_an_instant_is_kept_to_the_millisecond_and_may_be_required():
    request = scheduling_pb2.CreateMilestoneRequest()
    assert inputs.instant(request, "time") is None
    assert field_error(inputs.required_instant, request, "time") == ("time", "INVALID_FIELD")
    request.time.FromDatetime(T0 + dt.timedelta(microseconds=1999))
    assert inputs.required_instant(request, "time") == T0 + dt.timedelta(milliseconds=1)


@pytest.mark.parametrize("moment", [dt.datetime(1, 1, 1, tzinfo=dt.UTC), dt.datetime(1899, 12, 31, 23, 59, tzinfo=dt.UTC),
                                    dt.datetime(2200, 1, 1, tzinfo=dt.UTC),
                                    dt.datetime(9999, 12, 31, 23, 59, 59, tzinfo=dt.UTC)])
def test_an_instant_outside_1900_to_2200_is_refused_naming_the_field(moment):
    request = scheduling_pb2.RunRemindersRequest()
    request.now.FromDatetime(moment)
    assert field_error(inputs.instant, request, "now") == ("now", "INSTANT_OUT_OF_RANGE")
    assert field_error(inputs.required_instant, request, "now", "window.now") == ("window.now", "INSTANT_OUT_OF_RANGE")
    assert field_error(inputs.in_range, moment, "start_time") == ("start_time", "INSTANT_OUT_OF_RANGE")


def test_a_timestamp_no_datetime_can_hold_is_refused_too():
    request = scheduling_pb2.RunRemindersRequest()
    request.now.seconds = -(10 ** 12)
    assert field_error(inputs.instant, request, "now") == ("now", "INSTANT_OUT_OF_RANGE")


def test_the_range_ends_are_inside_and_outside():
    request = scheduling_pb2.RunRemindersRequest()
    request.now.FromDatetime(inputs.EARLIEST)
    assert inputs.instant(request, "now") == inputs.EARLIEST
    request.now.FromDatetime(inputs.LATEST - dt.timedelta(milliseconds=1))
    assert inputs.instant(request, "now") == inputs.LATEST - dt.timedelta(milliseconds=1)


@pytest.mark.parametrize("name", ["Ana\nBcc: everyone@example.org", "Tab\there", "Null\x00", "Bell\x07", "Del\x7f",
                                  "C1\x85next line", "Line\u2028separator", "Carriage\rreturn"])
def test_a_name_or_title_with_a_control_character_is_refused(name):
    assert field_error(inputs.required_text, name, "name") == ("name", "CONTROL_CHARACTER")
    assert field_error(inputs.optional_line, name, "title") == ("title", "CONTROL_CHARACTER")


def test_a_longer_text_keeps_tabs_and_line_breaks_but_no_other_control_character():
    agenda = "1.\tWelcome\r\n2.\tNumber talks\n3.\tPlanning"
    assert inputs.optional_text(agenda, "agenda", 2000) == agenda
    assert field_error(inputs.optional_text, "Bell\x07", "agenda", 2000) == ("agenda", "CONTROL_CHARACTER")
    assert field_error(inputs.optional_text, "Escape\x1b[31m", "agenda", 2000) == ("agenda", "CONTROL_CHARACTER")


def test_names_in_any_script_pass():
    for name in ("José Núñez", "李小龙", "Zoë O'Brien-Smith", "Ngā Kaiako ✏️"):
        assert inputs.required_text(name, "name") == name
