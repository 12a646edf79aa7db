"""The share service's event handlers, on an in-memory unit of work with membership and reflection
answered by a fake: a registration re-shares its community as membership has it now (seats), a
program event shares the program and asks for a reconcile (its year's cycle counts), an
organization event shares it and the region's record, a cycle event counts the host's
organizations of district level and above, and a refused measure shares nothing."""

from __future__ import annotations

from copnet.kernel.events import CloudEvent
from copnet.kernel.service import ServiceContext
from copnet.kernel.settings import load_settings
from copnet.membership.v1 import membership_pb2 as m
from copnet.reflection.v1 import cycles_pb2, measures_pb2
from copnet.share import changes, subscriptions
from copnet.share.v1 import share_pb2

from tests.unit.test_share_ledger import MemoryUow

CTX = ServiceContext("share", load_settings(region="north"), plugins=None)
ORGANIZATIONS = {
    "ca": m.Organization(id="ca", name="California", kind=m.ORGANIZATION_KIND_STATE),
    "north": m.Organization(id="north", name="North", kind=m.ORGANIZATION_KIND_REGION, parent_id="ca"),
    "d1": m.Organization(id="d1", name="D1", kind=m.ORGANIZATION_KIND_DISTRICT, parent_id="north"),
    "s1": m.Organization(id="s1", name="S1", kind=m.ORGANIZATION_KIND_SCHOOL, parent_id="d1"),
}


class FakeSources:
    def __init__(self, ctx):
        self.counted: list[tuple[str, str]] = []

    def community(self, community_id):
        return m.Community(id=community_id, name="Open PLC", status=m.COMMUNITY_STATUS_OPEN, capacity=20,
                           confirmed_count=7, facilitator_ids=["facilitator-1"])

    def program(self, program_id):
        return m.Program(id=program_id, name="Math CoP", program_year="2026-27")

    def organization(self, organization_id):
        return ORGANIZATIONS.get(organization_id)

    def organizations(self, kind=0):
        return iter([o for o in ORGANIZATIONS.values() if not kind or o.kind == kind])

    def programs(self):
        return iter([self.program("p1")])

    def cycle_counts(self, organization_id, program_year):
        self.counted.append((organization_id, program_year))
        return cycles_pb2.CycleCounts(organization_id=organization_id, program_year=program_year, plan=1,
                                      communities=1)


def handlers(monkeypatch, requested: list | None = None):
    requested = [] if requested is None else requested
    monkeypatch.setattr(subscriptions, "Sources", FakeSources)
    monkeypatch.setattr(changes, "cycle_years_shared", lambda organization_id: set())
    found = subscriptions.subscriptions(CTX, on_new_program=lambda: requested.append(True))
    return {subscription.name: subscription for subscription in found}


def event(type: str, subject: str, data: dict, scope=()) -> CloudEvent:
    return CloudEvent(type=type, source="copnet/north/membership", subject=subject, data=data, scope=tuple(scope))


def records(uow: MemoryUow) -> list[share_pb2.SharedRecord]:
    return [e.payload(share_pb2.SharedRecord) for _, e in uow.emitted]


def test_a_registration_shares_its_community_with_the_seats_left(monkeypatch):
    uow = MemoryUow()
    handlers(monkeypatch)["catalog"].handler(uow, event("copnet.membership.registration.created", "r1", {
        "registration": {"id": "r1", "community_id": "c1", "person_id": "teacher-9"}}))
    [record] = records(uow)
    assert (record.kind, record.key, record.community.seats_available) == ("catalog", "community:c1", 13)
    assert "teacher-9" not in str(record) and "facilitator-1" not in str(record)


def test_a_program_event_shares_the_program_and_asks_for_a_reconcile(monkeypatch):
    requested: list = []
    uow = MemoryUow()
    handlers(monkeypatch, requested)["catalog"].handler(uow, event("copnet.membership.program.created", "p1", {}))
    assert [(r.key, r.program.program_year) for r in records(uow)] == [("program:p1", "2026-27")]
    assert requested == [True]


def test_an_organization_event_shares_it_and_the_regions_record(monkeypatch):
    uow = MemoryUow()
    handlers(monkeypatch)["directory"].handler(uow, event("copnet.membership.organization.updated", "d1", {}))
    assert {r.key: r for r in records(uow)}["region"].region_info.region_organization_ids == ["north"]
    assert {r.key for r in records(uow)} == {"organization:d1", "region"}


def test_a_cycle_event_counts_the_hosts_organizations_of_district_level_and_above(monkeypatch):
    uow = MemoryUow()
    handlers(monkeypatch)["cycles"].handler(uow, event("copnet.reflection.cycle.created", "cy1", {
        "cycle_id": "cy1", "community_id": "c1", "program_year": "2025-26"}, scope=("ca", "north", "d1", "s1")))
    assert sorted(r.key for r in records(uow)) == [f"{o}|{y}" for o in ("ca", "d1", "north")
                                                   for y in ("2025-26", "2026-27")]
    assert all(r.cycles.cycles_open == 1 for r in records(uow))


def test_a_measure_below_the_threshold_is_not_shared(monkeypatch):
    uow = MemoryUow()
    message = measures_pb2.AggregatesPublished(
        schema_version=1, region="north", organization_id="d1", level="district", test="t", school_year="2025-26",
        window="spring", version=1, min_cell=11, cells=[measures_pb2.PublishedAggregateCell(
            student_group="all", grade="6", figures=measures_pb2.MeasureFigures(students_tested=4))])
    from google.protobuf import json_format

    handlers(monkeypatch)["measures"].handler(uow, event("copnet.reflection.aggregates.published", "d1",
                                                         json_format.MessageToDict(message)))
    assert uow.emitted == [] and uow.docs == {}
