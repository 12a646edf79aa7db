"""Which reminder lead is due for an occurrence, and the ledger id that makes it go out once."""

import datetime as dt

import pytest

from copnet.scheduling.reminders import due_leads, reminder_id

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
