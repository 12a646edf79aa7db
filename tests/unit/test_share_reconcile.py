"""The reconcile job's changes: every organization (and the region's record), program and community
as membership lists them now; open communities in the catalog, the rest withdrawn; an entity shared
before and no longer listed withdrawn; cycle counts per organization of district level and above
and program year. (What of these is sent is the ledger's business: test_share_ledger.)"""

from __future__ import annotations

import datetime as dt

from copnet.kernel.service import ServiceContext
from copnet.kernel.settings import load_settings
from copnet.kernel.timestamps import timestamp
from copnet.membership.v1 import membership_pb2
from copnet.reflection.v1 import cycles_pb2
from copnet.share import changes, reconcile

NOW = dt.datetime(2026, 9, 10, 12, tzinfo=dt.UTC)
KIND = membership_pb2


class FakeSources:
    def organizations(self):
        return iter([KIND.Organization(id="ca", name="California", kind=KIND.ORGANIZATION_KIND_STATE),
                     KIND.Organization(id="bay", name="Bay", kind=KIND.ORGANIZATION_KIND_REGION, parent_id="ca"),
                     KIND.Organization(id="d1", name="D1", kind=KIND.ORGANIZATION_KIND_DISTRICT, parent_id="bay"),
                     KIND.Organization(id="s1", name="S1", kind=KIND.ORGANIZATION_KIND_SCHOOL, parent_id="d1")])

    def programs(self):
        return iter([KIND.Program(id="p1", name="P1", owner_organization_id="bay", program_year="2026-27")])

    def communities(self):
        window = KIND.SignupWindow(open_time=timestamp(NOW), close_time=timestamp(NOW + dt.timedelta(days=9)))
        return iter([KIND.Community(id="open", name="Open", status=KIND.COMMUNITY_STATUS_OPEN, capacity=10,
                                    signup_window=window, facilitator_ids=["someone"]),
                     KIND.Community(id="draft", name="Draft", status=KIND.COMMUNITY_STATUS_DRAFT)])

    def cycle_counts(self, organization_id, program_year):
        return cycles_pb2.CycleCounts(organization_id=organization_id, program_year=program_year, act=2, closed=1,
                                      communities=1)


def test_reconcile_lists_everything_and_withdraws_what_is_gone(monkeypatch):
    shared_before = {("directory", "organization:"): {"organization:ca", "organization:moved-away"},
                     ("catalog", "program:"): set(), ("catalog", "community:"): {"community:closed-meanwhile"}}
    monkeypatch.setattr(reconcile, "shared_keys", lambda kind, prefix: shared_before[(kind, prefix)])
    monkeypatch.setattr(changes, "cycle_years_shared", lambda organization_id: {"2025-26"} if organization_id == "d1"
                        else set())
    captured = []
    monkeypatch.setattr(reconcile, "share_all", lambda ctx, found: captured.extend(found) or len(found))
    ctx = ServiceContext("share", load_settings(region="north"), plugins=None)

    reconcile.reconcile(ctx, FakeSources())

    by_key = {(c.kind, c.key): c for c in captured}
    assert len(by_key) == len(captured)  # each entity once
    assert by_key[("directory", "region")].content.region_organization_ids == ["bay"]
    assert {k for k in by_key if k[1].startswith("organization:")} == {
        ("directory", f"organization:{o}") for o in ("ca", "bay", "d1", "s1", "moved-away")}
    assert by_key[("directory", "organization:moved-away")].content is None
    assert by_key[("catalog", "community:open")].content.seats_available == 10
    assert by_key[("catalog", "community:draft")].content is None
    assert by_key[("catalog", "community:closed-meanwhile")].content is None
    assert by_key[("catalog", "program:p1")].content.program_year == "2026-27"
    cycles = {k[1]: c.content for k, c in by_key.items() if k[0] == "cycles"}
    assert set(cycles) == {"ca|2026-27", "bay|2026-27", "d1|2026-27", "d1|2025-26"}
    assert (cycles["d1|2026-27"].cycles_open, cycles["d1|2026-27"].cycles_closed) == (2, 1)
    assert cycles["d1|2026-27"].level == "district"
