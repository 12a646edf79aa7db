"""The plugin against an in-process copnet (copnet.testing's fixtures): no servers needed."""

import pytest

import copnet_district_calendar_note as plugin
from copnet.kernel.errors import InvalidArgument
from copnet.testing import event_view, scope


@pytest.fixture
def host(plugin_testbed):
    plugin.NOTES.clear()
    plugin_testbed.register(plugin, "district-calendar-note")
    return plugin_testbed


def test_the_session_type_carries_the_regions_note(host):
    host.configure("region-north", {"note": "No sessions during testing in May.", "default_duration_minutes": 45})
    [session_type] = host.session_types(scope("region-north", "county-lake"))
    assert session_type.key == "district_calendar_review"
    assert session_type.description.endswith("No sessions during testing in May.")
    assert session_type.default_duration_minutes == 45


def test_nothing_is_offered_where_the_plugin_is_not_enabled(host):
    host.configure("region-north")
    host.configure("region-south", enabled=False)
    assert host.session_types(scope("region-south")) == []
    assert host.session_types(scope("region-west")) == []


def test_a_county_office_overrides_its_region(host):
    host.configure("region-north", {"note": "Region note."})
    host.configure("county-lake", {"note": "County note."})
    [session_type] = host.session_types(scope("region-north", "county-lake"))
    assert session_type.description.endswith("County note.")


def test_a_scheduled_session_is_noted_once_per_event(host):
    host.configure("region-north")
    event = event_view(type="copnet.scheduling.session.scheduled", subject="session-1",
                       scope=scope("region-north"))
    host.deliver(event)
    host.deliver(event)  # a redelivery
    assert plugin.NOTES == {"region-north": {event.id: "copnet.scheduling.session.scheduled session-1"}}


def test_events_it_did_not_subscribe_to_are_not_delivered(host):
    host.configure("region-north")
    host.deliver(event_view(type="copnet.membership.registration.confirmed", scope=scope("region-north")))
    assert plugin.NOTES == {}


def test_invalid_settings_are_refused_naming_the_field(host):
    with pytest.raises(InvalidArgument, match="settings.default_duration_minutes"):
        host.configure("region-north", {"default_duration_minutes": 5})


def test_the_secret_is_kept_but_never_shown(host):
    settings = host.configure("region-north", {"calendar_token": "s3cret"})
    assert settings.calendar_token.get_secret_value() == "s3cret"
    assert "s3cret" not in repr(settings)
