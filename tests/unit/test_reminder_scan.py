"""Which reminder lead is due for an occurrence, and the ledger id that makes it go out once."""

import datetime as dt
import types

import pytest

from copnet.kernel.plugin_host import PluginHost
from copnet.kernel.service import ServiceContext
from tests.support import tokens
from copnet.scheduling.directory import Directory
from copnet.scheduling.models import Occurrence
from copnet.scheduling.reminders import ReminderScan, due_leads, reminder_id
from tests.unit.test_directory import Membership
from tests.support.fake_grpc import clients_answered_by

NOW = dt.datetime(2026, 10, 12, 16, 0, tzinfo=dt.UTC)


def starting_in(**delta) -> dt.datetime:
    return NOW + dt.timedelta(**delta)


@pytest.mark.parametrize(("start", "leads", "reminded", "expected"), [
    # Not due yet, due exactly at the lead, due inside it.
    (starting_in(hours=25), (1440,), (), (None, ())),
    (starting_in(hours=24), (1440,), (), (1440, (1440,))),
    (starting_in(hours=2), (1440,), (), (1440, (1440,))),
    # Already reminded for that lead: nothing.
    (starting_in(hours=2), (1440,), (1440,), (None, ())),
    # Two leads, only the longer one due.
    (starting_in(hours=2), (1440, 60), (), (1440, (1440,))),
    # The longer one sent earlier, now the shorter one.
    (starting_in(minutes=45), (1440, 60), (1440,), (60, (60,))),
    # Both due at once (created late, or the service was down): one reminder, the shorter lead,
    # and the longer one is settled with it.
    (starting_in(minutes=45), (1440, 60), (), (60, (1440, 60))),
    # Started, or starting right now: never.
    (NOW, (1440,), (), (None, ())),
    (starting_in(minutes=-5), (1440,), (), (None, ())),
    # A lead that is no longer configured does not matter.
    (starting_in(hours=2), (1440,), (2880,), (1440, (1440,))),
])
def test_due_leads(start, leads, reminded, expected):
    assert due_leads(start, NOW, leads, reminded) == expected


def test_the_ledger_id_names_occurrence_person_and_lead():
    assert reminder_id("s-1:20261013T230000Z", "p-42", 1440) == "s-1:20261013T230000Z|p-42|1440"


def test_a_scan_asks_membership_once_per_community_and_roster_not_once_per_occurrence(monkeypatch):
    membership = Membership()
    directory = Directory(ServiceContext("scheduling", tokens.settings("scheduling"), PluginHost()))
    directory.__dict__["_clients"] = clients_answered_by(
        membership=lambda call: membership.call(call.method, call.request, token=call.token))
    reminded: list[tuple[str, list[str]]] = []
    monkeypatch.setattr(ReminderScan, "emit", lambda self, uow, occurrence, community, people, lead, settled:
                        reminded.append((occurrence.id, people)) or len(people))
    scan = ReminderScan(types.SimpleNamespace(transaction=lambda work: work(None)), directory)
    occurrences = [Occurrence(id=f"s-1:2026101{day}T230000Z", community_id="plc", audience="all_members",
                              facilitator_ids=["fac"]) for day in (3, 4, 5)]
    for occurrence in occurrences:
        scan.remind(occurrence, 1440, (1440,))
    assert [people for _, people in reminded] == [["ana", "ben", "cy", "dee", "fac"]] * 3
    assert membership.calls.count("GetCommunity") == 1
    assert membership.calls.count("ListRegistrations") == 1
