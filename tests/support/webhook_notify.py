"""webhook-notify's test data, shared by its unit and integration tests: events and reminders,
refused URLs, the testbed with the plugin loaded."""

import datetime as dt

import pytest

from copnet import Notification, NotificationPerson
from copnet_plugins.webhook_notify import Settings
from tests.support.destinations import PUBLIC_ADDRESS


REGION = "wh-north"
CREATED = "copnet.membership.registration.created"
REGISTRATION = {"registration": {"id": "reg-1", "community_id": "wh-plc-6-8", "person_id": "wh-teacher-1",
                                 "status": "REGISTRATION_STATUS_CONFIRMED", "sequence": "3"},
                "changed_by": "wh-teacher-1"}
WHEN = dt.datetime(2026, 9, 1, 16, 30, tzinfo=dt.UTC)


def settings(url, **values):
    return Settings(url=url, **values)


REFUSED_URLS = ["http://127.0.0.1:8080/x", "http://10.0.0.1/x", "http://169.254.169.254/latest/meta-data/",
                "http://[::1]:8080/x", "https://192.168.0.10/x", "http://[::ffff:169.254.169.254]/x",
                "http://[fe80::1]/x", "http://0.0.0.0:8080/x", "http://metadata.test/x", "http://mixed.test/x"]


@pytest.fixture
def testbed(plugin_testbed, resolve):
    resolve({"hooks.example.org": [PUBLIC_ADDRESS], "hooks2.example.org": [PUBLIC_ADDRESS],
             "hooks.internal.example.org": ["172.16.5.5"]})
    plugin_testbed.load("webhook-notify")
    return plugin_testbed


STORED = {"url": "https://hooks.example.org/a", "signing_secret": "s3cret-for-hmac"}
REMINDER = "copnet.scheduling.session.reminder"
REMINDER_DATA = {"occurrence": {"id": "s-1:20261013T230000Z", "title": "Algebra PLC"}, "person_id": "wh-teacher-1",
                 "community_name": "Algebra PLC", "lead_minutes": 1440}


def reminder(**values):
    values = {"id": "ev-77", "kind": "session.reminder",
              "person": NotificationPerson("wh-teacher-1", "Ana Lopez", "ana@example.org"),
              "subject": "Reminder: Algebra PLC — Tue Oct 13, 4:00 PM PDT",
              "body": "Algebra PLC.\nWhen: Tue Oct 13, 4:00 – 7:00 PM PDT", "data": REMINDER_DATA,
              "link": "https://meet.example.org/algebra", **values}
    return Notification(**values)

