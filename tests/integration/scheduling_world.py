"""A world for scheduling tests: the sign-up world's organizations plus a program year, program
communities with confirmed members, and a scheduling client. Ids start with the caller's prefix."""

from __future__ import annotations

import datetime as dt

from copnet.kernel.timestamps import timestamp
from copnet.membership.v1 import membership_pb2
from copnet.scheduling.v1 import scheduling_pb2

from tests.integration.signup_world import COMMUNITY_KINDS, STATUS_PATH, World

TZ = "America/Los_Angeles"


def current_program_year(now: dt.datetime | None = None) -> str:
    """The school year (July to June) that `now` falls in, e.g. "2026-27"."""
    now = now or dt.datetime.now(dt.UTC)
    first = now.year if now.month >= 7 else now.year - 1
    return f"{first}-{(first + 1) % 100:02d}"


class SchedulingWorld(World):
    def __init__(self, services, prefix: str):
        super().__init__(services, prefix)
        self.region = f"{prefix}-region"

    def scheduling(self, token: str | None = None):
        """Scheduling's stub, called with `token` (none: anonymous)."""
        return self.services.scheduling(token)

    def program(self, name: str = "program", program_year: str | None = None) -> str:
        program_id = f"{self.prefix}-{name}"
        self.membership(self.admin).CreateProgram(membership_pb2.CreateProgramRequest(
            program_id=program_id, name=name, owner_organization_id=self.region,
            program_year=program_year or current_program_year()))
        return program_id

    def program_community(self, name: str, program_id: str, *, members=(), facilitators=(), capacity: int = 40,
                          kind: str = "plc", status: str = "active") -> str:
        """A community of `program_id` with `members` confirmed, brought to `status` (default active)."""
        community_id = f"{self.prefix}-{name}"
        now = dt.datetime.now(dt.UTC).replace(microsecond=0)
        window = membership_pb2.SignupWindow(open_time=timestamp(now - dt.timedelta(days=1)),
                                             close_time=timestamp(now + dt.timedelta(days=30)))
        self.membership(self.admin).CreateCommunity(membership_pb2.CreateCommunityRequest(
            community_id=community_id, name=name, kind=COMMUNITY_KINDS[kind], host_organization_id=self.district,
            program_id=program_id, capacity=capacity, signup_window=window, facilitator_ids=list(facilitators)))
        self.change_status(community_id, "open")
        for person_id in members:
            self.register(community_id, person_id, token=self.admin)
        path = STATUS_PATH[status]
        self.change_status(community_id, *path[1:] if path[:1] == ("open",) else path)
        return community_id

    def facilitator_token(self, person_id: str) -> str:
        return self.token_of(person_id, "facilitator", self.district)

    def session(self, community_id: str, start: dt.datetime, *, minutes: int = 180, token: str | None = None,
                **fields) -> scheduling_pb2.CreateSessionResponse:
        fields.setdefault("session_type", "regular_convening")
        fields.setdefault("modality", scheduling_pb2.MODALITY_VIRTUAL)
        return self.scheduling(token or self.admin).CreateSession(scheduling_pb2.CreateSessionRequest(
            community_id=community_id, start_time=timestamp(start),
            end_time=timestamp(start + dt.timedelta(minutes=minutes)), **fields))
