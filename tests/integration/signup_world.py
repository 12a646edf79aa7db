"""A small world for sign-up tests: one organization tree, people, open communities, and a look at
the events membership published. Every id starts with the caller's prefix (the stack is shared)."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections import Counter

import grpc
import nats
import pymongo
import pytest
from copnet.events.v1 import events_pb2
from copnet.kernel.errors import details_of
from copnet.kernel.events import CloudEvent, stream_name, subject_for
from copnet.kernel.timestamps import timestamp
from copnet.membership.v1 import membership_pb2

TZ = "America/Los_Angeles"
BANDS = {"k_2": membership_pb2.GRADE_BAND_K_2, "3_5": membership_pb2.GRADE_BAND_3_5, "6_8": membership_pb2.GRADE_BAND_6_8, "9_12": membership_pb2.GRADE_BAND_9_12}
COMMUNITY_KINDS = {"plc": membership_pb2.COMMUNITY_KIND_PLC, "math_team": membership_pb2.COMMUNITY_KIND_MATH_TEAM,
                   "cross_district_team": membership_pb2.COMMUNITY_KIND_CROSS_DISTRICT_TEAM}
STATUSES = {"open": membership_pb2.COMMUNITY_STATUS_OPEN, "closed": membership_pb2.COMMUNITY_STATUS_CLOSED, "active": membership_pb2.COMMUNITY_STATUS_ACTIVE,
            "completed": membership_pb2.COMMUNITY_STATUS_COMPLETED}
# How a new (draft) community reaches each status.
STATUS_PATH = {"draft": (), "open": ("open",), "closed": ("open", "closed"), "active": ("open", "active"),
               "completed": ("open", "active", "completed")}
POSITIONS = {"teacher": membership_pb2.POSITION_TEACHER, "coach": membership_pb2.POSITION_COACH, "specialist": membership_pb2.POSITION_SPECIALIST,
             "site_admin": membership_pb2.POSITION_SITE_ADMIN}


class World:
    """state > region > county > district > two schools, named `<prefix>-...`."""

    def __init__(self, services, prefix: str):
        self.services = services
        self.prefix = prefix
        self.admin = services.token("platform_admin")
        self.county = f"{prefix}-county"
        self.district = f"{prefix}-district"
        self.school = f"{prefix}-school"
        self.other_school = f"{prefix}-school2"
        self.other_county = f"{prefix}-county2"
        for org_id, kind, parent in ((f"{prefix}-state", membership_pb2.ORGANIZATION_KIND_STATE, ""),
                                     (f"{prefix}-region", membership_pb2.ORGANIZATION_KIND_REGION, f"{prefix}-state"),
                                     (self.county, membership_pb2.ORGANIZATION_KIND_COUNTY_OFFICE, f"{prefix}-region"),
                                     (self.other_county, membership_pb2.ORGANIZATION_KIND_COUNTY_OFFICE, f"{prefix}-region"),
                                     (self.district, membership_pb2.ORGANIZATION_KIND_DISTRICT, self.county),
                                     (self.school, membership_pb2.ORGANIZATION_KIND_SCHOOL, self.district),
                                     (self.other_school, membership_pb2.ORGANIZATION_KIND_SCHOOL, self.district)):
            self.membership(self.admin).CreateOrganization(membership_pb2.CreateOrganizationRequest(
                organization_id=org_id, name=org_id, kind=kind, parent_id=parent, time_zone="" if parent else TZ))
        self._mongo = pymongo.MongoClient(services.mongodb_uri)
        self.db = self._mongo[services.settings.database_name("membership")]

    # -- people ------------------------------------------------------------------------------------
    def membership(self, token: str | None = None):
        """Membership's stub, called with `token` (none: anonymous)."""
        return self.services.membership(token)

    def person(self, name: str, *affiliations: tuple[str, str], bands: tuple[str, ...] = ("3_5",)) -> str:
        """A person with (organization, position) affiliations (default: a teacher at the school)."""
        person_id = f"{self.prefix}-{name}"
        self.membership(self.admin).CreatePerson(membership_pb2.CreatePersonRequest(
            person_id=person_id, name=name, email=f"{person_id}@example.org",
            grade_bands=[BANDS[b] for b in bands],
            affiliations=[membership_pb2.Affiliation(organization_id=org, position=POSITIONS[position])
                          for org, position in (affiliations or ((self.school, "teacher"),))]))
        return person_id

    def people(self, count: int, name: str = "t") -> list[str]:
        return [self.person(f"{name}{n}") for n in range(count)]

    def token_of(self, person_id: str, role: str = "member", org: str | None = None) -> str:
        return self.services.token(role, org or self.school, person=person_id)

    # -- communities -------------------------------------------------------------------------------
    def community(self, name: str, capacity: int, *, status: str = "open", opens_in: dt.timedelta = -dt.timedelta(days=1),
                  closes_in: dt.timedelta = dt.timedelta(days=30), soft_deadline_in: dt.timedelta | None = None,
                  positions=(), organization_ids=(), team_composition=(), facilitators=(), kind: str = "plc",
                  host: str | None = None) -> str:
        """A community with a sign-up window around now, brought to `status` (default open)."""
        community_id = f"{self.prefix}-{name}"
        now = dt.datetime.now(dt.UTC).replace(microsecond=0)
        window = membership_pb2.SignupWindow(open_time=timestamp(now + opens_in), close_time=timestamp(now + closes_in))
        if soft_deadline_in is not None:
            window.soft_deadline.CopyFrom(timestamp(now + soft_deadline_in))
        self.membership(self.admin).CreateCommunity(membership_pb2.CreateCommunityRequest(
            community_id=community_id, name=name, kind=COMMUNITY_KINDS[kind], host_organization_id=host or self.district,
            capacity=capacity, signup_window=window, facilitator_ids=list(facilitators),
            eligibility=membership_pb2.Eligibility(positions=[POSITIONS[p] for p in positions], organization_ids=list(organization_ids)),
            team_composition=[membership_pb2.TeamSlot(position=POSITIONS[p], count=c, grade_bands=[BANDS[b] for b in bands])
                              for p, c, bands in team_composition]))
        self.change_status(community_id, *STATUS_PATH[status])
        return community_id

    def change_status(self, community_id: str, *statuses: str) -> None:
        for status in statuses:
            self.membership(self.admin).ChangeCommunityStatus(membership_pb2.ChangeCommunityStatusRequest(id=community_id, status=STATUSES[status]))

    def ledger(self, community_id: str) -> dict:
        doc = self.db.communities.find_one({"_id": community_id})
        return {k: doc[k] for k in ("confirmed_count", "waitlisted_count", "waitlist_entries")}

    def registrations(self, community_id: str) -> list[dict]:
        return list(self.db.registrations.find({"community_id": community_id}).sort("sequence", 1))

    # -- calls -------------------------------------------------------------------------------------
    def register(self, community_id: str, person_id: str = "", token: str | None = None, **fields) -> membership_pb2.Registration:
        token = token or self.token_of(person_id)
        return self.membership(token).Register(membership_pb2.RegisterRequest(community_id=community_id, person_id=person_id, **fields)).registration

    def cancel(self, registration_id: str, token: str) -> membership_pb2.CancelRegistrationResponse:
        return self.membership(token).CancelRegistration(membership_pb2.CancelRegistrationRequest(id=registration_id))

    def manager(self) -> str:
        return self.services.token("county_admin", self.county, person=f"{self.prefix}-manager")

    def close(self) -> None:
        self._mongo.close()


