"""Handing a reminder to the notifiers, through the kernel's plugin host: every enabled notifier gets
it, and one that raises, hangs or returns junk never stops the others."""

import time
import types

import pytest

import copnet
from copnet import Notification, NotificationPerson, hookimpl
from copnet.kernel.events import CloudEvent
from copnet.scheduling import reminders
from copnet.scheduling.reminders import ReminderDelivery
from copnet.testing import scope

REGION = "rd-north"
EVENT = CloudEvent(type="copnet.scheduling.session.reminder", source="copnet/test/scheduling",
                   subject="s-1:20261013T230000Z", data={"person_id": "p-1"}, id="ev-1", scope=scope(REGION))
NOTIFICATION = Notification(id="ev-1", kind="session.reminder", person=NotificationPerson("p-1", "Ana", "ana@x.org"),
                            subject="Reminder: Algebra PLC — Tue Oct 13, 4:00 PM PDT", body="Algebra PLC.")


class Recording:
    def __init__(self, key, received, behaviour=None):
        self.key, self.received, self.behaviour = key, received, behaviour

    def notify(self, notification, settings):
        if self.behaviour == "raise":
            raise RuntimeError("the SMS gateway is down")
        if self.behaviour == "hang":
            time.sleep(5)
        self.received.append((self.key, notification.id))


def plugin(*notifiers):
    """A plugin module whose register_notifiers returns `notifiers`."""
    module = types.ModuleType("notifier_plugin")
    module.COPNET_HOOKSPEC_VERSION = 2
    module.register_notifiers = hookimpl(lambda: list(notifiers))
    return module


@pytest.fixture
def delivery(plugin_testbed):
    plugin_testbed.host.timeout_seconds = 0.3
    return plugin_testbed, ReminderDelivery(types.SimpleNamespace(plugins=plugin_testbed.host), directory=None)


def test_every_enabled_notifier_gets_the_notification(delivery):
    testbed, deliver = delivery
    received = []
    testbed.register(plugin(Recording("email", received), Recording("sms", received)), "two")
    testbed.register(plugin(Recording("chat", received)), "one")
    testbed.register(plugin(Recording("elsewhere", received)), "off-here")
    testbed.configure(REGION, plugin="two")
    testbed.configure(REGION, plugin="one")
    testbed.configure("rd-south", plugin="off-here")
    assert deliver.notify(EVENT, NOTIFICATION) == 3
    assert sorted(received) == [("chat", "ev-1"), ("email", "ev-1"), ("sms", "ev-1")]


def test_a_raising_hanging_or_malformed_notifier_does_not_stop_the_others(delivery, monkeypatch):
    monkeypatch.setattr(reminders, "NOTIFY_BUDGET_SECONDS", 0.5)
    testbed, deliver = delivery
    received = []
    testbed.register(plugin(Recording("broken", received, "raise"), "not a notifier",
                            Recording("email", received)), "mixed")
    testbed.register(plugin(Recording("slow", received, "hang")), "slow")
    testbed.configure(REGION, plugin="mixed")
    testbed.configure(REGION, plugin="slow")
    assert deliver.notify(EVENT, NOTIFICATION) == 1
    assert received == [("email", "ev-1")]
    # Counted against the plugins that failed, in the region whose configuration was in effect.
    assert testbed.host.failures[("mixed", REGION)] == 1
    assert testbed.host.failures[("slow", REGION)] == 1


def test_no_notifier_enabled_means_nothing_is_delivered(delivery):
    testbed, deliver = delivery
    received = []
    testbed.register(plugin(Recording("email", received)), "email")
    assert deliver.notify(EVENT, NOTIFICATION) == 0
    assert received == []


def test_the_notifiers_share_a_time_budget(delivery, monkeypatch):
    """Delivery runs inside the consumer's transaction: once the budget is spent, later notifiers
    are skipped (and logged) rather than making the transaction time out and deliver again."""
    testbed, deliver = delivery
    clock = types.SimpleNamespace(now=0.0)
    monkeypatch.setattr(reminders, "time", types.SimpleNamespace(monotonic=lambda: clock.now))
    received = []

    class Slow(Recording):
        def notify(self, notification, settings):
            clock.now += 4.0   # each takes 4 of the 6 seconds
            super().notify(notification, settings)

    testbed.register(plugin(Slow("first", received), Slow("second", received), Slow("third", received)), "slow")
    testbed.configure(REGION, plugin="slow")
    assert reminders.NOTIFY_BUDGET_SECONDS == copnet.NOTIFY_BUDGET_SECONDS == 6.0
    assert deliver.notify(EVENT, NOTIFICATION) == 2
    assert received == [("first", "ev-1"), ("second", "ev-1")]


def test_a_notifier_may_take_longer_than_the_hook_deadline_within_the_budget(delivery):
    """Delivery is off the request path: an SMTP conversation of a few seconds is fine even though
    requests' hooks are cut off sooner (here 0.3 s)."""
    testbed, deliver = delivery
    received = []

    class Unhurried(Recording):
        def notify(self, notification, settings):
            time.sleep(0.6)
            super().notify(notification, settings)

    testbed.register(plugin(Unhurried("email", received)), "email")
    testbed.configure(REGION, plugin="email")
    assert deliver.notify(EVENT, NOTIFICATION) == 1
    assert received == [("email", "ev-1")]
    assert testbed.host.failures[("email", REGION)] == 0