def rpc_error(call, *args, **kwargs):
    with pytest.raises(grpc.RpcError) as raised:
        call(*args, **kwargs)
    return details_of(raised.value)


def check_ledger(world: World, community_id: str) -> dict:
    """The community's counters agree with its registrations, and capacity holds."""
    regs = world.registrations(community_id)
    community = world.db.communities.find_one({"_id": community_id})
    live = [r for r in regs if r["status"] != "cancelled"]
    waiting = [r for r in live if r["status"] == "waitlisted"]
    counted = {"confirmed_count": sum(r["status"] == "confirmed" for r in live),
               "waitlisted_count": len(waiting), "waitlist_entries": len({r["waitlist_ticket"] for r in waiting})}
    assert world.ledger(community_id) == counted
    assert counted["confirmed_count"] <= community["capacity"]
    assert len({r["person_id"] for r in live}) == len(live), "one live registration per person"
    assert sorted(r["sequence"] for r in regs) == list(range(1, len(regs) + 1))
    return counted


def events_about(services, event_type: str, subjects: set[str]) -> dict[str, list[CloudEvent]]:
    """Every `event_type` event in the stream whose subject (entity id) is one of `subjects`."""
    async def go() -> dict[str, list[CloudEvent]]:
        connection = await nats.connect(services.nats_url)
        try:
            subscription = await connection.jetstream().pull_subscribe(
                subject_for(services.settings.region, event_type), stream=stream_name(services.settings.region))
            found: dict[str, list[CloudEvent]] = {}
            while True:
                try:
                    messages = await subscription.fetch(256, timeout=0.5)
                except TimeoutError:   # nats raises its own subclass, or the plain one
                    return found
                for message in messages:
                    event = CloudEvent.from_nats(message.headers, message.data)
                    if event.subject in subjects:
                        found.setdefault(event.subject, []).append(event)
                    await message.ack()
        finally:
            await connection.close()

    return asyncio.run(go())


def wait_for_events(services, event_type: str, subjects: set[str]) -> dict[str, list[CloudEvent]]:
    """Once every subject has its event in the stream, all of them (each subject's once, if right)."""
    found: dict[str, list[CloudEvent]] = {}

    def all_there() -> bool:
        found.clear()
        found.update(events_about(services, event_type, subjects))
        return set(found) == subjects

    services.wait_for(all_there, timeout=30, what=f"{event_type} for {len(subjects)} subjects")
    return found


def times_published(services, event_type: str, subjects: set[str]) -> Counter:
    return Counter({subject: len(events) for subject, events in wait_for_events(services, event_type,
                                                                                 subjects).items()})


def registration_event(services, event_type: str, registration_id: str) -> events_pb2.RegistrationChanged:
    [*_, last] = wait_for_events(services, event_type, {registration_id})[registration_id]
    return last.payload(events_pb2.RegistrationChanged)
